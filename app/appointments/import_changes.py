"""What an appointment import does, once its records are checked: the changes, and how
they are applied.

The CSV and JSON adapters (`imports`) and the FHIR one (`fhir_imports`) each judge their
records against what is stored and hand the changes that pass to `finish_import`: with
`strict` and any error nothing is written; otherwise the changes go through the
appointment commands (`service.py`), a chunk at a time, in one transaction, and commit.
So an import books, moves, cancels and settles appointments exactly as a reply or staff
would. The outcome rules every adapter shares are here too: `already_recorded` (the
same outcome again is unchanged) and `outcome_refusal` (what an outcome may not change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import (
    CANCELLED,
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
from app.core.clock import Clock
from app.core.imports import WRITE_CHUNK, ImportReport, RowError, RowProgress, chunks
from app.db import commit_import
from app.extensions import db
from app.patients.service import find_patients_by_external_id


@dataclass(frozen=True)
class Booking:
    """Create (appointment None) or move an appointment, or change its pathway."""

    external_id: str
    patient_id: int
    starts_at: datetime
    pathway: str | None
    appointment: Appointment | None


@dataclass(frozen=True)
class Outcome:
    appointment: Appointment
    status: AppointmentStatus
    cancelled_at: datetime | None


@dataclass(frozen=True)
class Withdrawal:
    """An appointment entered in error, to withdraw."""

    appointment: Appointment


Change = Booking | Outcome | Withdrawal


def _apply(
    clinic: Clinic,
    changes: Sequence[Change],
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
            if isinstance(change, Withdrawal):
                withdraw_appointment(change.appointment.id, clock)
                report.updated += 1
            elif isinstance(change, Outcome):
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
    clinic: Clinic, change: Booking, appointment: Appointment, report: ImportReport, clock: Clock
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


def _settle(change: Outcome, clock: Clock) -> None:
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


def finish_import(
    clinic: Clinic,
    changes: Sequence[Change],
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


def appointments_by_external_id(
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


def patient_ids(clinic_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    return {p.external_id: p.id for p in find_patients_by_external_id(clinic_id, external_ids)}


def already_recorded(
    appointment: Appointment, status: AppointmentStatus, at: datetime | None
) -> bool:
    if appointment.status is not status:
        return False
    return status not in CANCELLED or at is None or appointment.cancelled_at == at


def outcome_refusal(
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
