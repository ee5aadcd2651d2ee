"""Reads for attendance reports.

Report reads sum the stored cells (see `app.attendance.cells`) in SQL; what comes back
is at most one row per month, breakdown and level, never one per appointment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select, text

from app.attendance.models import (
    AttendanceArmCell,
    AttendanceCell,
    AttendanceRebase,
    AttendanceTarget,
)
from app.attendance.periods import next_month
from app.attendance.reports import Cell, Counts
from app.clinics.models import Clinic
from app.experiments.analysis import ArmCounts
from app.experiments.models import Experiment
from app.experiments.queries import assigned_by_arm
from app.extensions import db

_COUNT_COLUMNS = (
    AttendanceCell.attended,
    AttendanceCell.dna,
    AttendanceCell.cancelled_patient,
    AttendanceCell.cancelled_clinic,
    AttendanceCell.booked,
    AttendanceCell.rebooked,
)


#: Memory for grouping a clinic's cells over a year or more (see `_hash_the_groups`).
GROUPING_MEMORY = "16MB"


def _hash_the_groups() -> None:
    """Let PostgreSQL group a long run of cells in memory, for this transaction.

    The planner expects almost every cell to be a group of its own (it cannot know that
    the same levels come back day after day), so at the default 4 MB of working memory
    it sorts the cells on disk instead of hashing them: 120 ms instead of 25 ms for one
    clinic's year of breakdowns at 10 million appointments (bench/pages.py). The groups
    themselves fit in a few megabytes.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL work_mem = '{GROUPING_MEMORY}'"))


def report_cells(clinic_id: int, months: Sequence[date]) -> list[Cell]:
    """The clinic's cells summed by month, breakdown and level over `months` (in order)."""
    if not months:
        return []
    day = AttendanceCell.day
    month = case(
        *((day < next_month(value), index) for index, value in enumerate(months)),
        else_=len(months) - 1,
    ).label("m")
    _hash_the_groups()
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


def _month_index(months: Sequence[date]) -> ColumnElement[int]:
    """The index in `months` (in order) of the month holding a cell's day."""
    day = AttendanceCell.day
    return case(
        *((day < next_month(value), index) for index, value in enumerate(months)),
        else_=len(months) - 1,
    )


def monthly_counts(
    clinic_ids: Collection[int], months: Sequence[date]
) -> dict[int, dict[date, Counts]]:
    """Each clinic's attended and DNA totals by month over `months` (in order), read from
    the "all" cells of every clinic in one grouped statement. Months without any are
    absent."""
    if not months or not clinic_ids:
        return {}
    cell = AttendanceCell
    month = _month_index(months).label("m")
    rows = db.session.execute(
        select(cell.clinic_id, month, func.sum(cell.attended), func.sum(cell.dna))
        .where(
            cell.clinic_id.in_(sorted(clinic_ids)),
            cell.dimension == "all",
            cell.day >= months[0],
            cell.day < next_month(months[-1]),
        )
        .group_by(cell.clinic_id, month)
    )
    found: dict[int, dict[date, Counts]] = defaultdict(dict)
    for clinic_id, index, attended, dna in rows:
        found[clinic_id][months[index]] = Counts(attended=int(attended), dna=int(dna))
    return dict(found)


def clinic_totals(clinic_ids: Collection[int], first: date, end: date) -> dict[int, Counts]:
    """Each clinic's attended and DNA totals for days in [first, end); clinics without
    any are absent."""
    if not clinic_ids:
        return {}
    cell = AttendanceCell
    rows = db.session.execute(
        select(cell.clinic_id, func.sum(cell.attended), func.sum(cell.dna))
        .where(
            cell.clinic_id.in_(sorted(clinic_ids)),
            cell.dimension == "all",
            cell.day >= first,
            cell.day < end,
        )
        .group_by(cell.clinic_id)
    )
    return {clinic_id: Counts(attended=int(a), dna=int(d)) for clinic_id, a, d in rows}


def dna_targets(clinic_ids: Collection[int]) -> dict[int, float]:
    """The target DNA rate of each of the clinics that has one."""
    if not clinic_ids:
        return {}
    rows = db.session.execute(
        select(AttendanceTarget.clinic_id, AttendanceTarget.dna_rate).where(
            AttendanceTarget.clinic_id.in_(sorted(clinic_ids))
        )
    )
    return {clinic_id: float(rate) for clinic_id, rate in rows}


def rebase_months(clinic_ids: Collection[int]) -> dict[int, list[date]]:
    """The months where each clinic's DNA chart starts a new period, in order."""
    if not clinic_ids:
        return {}
    rows = db.session.execute(
        select(AttendanceRebase.clinic_id, AttendanceRebase.month)
        .where(AttendanceRebase.clinic_id.in_(sorted(clinic_ids)))
        .order_by(AttendanceRebase.clinic_id, AttendanceRebase.month)
    )
    found: dict[int, list[date]] = defaultdict(list)
    for clinic_id, month in rows:
        found[clinic_id].append(month)
    return dict(found)


def stored_arm_counts(experiments: Sequence[Experiment]) -> dict[int, list[ArmCounts]]:
    """What became of each arm's appointments, as `experiments.queries.arm_counts_of`
    gives it, from the stored arm cells and assigned totals: one grouped read of a few
    rows per arm, clinic and day. As current as the last refresh with `experiments`."""
    ids = sorted({experiment.id for experiment in experiments})
    outcomes: dict[tuple[int, str], tuple[int, ...]] = {}
    if ids:
        cell = AttendanceArmCell
        rows = db.session.execute(
            select(
                cell.experiment_id,
                cell.arm,
                func.sum(cell.attended),
                func.sum(cell.dna),
                func.sum(cell.cancelled),
                func.sum(cell.withdrawn),
            )
            .where(cell.experiment_id.in_(ids))
            .group_by(cell.experiment_id, cell.arm)
        )
        for experiment_id, arm, *sums in rows:
            outcomes[(experiment_id, arm)] = tuple(int(value) for value in sums)
    assigned = assigned_by_arm(ids)

    def counts(experiment_id: int, arm: str) -> ArmCounts:
        total = assigned.get(experiment_id, {}).get(arm, 0)
        attended, dna, cancelled, withdrawn = outcomes.get((experiment_id, arm), (0, 0, 0, 0))
        booked = total - attended - dna - cancelled - withdrawn
        return ArmCounts(arm, total, attended, dna, cancelled, booked)

    return {
        experiment.id: [counts(experiment.id, str(arm["name"])) for arm in experiment.arms]
        for experiment in experiments
    }
