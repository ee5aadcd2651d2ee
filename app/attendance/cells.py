"""The attendance counts per clinic and day (`AttendanceCell`) that reports read.

Reports must stay fast with tens of millions of appointments, so they read counts per
clinic, day and breakdown level instead of appointments. The counts are computed in SQL
from the appointments, their patients and their reminders, one clinic and a batch of
days per statement; no appointment row is loaded into Python. `app.attendance.refresh`
decides which days to compute.

A cell counts the day's appointments that have an outcome or a cancellation, and the
booked ones whose patient asked to rebook. An appointment entered in error (withdrawn:
it never happened) is in no cell at all, so it is neither attended nor DNA, nor a
cancellation by the patient or the clinic. Definitions (instants are UTC; days and
months are the clinic's):

- exposure: "confirmed" if the patient confirmed (replied 1); else "delivered" if a
  reminder for it reached the handset; else "planned" if any reminder row was ever
  written for it (any plan version, whatever became of it); else "none".
- lead: whole days from booking (when WeSaid first recorded the appointment) to its
  start: 0-6, 7-13, 14-27, 28-55, 56+; "unknown" when recorded only after it started.
- cancel: the notice a patient gave (`cancel_lead_minutes`): 72h+, 24-72h, <24h
  (a cancellation after the start included); "unknown" when not recorded.
- rebook: the notice of a rebook request (request to start), in the same bands. It is
  fulfilled when the same patient has another appointment at the same clinic recorded
  within REBOOK_WINDOW after the request (not one later entered in error).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    Date,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.appointments.models import Appointment, AppointmentStatus
from app.attendance.models import AttendanceCell, AttendanceMonth
from app.attendance.periods import day_bounds, days_of
from app.attendance.reports import (
    LEAD_BANDS,
    LEAD_OVER,
    NOTICE_BANDS,
    REBOOK_WINDOW,
    UNKNOWN,
)
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient

#: Days recomputed per statement. Without time zone support in SQL (SQLite) each day is
#: a branch of a CASE, so batches are short; PostgreSQL computes the local day itself.
DAYS_PER_STATEMENT = {"postgresql": 366, "sqlite": 31}
DIMENSIONS: tuple[str, ...] = (
    "all",
    "birth_year",
    "sex",
    "ethnic",
    "imd",
    "locale",
    "exposure",
    "lead",
    "cancel",
    "rebook",
)
_COUNTS = ("attended", "dna", "cancelled_patient", "cancelled_clinic", "booked", "rebooked")

Query = Select[*tuple[Any, ...]]
#: Each day as [start, end) in UTC, in order.
Bounds = Sequence[tuple[datetime, datetime]]


class days_between(FunctionElement[float]):  # noqa: N801 (SQL function name)
    """Days (with fraction) from `earlier` to `later`, two timestamp columns."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


class utc_day(FunctionElement[date]):  # noqa: N801 (SQL function name)
    """The UTC calendar day of a timestamp column."""

    type = Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "postgresql")
