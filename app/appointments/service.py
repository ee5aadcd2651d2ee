"""Commands on appointments: imports, and what patients' replies and staff change.

Imports check every row first, then write the good rows in one transaction and commit.
A new appointment gets its reminders planned; a changed start time moves it (new plan
version, open reminders cancelled, new ones planned); a row equal to what is stored is
counted as unchanged and not written.

The reply and outcome commands (`confirm_appointment`, `cancel_by_patient`, ...) do not
commit: the caller commits with whatever else it records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.appointments.importers import (
    APPOINTMENT_COLUMNS,
    AppointmentRecord,
    booking_problem,
    validate_appointments,
)
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.core.imports import ImportReport, RowError, SourceRow, chunks, read_csv_file
from app.db import commit_import
from app.extensions import db
from app.patients.service import find_patients_by_external_id
from app.scheduling.service import (
    cancel_open_reminders,
    cancel_survey_invitations,
    move_appointment,
    plan_appointment_reminders,
)

__all__ = [
    "ImportReport",
    "cancel_by_clinic",
    "cancel_by_patient",
    "confirm_appointment",
    "import_appointment_rows",
    "import_appointments_csv",
    "record_outcome",
    "request_rebook",
]

_CANCELLED = frozenset({AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC})
_OUTCOMES = frozenset({AppointmentStatus.ATTENDED, AppointmentStatus.DNA})


def import_appointments_csv(
    path: Path, clinic_slug: str, *, strict: bool, clock: Clock
) -> ImportReport:
    """Import appointments from a CSV file into the clinic `clinic_slug`; commits.

    Columns: external_id, patient_external_id, starts_at. Refuses rows for unknown
    patients, and new or moved start times more than a day in the past or more than two
    years ahead. With `strict`, nothing is written if any row is bad. Raises NotFound for
    an unknown clinic and Invalid for a file that is not UTF-8 CSV.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    rows, errors = read_csv_file(path, APPOINTMENT_COLUMNS, ("pathway",))
    return _import(clinic, rows, errors, source=str(path), strict=strict, clock=clock)


def import_appointment_rows(
    clinic_id: int,
    rows: Sequence[Mapping[str, object]],
    *,
    source: str,
    strict: bool,
    clock: Clock,
) -> ImportReport:
    """Import appointments given as mappings (a JSON body); errors carry 0-based indexes.

    Same rules and same commit as `import_appointments_csv`.
    """
    clinic = get_clinic(clinic_id)
    source_rows = [SourceRow(index, row) for index, row in enumerate(rows)]
    return _import(clinic, source_rows, [], source=source, strict=strict, clock=clock)


@dataclass(frozen=True)
class _Change:
    record: AppointmentRecord
    patient_id: int
    appointment: Appointment | None


def _import(
    clinic: Clinic,
    rows: list[SourceRow],
    errors: list[RowError],
    *,
    source: str,
    strict: bool,
    clock: Clock,
) -> ImportReport:
    records, row_errors = validate_appointments(rows, source=source, zone=ZoneInfo(clinic.timezone))
    changes, db_errors = _plan_changes(clinic.id, records, source, clock.now())
    all_errors = sorted(errors + row_errors + db_errors, key=lambda e: (e.line, e.field))
    report = ImportReport("appointments", errors=all_errors)
    if strict and report.errors:
        report.imported = False
        return report
    _apply(clinic, changes, report, clock)
    commit_import(db.session)
    return report


def _plan_changes(
    clinic_id: int, records: Sequence[AppointmentRecord], source: str, now: datetime
) -> tuple[list[_Change], list[RowError]]:
    """Match records to patients and stored appointments; refuse what cannot be applied."""
    patients = {
        p.external_id: p.id
        for p in find_patients_by_external_id(clinic_id, [r.patient_external_id for r in records])
    }
    stored = _appointments_by_external_id(clinic_id, [r.external_id for r in records])
    changes: list[_Change] = []
    errors: list[RowError] = []
    for record in records:
        appointment = stored.get(record.external_id)
        field, reason = _refusal(record, patients.get(record.patient_external_id), appointment, now)
        if reason:
            errors.append(RowError(source, record.line, field, reason))
        else:
            changes.append(_Change(record, patients[record.patient_external_id], appointment))
    return changes, errors


