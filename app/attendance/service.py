"""Commands on attendance: importing outcomes (CSV, JSON rows, FHIR bundles) and
keeping the report counts current.

Imports check every row or bundle entry first, against the database too, then write
the good ones in one transaction and commit; with `strict` nothing is written if any is
bad. An outcome equal to what is stored counts as unchanged, so an import can be run
twice. An outcome recorded weeks late simply changes the status: reports count from
current data (see `app.attendance.refresh`).

Outcome rules are the appointment service's: attended and DNA need the appointment to
have started and may correct each other, but never turn a cancellation into an outcome
or the reverse. A patient cancellation given with its time gets its notice from that
time; one without a time gets the time of the import, and no notice at all when the
appointment had already started (the notice is then not known).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.appointments.fhir import FhirAppointmentRecord, FhirIssue, ImportedStatus
from app.appointments.fhir import parse_appointment_bundle as parse_bundle
from app.appointments.importers import booking_problem
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import cancel_by_clinic, cancel_by_patient, record_outcome
from app.attendance import models as _models  # noqa: F401 (tables known to create_all)
from app.attendance.experiments import assign_new_appointments
from app.attendance.importers import (
    OUTCOME_COLUMNS,
    OUTCOME_OPTIONAL_COLUMNS,
    OutcomeRecord,
    validate_outcomes,
)
from app.attendance.periods import months_from, next_month
from app.attendance.queries import organisation_totals, report_cells
from app.attendance.refresh import Refreshed, refresh
from app.attendance.reports import AttendanceReport, build_report
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid
from app.core.imports import ImportReport, RowError, SourceRow, chunks, read_csv_file
from app.db import commit_import
from app.extensions import db
from app.patients.service import find_patients_by_external_id
from app.scheduling.service import move_appointment, plan_appointment_reminders

__all__ = [
    "BundleReport",
    "attendance_report",
    "import_fhir_bundle",
    "import_fhir_file",
    "import_outcome_rows",
    "import_outcomes_csv",
    "refresh_counts",
]

#: The longest period one report covers.
MAX_REPORT_MONTHS = 120
_CANCELLED = frozenset({AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC})


def import_outcomes_csv(
    path: Path, clinic_slug: str, *, strict: bool, clock: Clock
) -> ImportReport:
    """Record outcomes from a CSV file for the clinic `clinic_slug`; commits.

    Columns: external_id, outcome and optionally cancelled_at. Raises NotFound for an
    unknown clinic and Invalid for a file that is not UTF-8 CSV.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    rows, errors = read_csv_file(path, OUTCOME_COLUMNS, OUTCOME_OPTIONAL_COLUMNS)
    return _import_outcomes(clinic, rows, errors, source=str(path), strict=strict, clock=clock)


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
    source_rows = [SourceRow(index, row) for index, row in enumerate(rows)]
    return _import_outcomes(clinic, source_rows, [], source=source, strict=strict, clock=clock)


@dataclass(frozen=True)
class _Outcome:
    appointment: Appointment
    status: AppointmentStatus
    cancelled_at: datetime | None


def _import_outcomes(
    clinic: Clinic,
    rows: list[SourceRow],
    errors: list[RowError],
    *,
    source: str,
    strict: bool,
    clock: Clock,
) -> ImportReport:
    now = clock.now()
    zone = ZoneInfo(clinic.timezone)
    records, row_errors = validate_outcomes(rows, source=source, zone=zone, now=now)
    stored = _appointments_by_external_id(clinic.id, [r.external_id for r in records])
    report = ImportReport("outcomes")
    changes: list[_Outcome] = []
    for record in records:
        verdict = _judge_row(record, stored.get(record.external_id), now)
        if isinstance(verdict, _Outcome):
            changes.append(verdict)
        elif verdict == "unchanged":
            report.unchanged += 1
        else:
            row_errors.append(RowError(source, record.line, *verdict))
    report.errors = sorted(errors + row_errors, key=lambda e: (e.line, e.field))
    if strict and report.errors:
        report.imported = False
        return report
    for change in changes:
        _record(change, clock)
    report.updated = len(changes)
    commit_import(db.session)
    return report


