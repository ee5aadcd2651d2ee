"""What became of each experiment arm's appointments, counted per clinic and day
(`AttendanceArmCell`), so that experiment pages sum a few thousand counts instead of
joining every assignment to its appointment.

An appointment is assigned while it is booked, and what the cells count (attended, DNA,
cancelled, withdrawn) comes only from a later change of its status, which stamps the
appointment. So an experiment's cells are built whole from its assignments once
(`build_experiments`), and from then on every refresh recomputes the clinic-days whose
appointments were stamped since the watermark (`rebuild_arm_days`), whether or not the
month's other cells are built: an outcome recorded weeks late, or a DNA corrected to
attended, changes the arm's figures at the next refresh. Each cell is one experiment's,
so an appointment in two experiments counts once in each and never twice in one.

Days are UTC days of the start: no report shows them; they only keep a recomputation to
the appointments that changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, insert, or_, select

from app.appointments.models import Appointment, AppointmentStatus
from app.attendance.cells import utc_day
from app.attendance.models import AttendanceArmCell, AttendanceExperiment
from app.experiments.models import Experiment, ExperimentAssignment
from app.extensions import db

#: Statuses an assigned appointment can reach; the rest of an arm is still booked.
SETTLED = (
    AppointmentStatus.ATTENDED,
    AppointmentStatus.DNA,
    AppointmentStatus.CANCELLED_PATIENT,
    AppointmentStatus.CANCELLED_CLINIC,
    AppointmentStatus.ENTERED_IN_ERROR,
)
#: Days recomputed per statement (each run of consecutive days is one range to scan).
DAYS_PER_STATEMENT = 366
_COLUMNS = ("clinic_id", "day", "experiment_id", "arm", "attended", "dna", "cancelled", "withdrawn")


def _count(*values: AppointmentStatus) -> ColumnElement[Any]:
    return func.sum(case((Appointment.status.in_(values), 1), else_=0))


def _arm_rows(*conditions: ColumnElement[bool]) -> Select[Any]:
    """The cells of the settled assigned appointments that meet `conditions`."""
    day = utc_day(Appointment.starts_at)
    keys = (
        Appointment.clinic_id,
        day,
        ExperimentAssignment.experiment_id,
        ExperimentAssignment.arm,
    )
    return (
        select(
            *keys,
            _count(AppointmentStatus.ATTENDED),
            _count(AppointmentStatus.DNA),
            _count(AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC),
            _count(AppointmentStatus.ENTERED_IN_ERROR),
        )
        .select_from(ExperimentAssignment)
        .join(Appointment, Appointment.id == ExperimentAssignment.appointment_id)
        .where(Appointment.status.in_(SETTLED), *conditions)
        .group_by(*keys)
    )


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into [first, end) runs, in order."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def rebuild_arm_days(clinic_id: int, days: Iterable[date]) -> int:
    """Recompute the arm cells of the clinic's UTC `days`, every experiment's; returns
    how many days. No commit."""
    ordered = sorted(set(days))
    for start in range(0, len(ordered), DAYS_PER_STATEMENT):
        batch = ordered[start : start + DAYS_PER_STATEMENT]
        db.session.execute(
            delete(AttendanceArmCell).where(
                AttendanceArmCell.clinic_id == clinic_id, AttendanceArmCell.day.in_(batch)
            )
        )
        starts_at = Appointment.starts_at
        ranges = [
            and_(starts_at >= _midnight(first), starts_at < _midnight(end))
            for first, end in _runs(batch)
        ]
        rows = _arm_rows(Appointment.clinic_id == clinic_id, or_(*ranges))
        db.session.execute(insert(AttendanceArmCell).from_select(_COLUMNS, rows))
    return len(ordered)


def rebuild_changed_arms(changed: Collection[tuple[int, date]]) -> int:
    """Recompute the arm cells of the changed (clinic id, UTC day)s; returns how many.
    No commit."""
    by_clinic: dict[int, set[date]] = defaultdict(set)
    for clinic_id, day in changed:
        by_clinic[clinic_id].add(day)
    return sum(rebuild_arm_days(clinic_id, days) for clinic_id, days in sorted(by_clinic.items()))


def build_experiments(now: datetime) -> int:
    """Build the arm cells of every experiment not built yet, from its assignments, and
    mark it built; returns how many experiments. No commit.

    Run it with the watermark locked (see `refresh`), so that two builds take turns and
    changes from then on are the refresh's to count.
    """
    built = select(AttendanceExperiment.experiment_id)
    missing = list(
        db.session.scalars(
            select(Experiment.id).where(Experiment.id.not_in(built)).order_by(Experiment.id)
        )
    )
    if not missing:
        return 0
    db.session.execute(
        delete(AttendanceArmCell).where(AttendanceArmCell.experiment_id.in_(missing))
    )
    rows = _arm_rows(ExperimentAssignment.experiment_id.in_(missing))
    db.session.execute(insert(AttendanceArmCell).from_select(_COLUMNS, rows))
    db.session.execute(
        insert(AttendanceExperiment),
        [{"experiment_id": experiment_id, "built_at": now} for experiment_id in missing],
    )
    return len(missing)