def _refusal(
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


def _apply(clinic: Clinic, changes: Sequence[_Change], report: ImportReport, clock: Clock) -> None:
    now = clock.now()
    created: list[Appointment] = []
    for change in changes:
        appointment = change.appointment
        if appointment is None:
            created.append(_new_appointment(clinic.id, change, now))
            continue
        if change.record.pathway is not None and appointment.pathway != change.record.pathway:
            appointment.pathway = change.record.pathway
            appointment.updated_at = now
            if appointment.starts_at == change.record.starts_at:
                report.updated += 1
                continue
        if appointment.starts_at != change.record.starts_at:
            move_appointment(appointment, clinic, change.record.starts_at, clock)
            report.updated += 1
        else:
            report.unchanged += 1
    db.session.add_all(created)
    db.session.flush()
    for appointment in created:
        plan_appointment_reminders(appointment, clinic, clock)
    if created:
        from app.attendance.experiments import assign_new_appointments

        db.session.flush()
        assign_new_appointments([a.id for a in created], clock)
    report.created += len(created)


def _new_appointment(clinic_id: int, change: _Change, now: datetime) -> Appointment:
    return Appointment(
        clinic_id=clinic_id,
        patient_id=change.patient_id,
        external_id=change.record.external_id,
        starts_at=change.record.starts_at,
        pathway=change.record.pathway,
        status=AppointmentStatus.BOOKED,
        plan_version=1,
        created_at=now,
        updated_at=now,
    )


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


def get_appointment(appointment_id: int) -> Appointment:
    """The appointment with this id; NotFound if there is none."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return appointment


def _refuse_unless_booked(appointment: Appointment, action: str) -> None:
    if appointment.status is not AppointmentStatus.BOOKED:
        raise Invalid(f"cannot {action} an appointment that is {appointment.status.value}")


def confirm_appointment(appointment_id: int, clock: Clock) -> Appointment:
    """Record that the patient confirmed. The first confirmation's time is kept.

    Refuses (Invalid) an appointment that is no longer booked. Does not commit.
    """
    appointment = get_appointment(appointment_id)
    _refuse_unless_booked(appointment, "confirm")
    if appointment.confirmed_at is None:
        appointment.confirmed_at = appointment.updated_at = clock.now()
    return appointment


def cancel_by_patient(appointment_id: int, clock: Clock) -> Appointment:
    """Cancel at the patient's request, recording the lead time; cancels open reminders.

    A second cancellation by the patient changes nothing. Refuses (Invalid) an
    appointment cancelled by the clinic or with an outcome. Does not commit.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status is AppointmentStatus.CANCELLED_PATIENT:
        return appointment
    _refuse_unless_booked(appointment, "cancel")
    now = clock.now()
    _cancel(appointment, AppointmentStatus.CANCELLED_PATIENT, now)
    # Floor division: a cancellation 59 seconds before the start has 0 minutes' notice,
    # and one after the start a negative lead, which the DNA figures treat as late.
    appointment.cancel_lead_minutes = (appointment.starts_at - now) // timedelta(minutes=1)
    return appointment


def cancel_by_clinic(appointment_id: int, clock: Clock) -> Appointment:
    """Cancel on the clinic's side; cancels open reminders.

    A second cancellation by the clinic changes nothing. Refuses (Invalid) an appointment
    already cancelled by the patient or with an outcome. Does not commit.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status is AppointmentStatus.CANCELLED_CLINIC:
        return appointment
    _refuse_unless_booked(appointment, "cancel")
    _cancel(appointment, AppointmentStatus.CANCELLED_CLINIC, clock.now())
    return appointment


def _cancel(appointment: Appointment, status: AppointmentStatus, now: datetime) -> None:
    appointment.status = status
    appointment.cancelled_at = appointment.updated_at = now
    cancel_open_reminders(appointment.id, now)


def request_rebook(appointment_id: int, clock: Clock) -> Appointment:
    """Record that the patient asked to rebook; staff see it in `rebook_requests`.

    The appointment itself is left as it is: staff decide whether to cancel it. The first
    request's time is kept. Refuses (Invalid) an appointment with an outcome. Does not
    commit.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status in _OUTCOMES:
        raise Invalid(f"cannot rebook an appointment that is {appointment.status.value}")
    if appointment.rebook_requested_at is None:
        appointment.rebook_requested_at = appointment.updated_at = clock.now()
    return appointment


def record_outcome(appointment_id: int, status: AppointmentStatus, clock: Clock) -> Appointment:
    """Record attended, DNA or a cancellation for an appointment.

    ATTENDED and DNA need the appointment to have started; they may correct each other
    but not a cancellation. They cancel any reminder still open. The cancelled statuses
    go through `cancel_by_patient` and `cancel_by_clinic`. Does not commit.
    """
    if status is AppointmentStatus.CANCELLED_PATIENT:
        return cancel_by_patient(appointment_id, clock)
    if status is AppointmentStatus.CANCELLED_CLINIC:
        return cancel_by_clinic(appointment_id, clock)
    if status not in _OUTCOMES:
        raise Invalid(f"{status.value} is not an outcome")
    appointment = get_appointment(appointment_id)
    now = clock.now()
    if appointment.status in _CANCELLED:
        raise Invalid(
            f"cannot record an outcome for an appointment that is {appointment.status.value}"
        )
    if appointment.starts_at > now:
        raise Invalid("cannot record an outcome before the appointment starts")
    previous = appointment.status
    appointment.status = status
    appointment.outcome_recorded_at = appointment.updated_at = now
    cancel_open_reminders(appointment.id, now)
    if status is AppointmentStatus.ATTENDED and previous is not AppointmentStatus.ATTENDED:
        from app.surveys.invitations import plan_invitation

        db.session.flush()
        plan_invitation(appointment.id, clock)
    elif status is AppointmentStatus.DNA:
        cancel_survey_invitations(appointment.id, now)
    return appointment
