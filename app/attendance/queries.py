"""Reads for attendance reports.

Report reads sum the stored cells (see `app.attendance.cells`) in SQL; what comes back
is at most one row per month, breakdown and level, never one per appointment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, case, func, select

from app.attendance.models import AttendanceCell
from app.attendance.periods import next_month
from app.attendance.reports import Cell, Counts
from app.clinics.models import Clinic
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
