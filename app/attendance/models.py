"""Experiments on reminder wording, and the monthly attendance counts reports read."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.appointments.models import Appointment
from app.db import Base, state_enum
from app.messaging.models import OutboundMessage
from app.patients.models import Patient


class ExperimentStatus(enum.StrEnum):
    RUNNING = "running"  # assigning appointments; the arms' wording goes out
    STOPPED = "stopped"  # ended without adopting arm B; reminders use the usual wording
    SHIPPED = "shipped"  # ended with arm B judged better; reminders use the usual wording


class Experiment(Base):
    """A randomised comparison of reminder wordings, fixed in advance.

    `arms` is a list of {"name", "weight", "reminder": {locale: text}}; the first arm is
    the control. An arm without a text for a locale sends the usual reminder there.
    """

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Ids of the clinics in scope; each clinic is a stratum of the randomisation.
    clinic_ids: Mapped[list[int]] = mapped_column(JSON)
    #: Key of the assignment hash: the same seed always gives the same arms.
    seed: Mapped[str] = mapped_column(String(64))
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Always "dna": the share of attended-or-DNA appointments that were DNA.
    primary_outcome: Mapped[str] = mapped_column(String(16), default="dna")
    planned_n_per_arm: Mapped[int]
    alpha: Mapped[float]
    power: Mapped[float]
    #: The DNA rate expected with the control wording, and the smallest reduction sought.
    baseline: Mapped[float]
    min_difference: Mapped[float]
    #: Analyses planned, the final one included (interim looks use alpha spending).
    looks: Mapped[int]
    status: Mapped[ExperimentStatus] = mapped_column(
        state_enum(ExperimentStatus, 16), default=ExperimentStatus.RUNNING
    )
    #: Appointments starting at or after this instant are eligible.
    starts_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ExperimentAssignment(Base):
    """The arm an appointment was randomised to; written once, never changed.

    No foreign keys, on purpose: assignments are written a million at a time with COPY,
    and PostgreSQL checks foreign keys row by row (17 s instead of 2.4 s per million
    rows in bench/attendance.py). The ids are read from `appointments` in the same
    transaction, with the experiment's row locked, so they exist when written.
    """

    __tablename__ = "experiment_assignments"

    #: First in the key: reminders look up their appointment's arm (see `wording`).
    appointment_id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(primary_key=True)
    #: The stratum: the appointment's clinic.
    clinic_id: Mapped[int]
    arm: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime]


class ExperimentDecision(Base):
    """An analysis recorded at a look: the decision, its reasons and its numbers."""

    __tablename__ = "experiment_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    #: "continue", "stop" or "ship" (see experiments_core.decide).
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    #: Per-arm counts and the comparison of B with A, as the analysis printed them.
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The smaller arm's analysed n, and its share of the planned n (this look's fraction).
    n_per_arm: Mapped[int]
    information_fraction: Mapped[float]
    decided_at: Mapped[datetime]


class AttendanceCell(Base):
    """Counts of one clinic-day's appointments at one level of one breakdown.

    A cell counts the appointments starting that day (in the clinic's time zone) that
    have an outcome or a cancellation, and the booked ones whose patient asked to
    rebook. Levels are stored raw (birth year, ethnic code) and grouped when read, so a
    change of grouping needs no rebuild. See `app.attendance.cells`.
    """

    __tablename__ = "attendance_cells"
    __table_args__ = (
        # The funnel plot reads the "all" cells of every clinic of an organisation.
        Index(
            "ix_attendance_cells_all",
            "clinic_id",
            "day",
            postgresql_where=text("dimension = 'all'"),
            sqlite_where=text("dimension = 'all'"),
            postgresql_include=["attended", "dna"],
        ),
    )

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: "all", "birth_year", "sex", "ethnic", "imd", "locale", "exposure", "lead",
    #: "cancel" (patient cancellations) or "rebook" (rebook requests).
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: "" stands for a value not recorded.
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    attended: Mapped[int]
    dna: Mapped[int]
    cancelled_patient: Mapped[int]
    cancelled_clinic: Mapped[int]
    #: Still booked (counted only because the patient asked to rebook).
    booked: Mapped[int]
    #: Rebook requests followed by a new appointment (see reports.REBOOK_WINDOW).
    rebooked: Mapped[int]


class AttendanceMonth(Base):
    """A clinic-month whose cells are all built, and when it was first built."""

    __tablename__ = "attendance_months"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    #: The first day of the month, in the clinic's time zone.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime]


class AttendanceWatermark(Base):
    """One row: changes stamped up to `checked_until` are reflected in the cells."""

    __tablename__ = "attendance_watermark"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_until: Mapped[datetime]


# Indexes on other domains' tables. The cells are computed one clinic and a few days at
# a time, and a refresh finds what changed since the last one, without scanning tables.
Index("ix_appointments_clinic_id_starts_at", Appointment.clinic_id, Appointment.starts_at)
Index("ix_appointments_updated_at", Appointment.updated_at)
Index("ix_patients_updated_at", Patient.updated_at)
Index(
    "ix_outbound_messages_reminder_updated_at",
    OutboundMessage.updated_at,
    postgresql_where=text("kind = 'reminder'"),
    sqlite_where=text("kind = 'reminder'"),
)
