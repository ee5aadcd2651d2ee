"""Reads about appointments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.extensions import db


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
