"""What staff send in bulk: files of patients, appointments and outcomes (and FHIR
bundles) to import, and a day's outcomes entered on one form.

An uploaded file is stored in the database (never in a URL or a job's arguments), and
an `ImportRun` records it: who sent it, when, what kind, and how the import went. A
worker imports it with the same services the command line uses, telling a progress board
(in Redis) how many rows are done as it goes; the run then keeps the counts and the same
`SOURCE:LINE: FIELD: reason` lines the command line prints, and the file is deleted.
"""
