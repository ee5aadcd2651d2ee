"""The appointment import service: bookings and outcomes from CSV, JSON or FHIR R4.

Three adapters read the input into records (`importers.py` for CSV files and JSON rows,
`fhir.py` for FHIR bundles); this one service checks them against what is stored and
applies them through the appointment commands (`service.py`), so that an import books,
moves, cancels and settles appointments exactly as a reply or staff would.

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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.appointments.fhir import (
    ENTERED_IN_ERROR_SKIPPED,
    FhirAppointmentRecord,
    FhirIssue,
    ImportedStatus,
)
from app.appointments.fhir import parse_appointment_bundle as parse_bundle
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
from app.appointments.service import (
    CANCELLED,
    OUTCOMES,
    NewAppointment,
    book_appointments,
    cancel_by_clinic,
    cancel_by_patient,
    change_pathway,
    move_appointment,
    record_outcome,
    withdraw_appointment,
)
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid
from app.core.imports import (
    WRITE_CHUNK,
    ImportReport,
    Progress,
    RowBatch,
    RowError,
    RowProgress,
    chunks,
    csv_batch,
    json_batch,
)
from app.db import commit_import
from app.extensions import db
from app.patients.service import find_patients_by_external_id

__all__ = [
    "BundleReport",
    "ImportReport",
    "import_appointment_rows",
    "import_appointments_csv",
    "import_fhir_bundle",
    "import_fhir_file",
    "import_outcome_rows",
    "import_outcomes_csv",
]


# -- what an import will do --------------------------------------------------------------


@dataclass(frozen=True)
class _Booking:
    """Create (appointment None) or move an appointment, or change its pathway."""

    external_id: str
    patient_id: int
    starts_at: datetime
    pathway: str | None
    appointment: Appointment | None


@dataclass(frozen=True)
class _Outcome:
    appointment: Appointment
    status: AppointmentStatus
    cancelled_at: datetime | None


@dataclass(frozen=True)
class _Withdrawal:
    """An appointment entered in error, to withdraw."""

    appointment: Appointment


_Change = _Booking | _Outcome | _Withdrawal


def _apply(
    clinic: Clinic,
    changes: Sequence[_Change],
    report: ImportReport,
    clock: Clock,
    done: RowProgress,
) -> None:
    """Apply the checked changes through the appointment commands, and count them.

    Changes go a chunk at a time (each names a different appointment, so the order
    between chunks changes nothing), and `done` is told after each.
    """
    for part in chunks(changes, WRITE_CHUNK):
        new: list[NewAppointment] = []
        for change in part:
            if isinstance(change, _Withdrawal):
                withdraw_appointment(change.appointment.id, clock)
                report.updated += 1
            elif isinstance(change, _Outcome):
                _settle(change, clock)
                report.updated += 1
            elif change.appointment is None:
                new.append(
                    NewAppointment(
                        change.patient_id, change.external_id, change.starts_at, change.pathway
                    )
                )
            else:
                _rebook(clinic, change, change.appointment, report, clock)
        book_appointments(clinic, new, clock)
        report.created += len(new)
        done.advance(len(part))


def _rebook(
    clinic: Clinic, change: _Booking, appointment: Appointment, report: ImportReport, clock: Clock
) -> None:
    changed = False
    if change.pathway is not None:
        changed = change_pathway(appointment, clinic, change.pathway, clock)
    if appointment.starts_at != change.starts_at:
        move_appointment(appointment, clinic, change.starts_at, clock)
        changed = True
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _settle(change: _Outcome, clock: Clock) -> None:
    appointment, status, at = change.appointment, change.status, change.cancelled_at
    if status not in CANCELLED:
        record_outcome(appointment.id, status, clock)
        return
    now = clock.now()
    if appointment.status is AppointmentStatus.BOOKED:
        if status is AppointmentStatus.CANCELLED_PATIENT:
            cancel_by_patient(appointment.id, clock, at)
        else:
            cancel_by_clinic(appointment.id, clock, at)
    elif at is not None:  # the same cancellation, with the time it was made
        appointment.cancelled_at = at
        if status is AppointmentStatus.CANCELLED_PATIENT:
            appointment.cancel_lead_minutes = (appointment.starts_at - at) // timedelta(minutes=1)
    if (
        status is AppointmentStatus.CANCELLED_PATIENT
        and at is None
        and appointment.starts_at <= now
    ):
        appointment.cancel_lead_minutes = None  # learnt of after the start: notice not known
    appointment.updated_at = now


def _finish(
    clinic: Clinic,
    changes: Sequence[_Change],
    report: ImportReport,
    errors: list[RowError],
    *,
    strict: bool,
    clock: Clock,
    done: RowProgress,
) -> ImportReport:
    report.errors = sorted(errors, key=lambda e: (e.line, e.field))
    if strict and report.errors:
        report.imported = False
        return report
    done.leave(len(changes))
    _apply(clinic, changes, report, clock, done)
    commit_import(db.session)
    return report


def _appointments_by_external_id(
    clinic_id: int, external_ids: Sequence[str]
) -> dict[str, Appointment]:
    found: dict[str, Appointment] = {}
    for part in chunks(sorted(set(external_ids))):
        for appointment in db.session.scalars(
            select(Appointment).where(
                Appointment.clinic_id == clinic_id, Appointment.external_id.in_(part)
            )
        ):
            found[appointment.external_id] = appointment
    return found


def _patient_ids(clinic_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    return {p.external_id: p.id for p in find_patients_by_external_id(clinic_id, external_ids)}


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
    patients = _patient_ids(clinic.id, [r.patient_external_id for r in records])
    stored = _appointments_by_external_id(clinic.id, [r.external_id for r in records])
    changes: list[_Change] = []
    for record in records:
        appointment = stored.get(record.external_id)
        patient_id = patients.get(record.patient_external_id)
        field_name, reason = _booking_refusal(record, patient_id, appointment, now)
        if reason:
            row_errors.append(RowError(source, record.line, field_name, reason))
        else:
            assert patient_id is not None
            changes.append(
                _Booking(
                    record.external_id, patient_id, record.starts_at, record.pathway, appointment
                )
            )
    report = ImportReport("appointments")
    errors = batch.errors + row_errors
    return _finish(clinic, changes, report, errors, strict=strict, clock=clock, done=done)


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
    stored = _appointments_by_external_id(clinic.id, [r.external_id for r in records])
    report = ImportReport("outcomes")
    changes: list[_Change] = []
    for record in records:
        verdict = _judge_outcome(record, stored.get(record.external_id), now)
        if isinstance(verdict, _Outcome):
            changes.append(verdict)
        elif verdict == "unchanged":
            report.unchanged += 1
        else:
            row_errors.append(RowError(source, record.line, *verdict))
    errors = batch.errors + row_errors
    return _finish(clinic, changes, report, errors, strict=strict, clock=clock, done=done)


def _judge_outcome(
    record: OutcomeRecord, appointment: Appointment | None, now: datetime
) -> _Outcome | Literal["unchanged"] | tuple[str, str]:
    if appointment is None:
        return "external_id", "no appointment with this external id in this clinic"
    status = AppointmentStatus(record.outcome)
    if _already(appointment, status, record.cancelled_at):
        return "unchanged"
    refusal = _outcome_refusal(appointment, status, now)
    if refusal is not None:
        return "outcome", refusal
    return _Outcome(appointment, status, record.cancelled_at)


def _already(appointment: Appointment, status: AppointmentStatus, at: datetime | None) -> bool:
    if appointment.status is not status:
        return False
    return status not in CANCELLED or at is None or appointment.cancelled_at == at


def _outcome_refusal(
    appointment: Appointment, status: AppointmentStatus, now: datetime
) -> str | None:
    current = appointment.status
    if current is AppointmentStatus.ENTERED_IN_ERROR:
        return "the appointment was entered in error"
    if status in CANCELLED:
        if current in CANCELLED and current is not status:
            return f"the appointment is already {current.value}"
        if current not in CANCELLED and current is not AppointmentStatus.BOOKED:
            return f"the appointment already has the outcome {current.value}"
        return None
    if current in CANCELLED:
        return f"the appointment is {current.value}: a cancellation cannot become {status.value}"
    if appointment.starts_at > now:
        return "the appointment has not started yet"
    return None


# -- FHIR R4 bundles ---------------------------------------------------------------------


@dataclass
class BundleReport(ImportReport):
    """An import report that also lists the entries deliberately left out."""

    skipped: list[FhirIssue] = field(default_factory=list)
    #: The bundle's name in the lines (its file's path, for a file).
    source: str = ""

    def summary(self) -> str:
        return f"{super().summary()}; {len(self.skipped)} skipped"

    def skipped_lines(self) -> list[str]:
        """Each entry left out, as the command line prints it: `SOURCE: skipped PATH: why`."""
        return [f"{self.source}: skipped {issue.path}: {issue.reason}" for issue in self.skipped]

    def error_lines(self) -> list[str]:
        """Each error as the command line prints it: `SOURCE: PATH: reason` (the path
        names the entry)."""
        return [f"{error.source}: {error.field}: {error.reason}" for error in self.errors]

    def lines(self) -> list[str]:
        return [*self.skipped_lines(), *self.error_lines()]


def import_fhir_file(
    path: Path,
    clinic_slug: str,
    *,
    strict: bool,
    clock: Clock,
    source: str | None = None,
    progress: Progress | None = None,
) -> BundleReport:
    """Import a FHIR R4 Bundle of Appointments from a JSON file; commits.

    Errors name the file as `source` (by default its path); `progress` is told the
    entries done as they are checked and written. Raises NotFound for an unknown clinic
    and Invalid for a file that is not UTF-8 JSON.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    name = str(path) if source is None else source
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Invalid(f"{name}: not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"{name}: not valid JSON ({type(exc).__name__})") from None
    return import_fhir_bundle(
        clinic.id, bundle, source=name, strict=strict, clock=clock, progress=progress
    )


def import_fhir_bundle(
    clinic_id: int,
    bundle: object,
    *,
    source: str,
    strict: bool,
    clock: Clock,
    progress: Progress | None = None,
) -> BundleReport:
    """Create, move and settle the clinic's appointments from a FHIR Bundle; commits.

    Booked entries create appointments (with reminders) or move them; fulfilled, noshow
    and cancelled entries record outcomes on appointments already here, and
    entered-in-error entries withdraw them (an outcome or a withdrawal for one never
    booked here is skipped, and listed). Patients must exist: the participant reference
    is the patient's external id. Errors name the entry and its field; the error's
    `line` is the entry's index (-1 for the bundle itself).
    """
    clinic = get_clinic(clinic_id)
    done = RowProgress(_entry_count(bundle), progress)
    done.advance(0)
    parsed = parse_bundle(bundle)
    report = BundleReport("appointments", skipped=list(parsed.skipped), source=source)
    errors = [_fhir_error(source, issue) for issue in parsed.errors]
    now = clock.now()
    records = parsed.records
    named = [r.patient_external_id for r in records if r.patient_external_id is not None]
    patients = _patient_ids(clinic.id, named)
    stored = _appointments_by_external_id(clinic.id, [r.external_id for r in records])
    changes: list[_Change] = []
    for record in records:
        here = f"entry[{record.index}].resource"
        appointment = stored.get(record.external_id)
        verdict: _Change | Literal["unchanged", "skip"] | tuple[str, str]
        if record.status is ImportedStatus.ENTERED_IN_ERROR:
            verdict = _judge_withdrawal(appointment)
        else:
            assert record.patient_external_id is not None  # read for every other status
            patient_id = patients.get(record.patient_external_id)
            verdict = _judge_entry(record, patient_id, appointment, now)
        if isinstance(verdict, _Booking | _Outcome | _Withdrawal):
            changes.append(verdict)
        elif verdict == "unchanged":
            report.unchanged += 1
        elif verdict == "skip" and record.status is ImportedStatus.ENTERED_IN_ERROR:
            path = f"{here}.status"
            report.skipped.append(FhirIssue(record.index, path, ENTERED_IN_ERROR_SKIPPED))
        elif verdict == "skip":
            reason = "an outcome for an appointment never booked here"
            report.skipped.append(FhirIssue(record.index, f"{here}.id", reason))
        else:
            errors.append(RowError(source, record.index, f"{here}.{verdict[0]}", verdict[1]))
    report.skipped.sort(key=lambda issue: issue.index or 0)
    finished = _finish(clinic, changes, report, errors, strict=strict, clock=clock, done=done)
    assert isinstance(finished, BundleReport)
    return finished


def _entry_count(bundle: object) -> int:
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    return len(entries) if isinstance(entries, list) else 0


def _fhir_error(source: str, issue: FhirIssue) -> RowError:
    return RowError(source, -1 if issue.index is None else issue.index, issue.path, issue.reason)


def _judge_withdrawal(
    appointment: Appointment | None,
) -> _Withdrawal | Literal["unchanged", "skip"] | tuple[str, str]:
    if appointment is None:
        return "skip"
    if appointment.status is AppointmentStatus.ENTERED_IN_ERROR:
        return "unchanged"
    if appointment.status in OUTCOMES:
        outcome = appointment.status.value
        return "status", f"entered in error, but the appointment already has the outcome {outcome}"
    return _Withdrawal(appointment)


def _judge_entry(
    record: FhirAppointmentRecord,
    patient_id: int | None,
    appointment: Appointment | None,
    now: datetime,
) -> _Booking | _Outcome | Literal["unchanged", "skip"] | tuple[str, str]:
    outcome = record.status is not ImportedStatus.BOOKED
    if outcome and appointment is None:
        return "skip"
    if patient_id is None:
        return "participant", "no patient with this external id in this clinic"
    if appointment is not None and appointment.patient_id != patient_id:
        return "participant", "the appointment belongs to another patient"
    if outcome:
        assert appointment is not None
        status = AppointmentStatus(record.status.value)
        if _already(appointment, status, record.cancelled_at):
            return "unchanged"
        refusal = _outcome_refusal(appointment, status, now)
        return (
            ("status", refusal) if refusal else _Outcome(appointment, status, record.cancelled_at)
        )
    starts_at = record.starts_at
    assert starts_at is not None  # the parser requires a start for a booked entry
    if appointment is not None and appointment.status is not AppointmentStatus.BOOKED:
        return "status", f"booked, but the appointment is already {appointment.status.value}"
    if appointment is not None and appointment.starts_at == starts_at:
        return "unchanged"
    problem = booking_problem(starts_at, now)
    if problem:
        return "start", problem
    return _Booking(record.external_id, patient_id, starts_at, None, appointment)
