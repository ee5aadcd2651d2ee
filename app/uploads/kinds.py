"""The kinds of file staff import, and the states of an import run (pure)."""

from __future__ import annotations

import enum


class ImportKind(enum.StrEnum):
    PATIENTS = "patients"  # a patients CSV file
    APPOINTMENTS = "appointments"  # an appointments CSV file
    OUTCOMES = "outcomes"  # an outcomes CSV file
    FHIR = "fhir"  # a FHIR R4 Bundle of Appointment resources (JSON)


class ImportState(enum.StrEnum):
    QUEUED = "queued"  # stored; waiting for a worker
    RUNNING = "running"  # a worker is checking and writing its rows
    IMPORTED = "imported"  # written (rows with problems were left out: see the report)
    REFUSED = "refused"  # strict: some rows had problems, so nothing was written
    FAILED = "failed"  # the file could not be read, or the import stopped: nothing written


#: States a run never leaves.
FINISHED = frozenset({ImportState.IMPORTED, ImportState.REFUSED, ImportState.FAILED})
