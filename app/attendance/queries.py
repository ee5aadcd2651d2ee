"""Reads for attendance reports and experiments.

Report reads sum the stored cells (see `app.attendance.cells`) in SQL; what comes back
is at most one row per month, breakdown and level, never one per appointment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select

from app.appointments.models import Appointment, AppointmentStatus
from app.attendance.analysis import ArmCounts
from app.attendance.models import (
    AttendanceCell,
    Experiment,
    ExperimentAssignment,
    ExperimentDecision,
    ExperimentStatus,
)
from app.attendance.periods import next_month
from app.attendance.reports import Cell, Counts
from app.clinics.models import Clinic
from app.core.errors import NotFound
from app.extensions import db

_COUNT_COLUMNS = (
    AttendanceCell.attended,
    AttendanceCell.dna,
    AttendanceCell.cancelled_patient,
    AttendanceCell.cancelled_clinic,
    AttendanceCell.booked,
    AttendanceCell.rebooked,
)


def report_cells(clinic_id: int, months: Sequence[date]) -> list[Cell]:
    """The clinic's cells summed by month, breakdown and level over `months` (in order)."""
    if not months:
        return []
    day = AttendanceCell.day
    month = case(
        *((day < next_month(value), index) for index, value in enumerate(months)),
        else_=len(months) - 1,
    ).label("m")
    rows = db.session.execute(
        select(
            month,
            AttendanceCell.dimension,
            AttendanceCell.level,
            *(func.sum(column) for column in _COUNT_COLUMNS),
        )
        .where(
            AttendanceCell.clinic_id == clinic_id,
            day >= months[0],
            day < next_month(months[-1]),
        )
        .group_by(month, AttendanceCell.dimension, AttendanceCell.level)
    )
    return [
        Cell(months[index], dimension, level, Counts(*(int(value) for value in counts)))
        for index, dimension, level, *counts in rows
    ]


def organisation_totals(organisation_id: int, first: date, end: date) -> list[tuple[str, Counts]]:
    """Every clinic of the organisation with its attended and DNA totals for days in
    [first, end); clinics without any are listed with zeros."""
    cell = AttendanceCell
    rows = db.session.execute(
        select(
            Clinic.slug,
            func.coalesce(func.sum(cell.attended), 0),
            func.coalesce(func.sum(cell.dna), 0),
        )
        .outerjoin(
            cell,
            and_(
                cell.clinic_id == Clinic.id,
                cell.dimension == "all",
                cell.day >= first,
                cell.day < end,
            ),
        )
        .where(Clinic.organisation_id == organisation_id)
        .group_by(Clinic.id, Clinic.slug)
        .order_by(Clinic.slug)
    )
    return [(slug, Counts(attended=int(a), dna=int(d))) for slug, a, d in rows]


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
