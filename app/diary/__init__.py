"""The diary: a day's appointments as clinic staff see them.

Each appointment comes with its patient (their name only for staff who may see names)
and one word for where its reminders stand (`reminders.py`). Staff record a past day's
outcomes from it in one go, through the outcome import, so that a form's outcomes are
checked and applied exactly as a file's rows are.
"""
