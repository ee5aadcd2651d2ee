"""Reads about experiments: which are running, and what became of each arm."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, select

from app.appointments.models import Appointment, AppointmentStatus
from app.core.errors import NotFound
from app.experiments.analysis import ArmCounts
from app.experiments.models import (
    Experiment,
    ExperimentAssignment,
    ExperimentDecision,
    ExperimentStatus,
)
from app.extensions import db


def find_experiment(slug: str) -> Experiment | None:
    return db.session.scalar(select(Experiment).where(Experiment.slug == slug))


def get_experiment(slug: str) -> Experiment:
    """The experiment `slug`; NotFound if there is none."""
    experiment = find_experiment(slug)
    if experiment is None:
        raise NotFound(f"no experiment with slug {slug!r}")
    return experiment


def running_experiments() -> list[Experiment]:
    return list(
        db.session.scalars(
            select(Experiment)
            .where(Experiment.status == ExperimentStatus.RUNNING)
            .order_by(Experiment.id)
        )
    )


def running_experiment_for(clinic_id: int) -> Experiment | None:
    """The running experiment that has the clinic in scope, if any (at most one)."""
    return next((e for e in running_experiments() if clinic_id in e.clinic_ids), None)


def arm_counts(experiment: Experiment) -> list[ArmCounts]:
    """What became of each arm's appointments, in the order the arms were defined."""
    status = Appointment.status

    def count(*values: AppointmentStatus) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((status.in_(values), 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            ExperimentAssignment.arm,
            func.count(),
            count(AppointmentStatus.ATTENDED),
            count(AppointmentStatus.DNA),
            count(AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC),
            count(AppointmentStatus.BOOKED),
        )
        .join(Appointment, Appointment.id == ExperimentAssignment.appointment_id)
        .where(ExperimentAssignment.experiment_id == experiment.id)
        .group_by(ExperimentAssignment.arm)
    )
    found = {arm: ArmCounts(arm, *(int(v) for v in values)) for arm, *values in rows}
    names = [str(arm["name"]) for arm in experiment.arms]
    return [found.get(name, ArmCounts(name, 0, 0, 0, 0, 0)) for name in names]


def recorded_looks(experiment_id: int) -> list[float]:
    """The information fractions of the decisions recorded so far, oldest first."""
    return list(
        db.session.scalars(
            select(ExperimentDecision.information_fraction)
            .where(ExperimentDecision.experiment_id == experiment_id)
            .order_by(ExperimentDecision.id)
        )
    )


def decisions(experiment_id: int) -> list[ExperimentDecision]:
    return list(
        db.session.scalars(
            select(ExperimentDecision)
            .where(ExperimentDecision.experiment_id == experiment_id)
            .order_by(ExperimentDecision.id)
        )
    )
