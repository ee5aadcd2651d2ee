"""Commands on attendance: keeping the report counts current, and the DNA report.

Outcomes arrive through the appointment import service (`app.appointments.imports`);
reports count from current data, so an outcome recorded weeks late simply changes the
figures at the next refresh (see `app.attendance.refresh`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select

from app.attendance import models as _models  # noqa: F401 (tables known to create_all)
from app.attendance.periods import months_from, next_month
from app.attendance.queries import organisation_totals, report_cells
from app.attendance.refresh import Refreshed, refresh
from app.attendance.reports import AttendanceReport, build_report
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid
from app.extensions import db

__all__ = ["attendance_report", "refresh_all_counts", "refresh_counts"]

#: The longest period one report covers.
MAX_REPORT_MONTHS = 120


def refresh_counts(required: Mapping[int, Sequence[date]], clock: Clock) -> Refreshed:
    """Bring the report counts up to date (see `cells.refresh`) and commit."""
    refreshed = refresh(required, clock.now())
    db.session.commit()
    return refreshed


def refresh_all_counts(months: tuple[date, date] | None, clock: Clock) -> Refreshed:
    """Bring the counts up to date; with `months` (first, last), also build those months
    for every clinic. Commits."""
    required: dict[int, Sequence[date]] = {}
    if months is not None:
        span = months_from(*months)
        required = dict.fromkeys(db.session.scalars(select(Clinic.id)), span)
    return refresh_counts(required, clock)


def attendance_report(clinic_slug: str, first: date, last: date, clock: Clock) -> AttendanceReport:
    """The DNA report for a clinic over the whole months from `first` to `last`.

    Brings the counts of every clinic of its organisation up to date first (commits),
    then reads them. Raises NotFound for an unknown clinic and Invalid for a bad period.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    if last < first:
        raise Invalid("the period ends before it starts")
    months = months_from(first, last)
    if len(months) > MAX_REPORT_MONTHS:
        raise Invalid(f"the period covers {len(months)} months; at most {MAX_REPORT_MONTHS}")
    clinic_ids = db.session.scalars(
        select(Clinic.id).where(Clinic.organisation_id == clinic.organisation_id)
    ).all()
    refresh_counts(dict.fromkeys(clinic_ids, months), clock)
    cells = report_cells(clinic.id, months)
    totals = organisation_totals(clinic.organisation_id, months[0], next_month(months[-1]))
    return build_report(clinic.slug, months, cells, totals)
