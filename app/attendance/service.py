"""Commands on attendance: keeping the report counts current, the DNA report, the DNA
charts that boards read (with each clinic's target and rebase months), the funnel
plot of clinics, and experiments' arms read from stored counts.

Outcomes arrive through the appointment import service (`app.appointments.imports`);
reports count from current data, so an outcome recorded weeks late simply changes the
figures at the next refresh (see `app.attendance.refresh`). Charts read the stored
counts only: each brings the months it shows up to date first, then sums cells.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select

from app.attendance import models as _models  # noqa: F401 (tables known to create_all)
from app.attendance.board import DnaChart, dna_chart
from app.attendance.models import AttendanceRebase, AttendanceTarget
from app.attendance.periods import month_of, months_from, next_month
from app.attendance.queries import (
    clinic_totals,
    dna_targets,
    monthly_counts,
    organisation_totals,
    rebase_months,
    report_cells,
    stored_arm_counts,
)
from app.attendance.refresh import Refreshed, refresh
from app.attendance.reports import (
    AttendanceReport,
    Counts,
    FunnelPoint,
    build_report,
    funnel_points,
)
from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid
from app.experiments.queries import (
    ExperimentProgress,
    ExperimentView,
    experiment_view,
    progress_within,
)
from app.extensions import db

__all__ = [
    "ClinicAttendance",
    "DnaFunnel",
    "attendance_report",
    "clinic_attendance",
    "dna_board",
    "dna_funnel",
    "experiment_counts_view",
    "experiments_progress",
    "record_export",
    "refresh_all_counts",
    "refresh_counts",
    "refresh_experiment_counts",
    "set_dna_target",
    "set_rebase",
]

#: The longest period one report covers.
MAX_REPORT_MONTHS = 120


def refresh_counts(required: Mapping[int, Sequence[date]], clock: Clock) -> Refreshed:
    """Bring the report counts up to date (see `cells.refresh`) and commit."""
    refreshed = refresh(required, clock.now())
    db.session.commit()
    return refreshed


def refresh_experiment_counts(clock: Clock) -> Refreshed:
    """Bring the counts up to date, building the arm cells of any experiment not built
    yet (see `app.attendance.arms`), and commit."""
    refreshed = refresh({}, clock.now(), experiments=True)
    db.session.commit()
    return refreshed


def experiments_progress(clinic_ids: Collection[int], clock: Clock) -> list[ExperimentProgress]:
    """`experiments.queries.progress_within` read from the stored counts, brought up to
    date first (commits)."""
    refresh_experiment_counts(clock)
    return progress_within(clinic_ids, stored_arm_counts)


def experiment_counts_view(
    experiment_id: int, clinic_ids: Collection[int], clock: Clock
) -> ExperimentView:
    """`experiments.queries.experiment_view` with the arms' counts read from the stored
    counts, brought up to date first (commits). NotFound unless all the experiment's
    clinics are among `clinic_ids`."""
    refresh_experiment_counts(clock)
    return experiment_view(experiment_id, clinic_ids, stored_arm_counts)


def refresh_all_counts(months: tuple[date, date] | None, clock: Clock) -> Refreshed:
    """Bring the counts up to date, and build the arm cells of experiments not built
    yet; with `months` (first, last), also build those months for every clinic.
    Commits."""
    required: dict[int, Sequence[date]] = {}
    if months is not None:
        span = months_from(*months)
        required = dict.fromkeys(db.session.scalars(select(Clinic.id)), span)
    refreshed = refresh(required, clock.now(), experiments=True)
    db.session.commit()
    return refreshed


def attendance_report(clinic_slug: str, first: date, last: date, clock: Clock) -> AttendanceReport:
    """The DNA report for a clinic over the whole months from `first` to `last`.

    Brings the counts of every clinic of its organisation up to date first (commits),
    then reads them. Raises NotFound for an unknown clinic and Invalid for a bad period.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    months = report_months(first, last)
    clinic_ids = db.session.scalars(
        select(Clinic.id).where(Clinic.organisation_id == clinic.organisation_id)
    ).all()
    refresh_counts(dict.fromkeys(clinic_ids, months), clock)
    cells = report_cells(clinic.id, months)
    totals = organisation_totals(clinic.organisation_id, months[0], next_month(months[-1]))
    return build_report(clinic.slug, months, cells, totals)


def report_months(first: date, last: date) -> list[date]:
    """The whole months from `first` to `last`; Invalid for a period that ends before it
    starts or is longer than MAX_REPORT_MONTHS."""
    if last < first:
        raise Invalid("the period ends before it starts")
    months = months_from(first, last)
    if len(months) > MAX_REPORT_MONTHS:
        raise Invalid(f"the period covers {len(months)} months; at most {MAX_REPORT_MONTHS}")
    return months


def dna_board(
    clinic_ids: Collection[int], first: date, last: date, clock: Clock
) -> dict[int, DnaChart]:
    """Each clinic's monthly DNA chart over the whole months from `first` to `last`, with
    its target and rebase months. Brings those clinics' counts up to date first (commits);
    then one grouped read for all of them. Invalid for a bad period."""
    months = report_months(first, last)
    ids = sorted(set(clinic_ids))
    if not ids:
        return {}
    refresh_counts(dict.fromkeys(ids, months), clock)
    counts = monthly_counts(ids, months)
    targets = dna_targets(ids)
    rebases = rebase_months(ids)
    return {
        clinic_id: dna_chart(
            months, counts.get(clinic_id, {}), targets.get(clinic_id), rebases.get(clinic_id, [])
        )
        for clinic_id in ids
    }