def _judge_row(
    record: OutcomeRecord, appointment: Appointment | None, now: datetime
) -> _Outcome | Literal["unchanged"] | tuple[str, str]:
    if appointment is None:
        return "external_id", "no appointment with this external id in this clinic"
    status = AppointmentStatus(record.outcome)
    if _already(appointment, status, record.cancelled_at):
        return "unchanged"
    refusal = _refusal(appointment, status, now)
    if refusal is not None:
        return "outcome", refusal
    return _Outcome(appointment, status, record.cancelled_at)


def _already(appointment: Appointment, status: AppointmentStatus, at: datetime | None) -> bool:
    if appointment.status is not status:
        return False
    return status not in _CANCELLED or at is None or appointment.cancelled_at == at


def _refusal(appointment: Appointment, status: AppointmentStatus, now: datetime) -> str | None:
    current = appointment.status
    if status in _CANCELLED:
        if current in _CANCELLED and current is not status:
            return f"the appointment is already {current.value}"
        if current not in _CANCELLED and current is not AppointmentStatus.BOOKED:
            return f"the appointment already has the outcome {current.value}"
        return None
    if current in _CANCELLED:
        return f"the appointment is {current.value}: a cancellation cannot become {status.value}"
    if appointment.starts_at > now:
        return "the appointment has not started yet"
    return None


def _record(change: _Outcome, clock: Clock) -> None:
    appointment, status = change.appointment, change.status
    if status not in _CANCELLED:
        record_outcome(appointment.id, status, clock)
        return
    if appointment.status is AppointmentStatus.BOOKED:
        cancel = (
            cancel_by_patient if status is AppointmentStatus.CANCELLED_PATIENT else cancel_by_clinic
        )
        cancel(appointment.id, clock)
    now = clock.now()
    if change.cancelled_at is not None:
        appointment.cancelled_at = change.cancelled_at
    if status is AppointmentStatus.CANCELLED_PATIENT:
        appointment.cancel_lead_minutes = _notice_minutes(appointment, change.cancelled_at, now)
    appointment.updated_at = now


def _notice_minutes(appointment: Appointment, at: datetime | None, now: datetime) -> int | None:
    if at is not None:
        return (appointment.starts_at - at) // timedelta(minutes=1)
    if appointment.starts_at <= now:
        return None  # learnt of after the start: when the patient cancelled is not known
    return appointment.cancel_lead_minutes


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


@dataclass
class BundleReport(ImportReport):
    """An import report that also lists the entries deliberately left out."""

    skipped: list[FhirIssue] = field(default_factory=list)

    def summary(self) -> str:
        return f"{super().summary()}; {len(self.skipped)} skipped"


