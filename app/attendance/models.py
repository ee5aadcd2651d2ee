"""The daily and monthly attendance counts that DNA reports read, and how each clinic's
DNA chart is read: its target and the months where a new period starts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.appointments.models import Appointment
from app.db import Base
from app.messaging.models import OutboundMessage
from app.patients.models import Patient


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


class AttendanceArmCell(Base):
    """Outcomes of one clinic-day's appointments assigned to one arm of an experiment.

    Only what became of them after assignment is counted (an appointment is assigned
    while booked): attended, DNA, cancelled by either side, or withdrawn (entered in
    error). The still-booked are the arm's assigned total (`ExperimentArm`) less these.
    The day is the UTC day of the start: no report shows it, it only lets a refresh
    recompute what changed. See `app.attendance.arms`.
    """

    __tablename__ = "attendance_arm_cells"
    __table_args__ = (Index("ix_attendance_arm_cells_experiment_id", "experiment_id"),)

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    arm: Mapped[str] = mapped_column(String(32), primary_key=True)
    attended: Mapped[int]
    dna: Mapped[int]
    #: Cancelled by the patient or by the clinic.
    cancelled: Mapped[int]
    #: Entered in error: in the arm's total, but neither an outcome nor booked.
    withdrawn: Mapped[int]


class AttendanceExperiment(Base):
    """An experiment whose arm cells are complete: built from its assignments once, then
    kept current by every refresh."""

    __tablename__ = "attendance_experiments"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    built_at: Mapped[datetime]


class AttendanceTarget(Base):
    """A clinic's target DNA rate, against which its chart gives assurance."""

    __tablename__ = "attendance_targets"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    #: The DNA rate (0 to 1) the clinic aims to stay at or below.
    dna_rate: Mapped[float]
    updated_at: Mapped[datetime]


class AttendanceRebase(Base):
    """A month where a new period of a clinic's DNA chart starts (its limits are
    recalculated from there), because the process changed then."""

    __tablename__ = "attendance_rebases"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    #: The first day of the month that starts the new period.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime]


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
