"""Experiments on reminder wording: their design, the arm of each appointment, and the
decisions recorded at each look."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum
from app.experiments.rules import Decision


class ExperimentStatus(enum.StrEnum):
    DRAFT = "draft"  # defined, not started: nothing assigned, no clinic held
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
    #: Appointments starting at or after this instant are eligible (a draft's is when it
    #: was drafted; starting it sets it to then).
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


class ExperimentArm(Base):
    """How many appointments one arm of an experiment has been given so far.

    Kept by the assigner, which holds the experiment's row lock while it writes the
    assignments (`service._write`), so pages read it instead of counting assignments.
    """

    __tablename__ = "experiment_arms"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    arm: Mapped[str] = mapped_column(String(32), primary_key=True)
    assigned: Mapped[int]


class ExperimentDecision(Base):
    """An analysis recorded at a look: the decision, its reasons and its numbers."""

    __tablename__ = "experiment_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    #: "continue", "stop" or "ship" (see experiments_core.decide).
    decision: Mapped[Decision] = mapped_column(state_enum(Decision, 16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    #: Per-arm counts and the comparison of B with A, as the analysis printed them.
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The smaller arm's analysed n, and its share of the planned n (this look's fraction).
    n_per_arm: Mapped[int]
    information_fraction: Mapped[float]
    decided_at: Mapped[datetime]