def _day_pg(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


def counted() -> ColumnElement[bool]:
    """Appointments whose change may change the cells: with an outcome, cancelled or
    withdrawn, or asked to rebook. The cells themselves leave the withdrawn out (`_facts`),
    but a refresh must still recompute the day one of them left."""
    return or_(
        Appointment.status != AppointmentStatus.BOOKED,
        Appointment.rebook_requested_at.is_not(None),
    )


def _exposure() -> ColumnElement[str]:
    # One look at the reminders per appointment: 2 if one was delivered, 1 if any exist.
    reach = (
        select(func.max(case((OutboundMessage.state == MessageState.DELIVERED, 2), else_=1)))
        .where(
            OutboundMessage.appointment_id == Appointment.id,
            OutboundMessage.kind == MessageKind.REMINDER,
        )
        .scalar_subquery()
    )
    return case(
        (Appointment.confirmed_at.is_not(None), "confirmed"),
        else_=case({2: "delivered", 1: "planned"}, value=func.coalesce(reach, 0), else_="none"),
    )


def _lead() -> ColumnElement[str]:
    days = days_between(Appointment.starts_at, Appointment.created_at)
    return case(
        (days < 0, UNKNOWN),
        *((days < limit, label) for limit, label in LEAD_BANDS),
        else_=LEAD_OVER,
    )


def _notice(hours: ColumnElement[Any]) -> ColumnElement[str]:
    return case(
        (hours.is_(None), UNKNOWN),
        (hours >= 72, NOTICE_BANDS[0]),
        (hours >= 24, NOTICE_BANDS[1]),
        else_=NOTICE_BANDS[2],
    )


def _rebooked() -> ColumnElement[int]:
    later = aliased(Appointment)
    days = days_between(later.created_at, Appointment.rebook_requested_at)
    fulfilled = select(later.id).where(
        later.patient_id == Appointment.patient_id,
        later.clinic_id == Appointment.clinic_id,
        later.id != Appointment.id,
        later.status != AppointmentStatus.ENTERED_IN_ERROR,
        days >= 0,
        days < REBOOK_WINDOW / timedelta(days=1),
    )
    return case((and_(Appointment.rebook_requested_at.is_not(None), exists(fulfilled)), 1), else_=0)


def _text(column: ColumnExpressionArgument[Any]) -> ColumnElement[str]:
    return func.coalesce(cast(column, String), "")


def _bucket(bounds: Bounds, zone: ZoneInfo | None) -> ColumnElement[Any]:
    """The local day of the start (with `zone`, PostgreSQL only), or else its index in
    `bounds`."""
    if zone is not None:
        return cast(func.timezone(zone.key, Appointment.starts_at), Date)
    return case(
        *((Appointment.starts_at < end, index) for index, (_, end) in enumerate(bounds)),
        else_=len(bounds) - 1,
    )


def _facts(clinic_id: int, bounds: Bounds, zone: ZoneInfo | None) -> Query:
    """One row per counted appointment of the clinic in the periods `bounds` (in order)."""
    starts_at = Appointment.starts_at
    in_months = or_(*(and_(starts_at >= start, starts_at < end) for start, end in _runs(bounds)))
    rebook_hours = days_between(Appointment.starts_at, Appointment.rebook_requested_at) * 24
    return (
        select(
            _bucket(bounds, zone).label("m"),
            Appointment.status.label("status"),
            _text(Patient.birth_year).label("birth_year"),
            _text(Patient.sex).label("sex"),
            _text(Patient.ethnic_category).label("ethnic"),
            _text(Patient.imd_quintile).label("imd"),
            _text(Patient.locale).label("locale"),
            _exposure().label("exposure"),
            _lead().label("lead"),
            _notice(Appointment.cancel_lead_minutes / 60.0).label("cancel"),
            case(
                (Appointment.rebook_requested_at.is_(None), None), else_=_notice(rebook_hours)
            ).label("rebook"),
            _rebooked().label("rebooked"),
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.clinic_id == clinic_id,
            in_months,
            counted(),
            Appointment.status != AppointmentStatus.ENTERED_IN_ERROR,
        )
    )


def _runs(bounds: Bounds) -> list[tuple[datetime, datetime]]:
    """Adjacent months merged, so that the database scans one range per run of months."""
    runs: list[tuple[datetime, datetime]] = []
    for start, end in bounds:
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def _sums(status: ColumnElement[Any], rebooked: ColumnElement[int]) -> list[ColumnElement[Any]]:
    def count(value: AppointmentStatus) -> ColumnElement[Any]:
        return func.sum(case((status == value, 1), else_=0))

    return [
        count(AppointmentStatus.ATTENDED),
        count(AppointmentStatus.DNA),
        count(AppointmentStatus.CANCELLED_PATIENT),
        count(AppointmentStatus.CANCELLED_CLINIC),
        count(AppointmentStatus.BOOKED),
        func.sum(rebooked),
    ]


def cell_counts(clinic_id: int, bounds: Bounds, zone: ZoneInfo | None = None) -> Query:
    """(m, dimension, level, counts...) for every dimension, in one statement.

    `m` is the index of the period in `bounds`, or the local day when `zone` is given
    (PostgreSQL only).
    """
    facts = _facts(clinic_id, bounds, zone).cte("facts")
    branches = []
    for dimension in DIMENSIONS:
        level = literal("all") if dimension == "all" else facts.c[dimension]
        branch = select(
            facts.c.m,
            literal(dimension, String).label("dimension"),
            cast(level, String).label("level"),
            *_sums(facts.c.status, facts.c.rebooked),
        )
        if dimension == "cancel":
            branch = branch.where(facts.c.status == AppointmentStatus.CANCELLED_PATIENT)
        elif dimension == "rebook":
            branch = branch.where(facts.c.rebook.is_not(None))
        keys = [facts.c.m] if dimension == "all" else [facts.c.m, level]
        branches.append(branch.group_by(*keys))
    counts = union_all(*branches).subquery("counts")
    return select(counts)


def rebuild_days(clinic_id: int, zone: ZoneInfo, days: Iterable[date]) -> int:
    """Recompute the cells of the clinic's `days`; returns how many days. No commit."""
    ordered = sorted(set(days))
    dialect = db.session.get_bind().dialect.name
    if ordered and dialect == "postgresql":
        # The planner prices the per-row subqueries high, and compiling the statement
        # with JIT then costs seconds more than running it; and a generic plan, made
        # once for all clinics and days, reads far more than this clinic's days.
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    batch = DAYS_PER_STATEMENT.get(dialect, DAYS_PER_STATEMENT["sqlite"])
    for start in range(0, len(ordered), batch):
        _rebuild(clinic_id, zone, ordered[start : start + batch], dialect == "postgresql")
    return len(ordered)


def _rebuild(clinic_id: int, zone: ZoneInfo, days: Sequence[date], by_local_day: bool) -> None:
    db.session.execute(
        delete(AttendanceCell).where(
            AttendanceCell.clinic_id == clinic_id, AttendanceCell.day.in_(days)
        )
    )
    bounds = day_bounds(days, zone)
    counts = cell_counts(clinic_id, bounds, zone if by_local_day else None).subquery()
    day = counts.c.m if by_local_day else case(dict(enumerate(days)), value=counts.c.m)
    columns = ["clinic_id", "day", "dimension", "level", *_COUNTS]
    source = select(
        literal(clinic_id, Integer),
        type_coerce(day, Date),
        counts.c.dimension,
        counts.c.level,
        *(func.coalesce(column, 0) for column in list(counts.c)[3:]),
    )
    db.session.execute(insert(AttendanceCell).from_select(columns, source))


def build_months(clinic_id: int, zone: ZoneInfo, months: Iterable[date], now: datetime) -> int:
    """Compute every day of the clinic's `months` and mark them built. No commit."""
    ordered = sorted(set(months))
    if not ordered:
        return 0
    rebuild_days(clinic_id, zone, [day for month in ordered for day in days_of(month)])
    db.session.execute(
        delete(AttendanceMonth).where(
            AttendanceMonth.clinic_id == clinic_id, AttendanceMonth.month.in_(ordered)
        )
    )
    db.session.execute(
        insert(AttendanceMonth),
        [{"clinic_id": clinic_id, "month": month, "built_at": now} for month in ordered],
    )
    return len(ordered)
