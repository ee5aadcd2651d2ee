"""The appointment import service: bookings and outcomes from CSV, JSON or FHIR R4.

Three adapters read the input into records (`importers.py` for CSV files and JSON rows,
`fhir.py` for FHIR bundles); this module checks the CSV and JSON ones against what is
stored, `fhir_imports` the FHIR ones, and both apply them through `import_changes`, so
that an import books, moves, cancels and settles appointments exactly as a reply or
staff would.

Every record is checked first, against the database too; then the good ones are written
in one transaction and committed. With `strict`, nothing is written if any is bad. A
record equal to what is stored counts as unchanged, so an import can be run twice.

- A booking creates an appointment (planning its reminders) or moves it (a new plan).
  A new or moved start may be at most a day in the past and two years ahead.
- An outcome follows the appointment rules: attended and DNA need the appointment to
  have started and may correct each other, but never turn a cancellation into an
  outcome or the reverse. An outcome recorded weeks late simply changes the status.
- A patient cancellation given with its time gets its notice from that time; one
  without a time gets the time of the import, and no notice at all when the
  appointment had already started (the notice is then not known).
- A FHIR entered-in-error entry withdraws the appointment if it is here and booked or
  cancelled (its pending reminders go; it then counts in no attendance figure); one
  for an appointment never imported here is skipped, and one for an appointment with
  an outcome is refused. Nothing else can change a withdrawn appointment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from app.appointments.import_changes import (
    Booking,
    Change,
    Outcome,
    already_recorded,
    appointments_by_external_id,
    finish_import,
    outcome_refusal,
    patient_ids,
)
from app.appointments.importers import (
    APPOINTMENT_COLUMNS,
    OUTCOME_COLUMNS,
    OUTCOME_OPTIONAL_COLUMNS,
    AppointmentRecord,
    OutcomeRecord,
    booking_problem,
    validate_appointments,
    validate_outcomes,
)
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core.clock import Clock
from app.core.imports import (
    ImportReport,
    Progress,
    RowBatch,
    RowError,
    RowProgress,
    csv_batch,
    json_batch,
)

__all__ = [
    "ImportReport",
    "import_appointment_rows",
    "import_appointments_csv",
    "import_outcome_rows",
    "import_outcomes_csv",
]


# -- bookings from CSV and JSON ----------------------------------------------------------


def import_appointments_csv(
    path: Path,
    clinic_slug: str,
    *,
    strict: bool,
    clock: Clock,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import appointments from a CSV file into the clinic `clinic_slug`; commits.

    Columns: external_id, patient_external_id, starts_at and optionally pathway. Refuses
    rows for unknown patients. Errors name the file as `source` (by default its path);
    `progress` is told the rows done as they are checked and written. Raises NotFound
    for an unknown clinic and Invalid for a file that is not UTF-8 CSV.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    batch = csv_batch(path, APPOINTMENT_COLUMNS, ("pathway",), source)
    return _import_bookings(clinic, batch, strict=strict, clock=clock, progress=progress)


def import_appointment_rows(
    clinic_id: int,
    rows: Sequence[Mapping[str, object]],
    *,
    source: str,
    strict: bool,
    clock: Clock,
) -> ImportReport:
    """Import appointments given as mappings (a JSON body); errors carry 0-based indexes."""
    clinic = get_clinic(clinic_id)
    return _import_bookings(clinic, json_batch(rows, source), strict=strict, clock=clock)


def _import_bookings(
    clinic: Clinic,
    batch: RowBatch,
    *,
    strict: bool,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportReport:
    source, zone = batch.source, ZoneInfo(clinic.timezone)
    done = RowProgress(batch.size, progress)
    done.advance(0)
    records, row_errors = validate_appointments(batch.rows, source=source, zone=zone)
    now = clock.now()
    patients = patient_ids(clinic.id, [r.patient_external_id for r in records])
    stored = appointments_by_external_id(clinic.id, [r.external_id for r in records])
    changes: list[Change] = []
    for record in records:
        appointment = stored.get(record.external_id)
        patient_id = patients.get(record.patient_external_id)
        field_name, reason = _booking_refusal(record, patient_id, appointment, now)
        if reason:
            row_errors.append(RowError(source, record.line, field_name, reason))
        else:
            assert patient_id is not None
            changes.append(
                Booking(
                    record.external_id, patient_id, record.starts_at, record.pathway, appointment
                )
            )
    report = ImportReport("appointments")
    errors = batch.errors + row_errors
    return finish_import(clinic, changes, report, errors, strict=strict, clock=clock, done=done)


def _booking_refusal(
    record: AppointmentRecord,
    patient_id: int | None,
    appointment: Appointment | None,
    now: datetime,
) -> tuple[str, str | None]:
    if patient_id is None:
        return "patient_external_id", "no patient with this external id in this clinic"
    if appointment is None:
        return "starts_at", booking_problem(record.starts_at, now)
    if appointment.patient_id != patient_id:
        return "patient_external_id", "the appointment belongs to another patient"
    if appointment.starts_at == record.starts_at:
        return "", None
    if appointment.status is not AppointmentStatus.BOOKED:
        return "starts_at", f"cannot move an appointment that is {appointment.status.value}"
    return "starts_at", booking_problem(record.starts_at, now)


# -- outcomes from CSV and JSON ----------------------------------------------------------


def import_outcomes_csv(
    path: Path,
    clinic_slug: str,
    *,
    strict: bool,
    clock: Clock,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Record outcomes from a CSV file for the clinic `clinic_slug`; commits.

    Columns: external_id, outcome and optionally cancelled_at. Errors name the file as
    `source` (by default its path); `progress` is told the rows done as they are checked
    and written. Raises NotFound for an unknown clinic and Invalid for a file that is not
    UTF-8 CSV.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    batch = csv_batch(path, OUTCOME_COLUMNS, OUTCOME_OPTIONAL_COLUMNS, source)
    return _import_outcomes(clinic, batch, strict=strict, clock=clock, progress=progress)


def import_outcome_rows(
    clinic_id: int,
    rows: Sequence[Mapping[str, object]],
    *,
    source: str,
    strict: bool,
    clock: Clock,
) -> ImportReport:
    """Record outcomes given as mappings (a JSON body); errors carry 0-based indexes."""
    clinic = get_clinic(clinic_id)
    return _import_outcomes(clinic, json_batch(rows, source), strict=strict, clock=clock)


def _import_outcomes(
    clinic: Clinic,
    batch: RowBatch,
    *,
    strict: bool,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportReport:
    now, source, zone = clock.now(), batch.source, ZoneInfo(clinic.timezone)
    done = RowProgress(batch.size, progress)
    done.advance(0)
    records, row_errors = validate_outcomes(batch.rows, source=source, zone=zone, now=now)
    stored = appointments_by_external_id(clinic.id, [r.external_id for r in records])
    report = ImportReport("outcomes")
    changes: list[Change] = []
    for record in records:
        verdict = _judge_outcome(record, stored.get(record.external_id), now)
        if isinstance(verdict, Outcome):
            changes.append(verdict)
        elif verdict == "unchanged":
            report.unchanged += 1
        else:
            row_errors.append(RowError(source, record.line, *verdict))
    errors = batch.errors + row_errors
    return finish_import(clinic, changes, report, errors, strict=strict, clock=clock, done=done)


def _judge_outcome(
    record: OutcomeRecord, appointment: Appointment | None, now: datetime
) -> Outcome | Literal["unchanged"] | tuple[str, str]:
    if appointment is None:
        return "external_id", "no appointment with this external id in this clinic"
    status = AppointmentStatus(record.outcome)
    if already_recorded(appointment, status, record.cancelled_at):
        return "unchanged"
    refusal = outcome_refusal(appointment, status, now)
    if refusal is not None:
        return "outcome", refusal
    return Outcome(appointment, status, record.cancelled_at)
