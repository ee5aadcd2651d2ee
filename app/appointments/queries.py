"""Reads about appointments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.patients.models import Patient


def pending_appointments(patient_id: int, now: datetime) -> list[Appointment]:
    """The patient's booked appointments that have not started, soonest first."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at > now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def rebook_requests(clinic_id: int) -> list[Appointment]:
    """The clinic's appointments whose patient asked to rebook, oldest request first."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.clinic_id == clinic_id,
                Appointment.rebook_requested_at.is_not(None),
            )
            .order_by(Appointment.rebook_requested_at, Appointment.id)
        )
    )


def appointment_by_external_id(clinic_id: int, external_id: str) -> Appointment | None:
    """The clinic's appointment that its own system calls `external_id`."""
    return db.session.scalar(
        select(Appointment).where(
            Appointment.clinic_id == clinic_id, Appointment.external_id == external_id
        )
    )


def appointments_after(clinic_id: int, after_id: int, limit: int) -> list[Appointment]:
    """Up to `limit` of the clinic's appointments with ids above `after_id`, by id (a
    keyset page: stable while rows are added)."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.clinic_id == clinic_id, Appointment.id > after_id)
            .order_by(Appointment.id)
            .limit(limit)
        )
    )


def reminders_of(appointment_ids: Sequence[int]) -> dict[int, list[OutboundMessage]]:
    """Each appointment's reminders (every plan version), by due time."""
    found: dict[int, list[OutboundMessage]] = {id_: [] for id_ in appointment_ids}
    if not found:
        return found
    rows = db.session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.appointment_id.in_(list(found)),
            OutboundMessage.kind == MessageKind.REMINDER,
        )
        .order_by(OutboundMessage.due_at, OutboundMessage.id)
    )
    for row in rows:
        if row.appointment_id is not None:
            found[row.appointment_id].append(row)
    return found


def patient_external_ids(patient_ids: Sequence[int]) -> dict[int, str]:
    """The clinic's own identifiers of these patients."""
    if not patient_ids:
        return {}
    rows = db.session.execute(
        select(Patient.id, Patient.external_id).where(Patient.id.in_(list(set(patient_ids))))
    )
    return {int(id_): str(external_id) for id_, external_id in rows}