@dataclass(frozen=True)
class ClinicAttendance:
    """One clinic's DNA chart and its DNA report over the same months."""

    clinic: Clinic
    months: list[date]
    chart: DnaChart
    report: AttendanceReport


def clinic_attendance(clinic_id: int, first: date, last: date, clock: Clock) -> ClinicAttendance:
    """The clinic's DNA chart and report (without the funnel: see `dna_funnel`) over the
    whole months from `first` to `last`. Brings its counts up to date first (commits).
    NotFound for an unknown clinic, Invalid for a bad period."""
    clinic = get_clinic(clinic_id)
    months = report_months(first, last)
    refresh_counts({clinic.id: months}, clock)
    cells = report_cells(clinic.id, months)
    by_month = {cell.month: cell.counts for cell in cells if cell.dimension == "all"}
    chart = dna_chart(
        months,
        by_month,
        dna_targets([clinic.id]).get(clinic.id),
        rebase_months([clinic.id]).get(clinic.id, []),
    )
    report = build_report(clinic.slug, months, cells, [])
    return ClinicAttendance(clinic, months, chart, report)


@dataclass(frozen=True)
class DnaFunnel:
    """Clinics' DNA rates over a period against funnel limits around their pooled rate.

    Each point is labelled with its clinic's slug; `clinics` maps slugs to clinics."""

    first_month: date
    last_month: date
    rate: float | None
    points: list[FunnelPoint]
    clinics: dict[str, Clinic]


def dna_funnel(clinic_ids: Collection[int], first: date, last: date, clock: Clock) -> DnaFunnel:
    """The funnel plot of the clinics `clinic_ids` over the whole months from `first` to
    `last`: limits around their pooled rate (95% and 99.8%, exact binomial). Brings their
    counts up to date first (commits). Invalid for a bad period."""
    months = report_months(first, last)
    ids = sorted(set(clinic_ids))
    if ids:
        refresh_counts(dict.fromkeys(ids, months), clock)
    clinics = list(db.session.scalars(select(Clinic).where(Clinic.id.in_(ids)))) if ids else []
    totals = clinic_totals(ids, months[0], next_month(months[-1]))
    rate, points = funnel_points([(c.slug, totals.get(c.id, Counts())) for c in clinics])
    return DnaFunnel(months[0], months[-1], rate, points, {c.slug: c for c in clinics})


def _audit_setting(
    clinic: Clinic, setting: str, clock: Clock, actor: Actor, **detail: str | bool
) -> None:
    record(
        AuditAction.EDIT_SETTINGS,
        actor,
        clock.now(),
        record_type="clinic",
        record_ids=[clinic.id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"setting": setting, **detail},
    )


def set_dna_target(clinic_id: int, dna_rate: float | None, clock: Clock, actor: Actor) -> bool:
    """Set the clinic's target DNA rate (0 to 1), or remove it with None; returns whether
    anything changed. A change is recorded in the audit log (EDIT_SETTINGS) and
    committed. NotFound for an unknown clinic; Invalid for a rate outside [0, 1)."""
    clinic = get_clinic(clinic_id)
    if dna_rate is not None and not 0.0 <= dna_rate < 1.0:
        raise Invalid("target: must be from 0 to 1")
    stored = db.session.get(AttendanceTarget, clinic.id)
    if dna_rate is None:
        if stored is None:
            return False
        db.session.delete(stored)
    elif stored is None:
        db.session.add(
            AttendanceTarget(clinic_id=clinic.id, dna_rate=dna_rate, updated_at=clock.now())
        )
    elif stored.dna_rate == dna_rate:
        return False
    else:
        stored.dna_rate = dna_rate
        stored.updated_at = clock.now()
    _audit_setting(clinic, "dna_target", clock, actor, removed=dna_rate is None)
    db.session.commit()
    return True


def set_rebase(clinic_id: int, month: date, start: bool, clock: Clock, actor: Actor) -> bool:
    """Start a new period of the clinic's DNA chart at `month` (`start`), or stop doing
    so; returns whether anything changed. A change is recorded in the audit log
    (EDIT_SETTINGS) and committed. NotFound for an unknown clinic."""
    clinic = get_clinic(clinic_id)
    first = month_of(month)
    stored = db.session.get(AttendanceRebase, (clinic.id, first))
    if start == (stored is not None):
        return False
    if start:
        db.session.add(AttendanceRebase(clinic_id=clinic.id, month=first, created_at=clock.now()))
    else:
        db.session.execute(
            delete(AttendanceRebase).where(
                AttendanceRebase.clinic_id == clinic.id, AttendanceRebase.month == first
            )
        )
    _audit_setting(
        clinic, "dna_rebase", clock, actor, month=first.strftime("%Y-%m"), removed=not start
    )
    db.session.commit()
    return True


def record_export(
    clinics: Sequence[Clinic], what: str, rows: int, file_format: str, clock: Clock, actor: Actor
) -> None:
    """Record in the audit log (EXPORT) that a chart or table of these clinics' counts was
    downloaded: which one, in which format, how many rows. Commits."""
    organisations = {clinic.organisation_id for clinic in clinics}
    record(
        AuditAction.EXPORT,
        actor,
        clock.now(),
        record_type="clinic",
        record_ids=sorted(clinic.id for clinic in clinics),
        clinic_id=clinics[0].id if len(clinics) == 1 else None,
        organisation_id=organisations.pop() if len(organisations) == 1 else None,
        detail={"what": f"attendance_{what}", "format": file_format, "rows": rows},
    )
    db.session.commit()
