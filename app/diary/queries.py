"""Reads for the diary: a day's appointments at the clinics a staff member may see,
each with its patient and where its reminders stand. Every query goes through the staff
member's scope."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.clinics.scope import StaffScope
from app.core.clock import to_utc
from app.core.imports import chunks
from app.diary.reminders import ReminderStatus, reminder_status
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import OPEN_STATES, MessageState
from app.patients.models import Patient

Rows = Select[*tuple[Any, ...]]
#: The column the staff scope narrows by.
_CLINIC_ID = Appointment.__table__.c.clinic_id
#: Appointments whose reminders no longer matter: cancelled, or withdrawn.
CALLED_OFF = frozenset(
    {
        AppointmentStatus.CANCELLED_PATIENT,
        AppointmentStatus.CANCELLED_CLINIC,
        AppointmentStatus.ENTERED_IN_ERROR,
    }
)
#: The most appointments one day's page lists; a busier day is narrowed by clinic or
#: pathway.
DAY_LIMIT = 500


@dataclass(frozen=True)
class DayAppointment:
    """One appointment of a day's list, with its patient, its clinic and its reminders."""

    appointment: Appointment
    patient: Patient
    clinic: Clinic
    reminder: ReminderStatus
    #: When the next planned reminder is due, if one is waiting to go.
    next_reminder_at: datetime | None


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which `day` starts and ends at a clinic in `zone`."""
    start = to_utc(datetime.combine(day, time()), zone)
    return start, to_utc(datetime.combine(day + timedelta(days=1), time()), zone)


def appointments_on_day(
    scope: StaffScope,
    permission: Permission,
    day: date,
    *,
    clinic_id: int | None = None,
    pathway: str | None = None,
    statuses: Collection[AppointmentStatus] = (),
    limit: int = DAY_LIMIT,
) -> list[DayAppointment]:
    """The appointments on `day` (each clinic's own day, in its own zone) at the clinics
    where `scope` allows `permission` (only `clinic_id`, when given), soonest first.

    Narrowed to one `pathway` and to `statuses` when given; an appointment entered in
    error is never listed (it never happened). At most `limit` are returned.
    """
    clinics = {c.id: c for c in scope.clinics(permission) if clinic_id in (None, c.id)}
    if not clinics:
        return []
    query = _on_day(clinics.values(), day).where(
        Appointment.status != AppointmentStatus.ENTERED_IN_ERROR
    )
    if pathway:
        query = query.where(Appointment.pathway == pathway)
    if statuses:
        query = query.where(Appointment.status.in_(sorted(statuses)))
    query = scope.restrict(query, _CLINIC_ID, permission)
    rows = db.session.execute(query.order_by(Appointment.starts_at, Appointment.id).limit(limit))
    found = [(appointment, patient) for appointment, patient in rows]
    reminders = _reminders_of([appointment.id for appointment, _ in found])
    listed = []
    for appointment, patient in found:
        states = reminders.get(appointment.id, [])
        waiting = [due for state, due in states if state in OPEN_STATES]
        listed.append(
            DayAppointment(
                appointment=appointment,
                patient=patient,
                clinic=clinics[appointment.clinic_id],
                reminder=reminder_status(
                    cancelled=appointment.status in CALLED_OFF,
                    confirmed=appointment.confirmed_at is not None,
                    reminders=(state for state, _ in states),
                ),
                next_reminder_at=min(waiting) if waiting else None,
            )
        )
    return listed


def pathways_on_day(
    scope: StaffScope, permission: Permission, day: date, *, clinic_id: int | None = None
) -> list[str]:
    """The pathways of the appointments on `day` at the clinics where `scope` allows
    `permission` (only `clinic_id`, when given), in order."""
    clinics = [c for c in scope.clinics(permission) if clinic_id in (None, c.id)]
    if not clinics:
        return []
    query = _on_day(clinics, day, select(Appointment.pathway).distinct()).where(
        Appointment.pathway.is_not(None)
    )
    query = scope.restrict(query, _CLINIC_ID, permission)
    return sorted(str(p) for p in db.session.scalars(query))


def _on_day(clinics: Iterable[Clinic], day: date, query: Rows | None = None) -> Rows:
    windows = []
    for clinic in clinics:
        start, end = day_bounds(day, ZoneInfo(clinic.timezone))
        windows.append(
            and_(
                Appointment.clinic_id == clinic.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
        )
    base: Rows = (
        select(Appointment, Patient).join(Patient, Patient.id == Appointment.patient_id)
        if query is None
        else query
    )
    return base.where(or_(*windows))


def _reminders_of(
    appointment_ids: Sequence[int],
) -> dict[int, list[tuple[MessageState, datetime]]]:
    """The states and due times of each appointment's reminders of its current plan."""
    found: dict[int, list[tuple[MessageState, datetime]]] = {}
    for part in chunks(appointment_ids):
        rows = db.session.execute(
            select(Appointment.id, OutboundMessage.state, OutboundMessage.due_at)
            .select_from(OutboundMessage)
            .join(Appointment, Appointment.id == OutboundMessage.appointment_id)
            .where(
                OutboundMessage.appointment_id.in_(part),
                OutboundMessage.kind == MessageKind.REMINDER,
                OutboundMessage.plan_version == Appointment.plan_version,
            )
        )
        for appointment_id, state, due_at in rows:
            found.setdefault(appointment_id, []).append((state, due_at))
    return found