def import_fhir_file(path: Path, clinic_slug: str, *, strict: bool, clock: Clock) -> BundleReport:
    """Import a FHIR R4 Bundle of Appointments from a JSON file; commits.

    Raises NotFound for an unknown clinic and Invalid for a file that is not UTF-8 JSON.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Invalid(f"{path}: not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"{path}: not valid JSON ({type(exc).__name__})") from None
    return import_fhir_bundle(clinic.id, bundle, source=str(path), strict=strict, clock=clock)


Kind = Literal["create", "move", "outcome"]


@dataclass(frozen=True)
class _Entry:
    record: FhirAppointmentRecord
    kind: Kind
    patient_id: int
    appointment: Appointment | None


def import_fhir_bundle(
    clinic_id: int, bundle: object, *, source: str, strict: bool, clock: Clock
) -> BundleReport:
    """Create, move and settle the clinic's appointments from a FHIR Bundle; commits.

    Booked entries create appointments (with reminders) or move them; fulfilled, noshow
    and cancelled entries record outcomes on appointments already here (an outcome for
    one never booked here is skipped, and listed). Patients must exist: the participant
    reference is the patient's external id. Errors name the entry and its field; the
    error's `line` is the entry's index (-1 for the bundle itself).
    """
    clinic = get_clinic(clinic_id)
    parsed = parse_bundle(bundle)
    report = BundleReport("appointments", skipped=list(parsed.skipped))
    errors = [_fhir_error(source, issue) for issue in parsed.errors]
    entries = _plan_entries(clinic.id, parsed.records, report, errors, source, clock.now())
    report.errors = sorted(errors, key=lambda e: (e.line, e.field))
    if strict and report.errors:
        report.imported = False
        return report
    _apply_entries(clinic, entries, report, clock)
    commit_import(db.session)
    return report


def _fhir_error(source: str, issue: FhirIssue) -> RowError:
    return RowError(source, -1 if issue.index is None else issue.index, issue.path, issue.reason)


def _plan_entries(
    clinic_id: int,
    records: Sequence[FhirAppointmentRecord],
    report: BundleReport,
    errors: list[RowError],
    source: str,
    now: datetime,
) -> list[_Entry]:
    patients = {
        p.external_id: p.id
        for p in find_patients_by_external_id(clinic_id, [r.patient_external_id for r in records])
    }
    stored = _appointments_by_external_id(clinic_id, [r.external_id for r in records])
    entries: list[_Entry] = []
    for record in records:
        here = f"entry[{record.index}].resource"
        verdict = _judge_entry(
            record, patients.get(record.patient_external_id), stored.get(record.external_id), now
        )
        if isinstance(verdict, _Entry):
            entries.append(verdict)
        elif verdict == "unchanged":
            report.unchanged += 1
        elif verdict == "skip":
            reason = "an outcome for an appointment never booked here"
            report.skipped.append(FhirIssue(record.index, f"{here}.id", reason))
        else:
            errors.append(RowError(source, record.index, f"{here}.{verdict[0]}", verdict[1]))
    return entries


def _judge_entry(
    record: FhirAppointmentRecord,
    patient_id: int | None,
    appointment: Appointment | None,
    now: datetime,
) -> _Entry | Literal["unchanged", "skip"] | tuple[str, str]:
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
        refusal = _refusal(appointment, status, now)
        return (
            ("status", refusal) if refusal else _Entry(record, "outcome", patient_id, appointment)
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
    return _Entry(record, "create" if appointment is None else "move", patient_id, appointment)


def _apply_entries(
    clinic: Clinic, entries: Sequence[_Entry], report: BundleReport, clock: Clock
) -> None:
    now = clock.now()
    created: list[Appointment] = []
    for entry in entries:
        record, appointment = entry.record, entry.appointment
        if appointment is None:
            created.append(_new_appointment(clinic.id, entry, now))
        elif entry.kind == "move" and record.starts_at is not None:
            move_appointment(appointment, clinic, record.starts_at, clock)
        else:
            status = AppointmentStatus(record.status.value)
            _record(_Outcome(appointment, status, record.cancelled_at), clock)
    db.session.add_all(created)
    db.session.flush()
    for appointment in created:
        plan_appointment_reminders(appointment, clinic, clock)
    db.session.flush()
    assign_new_appointments([appointment.id for appointment in created], clock)
    report.created += len(created)
    report.updated += len(entries) - len(created)


def _new_appointment(clinic_id: int, entry: _Entry, now: datetime) -> Appointment:
    assert entry.record.starts_at is not None
    return Appointment(
        clinic_id=clinic_id,
        patient_id=entry.patient_id,
        external_id=entry.record.external_id,
        starts_at=entry.record.starts_at,
        status=AppointmentStatus.BOOKED,
        plan_version=1,
        created_at=now,
        updated_at=now,
    )


def refresh_counts(required: Mapping[int, Sequence[date]], clock: Clock) -> Refreshed:
    """Bring the report counts up to date (see `cells.refresh`) and commit."""
    refreshed = refresh(required, clock.now())
    db.session.commit()
    return refreshed


def attendance_report(clinic_slug: str, first: date, last: date, clock: Clock) -> AttendanceReport:
    """The DNA report for a clinic over the whole months from `first` to `last`.

    Brings the counts of every clinic of its organisation up to date first (commits),
    then reads them. Raises NotFound for an unknown clinic and Invalid for a bad period.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    if last < first:
        raise Invalid("the period ends before it starts")
    months = months_from(first, last)
    if len(months) > MAX_REPORT_MONTHS:
        raise Invalid(f"the period covers {len(months)} months; at most {MAX_REPORT_MONTHS}")
    clinic_ids = db.session.scalars(
        select(Clinic.id).where(Clinic.organisation_id == clinic.organisation_id)
    ).all()
    refresh_counts(dict.fromkeys(clinic_ids, months), clock)
    cells = report_cells(clinic.id, months)
    totals = organisation_totals(clinic.organisation_id, months[0], next_month(months[-1]))
    return build_report(clinic.slug, months, cells, totals)
