"""Appointments and their outcomes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"  # in the diary; reminders planned
    ATTENDED = "attended"  # the patient came
    DNA = "dna"  # did not attend, without cancelling
    CANCELLED_PATIENT = "cancelled_patient"  # the patient cancelled (lead time recorded)
    CANCELLED_CLINIC = "cancelled_clinic"  # the clinic cancelled
    ENTERED_IN_ERROR = "entered_in_error"  # never happened: withdrawn, counted nowhere


class Appointment(Base):
    """A booked slot for one patient at one clinic."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_id"),
        Index("ix_appointments_patient_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    #: The start instant (UTC); shown in the patient's clinic's zone.
    starts_at: Mapped[datetime] = mapped_column(index=True)
    #: The care pathway, e.g. "physiotherapy" or "pregnancy-loss" (some are never surveyed).
    pathway: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[AppointmentStatus] = mapped_column(
        state_enum(AppointmentStatus, 24),
        default=AppointmentStatus.BOOKED,
    )
    #: Bumped on every move; outbox rows carry the version they were planned for.
    plan_version: Mapped[int] = mapped_column(default=1)
    confirmed_at: Mapped[datetime | None]
    rebook_requested_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    #: Minutes between the cancellation and the appointment start.
    cancel_lead_minutes: Mapped[int | None]
    outcome_recorded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
