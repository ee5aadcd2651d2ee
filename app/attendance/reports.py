"""Attendance reports and experiment analyses, built from counts (pure).

The DNA rate is DNA / (attended + DNA): appointments cancelled by the patient or the
clinic are not in the denominator (they could not be attended), and booked ones with no
outcome yet are not counted at all, nor are those entered in error (they never
happened). Every rate carries a 95% Wilson interval.

Breakdowns (`app.results.categories` groups the levels): age band (age in the year of
the appointment), sex, ethnic group, deprivation quintile and language; reminder
exposure; booking lead time; and for cancellations and rebook requests the notice
given. Exposure levels ("none", "planned", "delivered", "confirmed") each hold the
appointments whose furthest step was that one; see `app.attendance.cells`. Only the
comparison "reminder planned" (planned, delivered and confirmed together) against "none
planned" is by intention to treat: delivery and confirmation depend on the patient, so
the finer levels describe, they do not measure an effect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from app.attendance.funnel import funnel_limits
from app.core.distributions import normal_upper_quantile
from app.core.intervals import interval_text, percent, wilson_interval
from app.results import categories

ALPHA = 0.05
UNKNOWN = categories.UNKNOWN
#: Exposure to reminders, each level the furthest step reached (see module notes).
EXPOSURES: tuple[str, ...] = ("none", "planned", "delivered", "confirmed")
#: Booking lead time: (days below which, label), then LEAD_OVER.
LEAD_BANDS: tuple[tuple[int, str], ...] = ((7, "0-6"), (14, "7-13"), (28, "14-27"), (56, "28-55"))
LEAD_OVER = "56+"
#: Notice of a cancellation or rebook request: at least 72 hours, 24 to 72, under 24.
NOTICE_BANDS: tuple[str, ...] = ("72h+", "24-72h", "<24h")
#: A rebook request is fulfilled by another booking for the patient within this time.
REBOOK_WINDOW = timedelta(days=28)
#: Funnel control limits: two-sided 95% and 99.8%.
FUNNEL_LEVELS: tuple[tuple[str, float], ...] = (
    ("95", normal_upper_quantile(0.025)),
    ("99.8", normal_upper_quantile(0.001)),
)
GROUPS: tuple[str, ...] = ("age_band", "sex", "ethnic", "imd", "language")
LEAD_LEVELS: tuple[str, ...] = (*(label for _, label in LEAD_BANDS), LEAD_OVER, UNKNOWN)
NOTICE_LEVELS: tuple[str, ...] = (*NOTICE_BANDS, UNKNOWN)
ITT_PLANNED = "reminder planned"
ITT_NONE = "none planned"


@dataclass(frozen=True)
class Counts:
    """Appointments by status (booked ones only when asked to rebook), and rebookings."""

    attended: int = 0
    dna: int = 0
    cancelled_patient: int = 0
    cancelled_clinic: int = 0
    booked: int = 0
    rebooked: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def n(self) -> int:
        """The DNA rate's denominator: attended plus DNA."""
        return self.attended + self.dna

    @property
    def total(self) -> int:
        return self.n + self.cancelled_patient + self.cancelled_clinic + self.booked


@dataclass(frozen=True)
class Cell:
    """Counts for one month, breakdown (`dimension`) and raw level, as stored."""

    month: date
    dimension: str
    level: str
    counts: Counts


@dataclass(frozen=True)
class Rate:
    """A DNA rate with its Wilson interval; rate and interval are None when n is 0."""

    label: str
    n: int
    dna: int
    rate: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, label: str, counts: Counts, alpha: float = ALPHA) -> Rate:
        if counts.n == 0:
            return cls(label, 0, 0, None, None, None)
        low, high = wilson_interval(counts.dna, counts.n, alpha)
        return cls(label, counts.n, counts.dna, counts.dna / counts.n, low, high)


@dataclass(frozen=True)
class NoticeRow:
    """Patient cancellations and rebook requests made with this much notice."""

    band: str
    cancelled_by_patient: int
    rebook_requests: int
    rebooked: int


@dataclass(frozen=True)
class FunnelPoint:
    """One clinic on the funnel plot; limits are (low, high) per level ("95", "99.8")."""

    clinic: str
    n: int
    dna: int
    rate: float | None
    limits: dict[str, tuple[float, float]] | None
    outside: dict[str, bool] | None


@dataclass(frozen=True)
class AttendanceReport:
    clinic: str
    first_month: date
    last_month: date
    overall: Rate
    months: list[Rate]
    groups: dict[str, list[Rate]]
    exposure: list[Rate]
    exposure_itt: list[Rate]
    lead: list[Rate]
    notice: list[NoticeRow]
    cancelled_by_clinic: int
    #: The organisation's overall DNA rate, the funnel's centre line (None without data).
    funnel_rate: float | None
    funnel: list[FunnelPoint] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_month"] = self.first_month.strftime("%Y-%m")
        data["last_month"] = self.last_month.strftime("%Y-%m")
        data["definitions"] = {
            "rate": "dna / (attended + dna); cancelled appointments are excluded",
            "interval": "95% Wilson score interval",
            "funnel": "exact binomial limits around the organisation's rate",
        }
        return data

    def render_text(self) -> str:
        return render_report(self)


def _sum_by(cells: Iterable[Cell], key: Callable[[Cell], str]) -> dict[str, Counts]:
    totals: dict[str, Counts] = defaultdict(Counts)
    for cell in cells:
        totals[key(cell)] += cell.counts
    return totals


def _whole(level: str) -> int | None:
    return int(level) if level.isdigit() else None


#: Raw stored dimension → (report group, level → group level).
_GROUPING: dict[str, tuple[str, Callable[[Cell], str]]] = {
    "birth_year": ("age_band", lambda c: categories.age_band(_whole(c.level), c.month.year)),
    "sex": ("sex", lambda c: categories.sex(c.level or None)),
    "ethnic": ("ethnic", lambda c: categories.ethnic_group(c.level or None)),
    "imd": ("imd", lambda c: categories.imd(_whole(c.level))),
    "locale": ("language", lambda c: c.level or UNKNOWN),
}


def _rates(totals: Mapping[str, Counts], order: Sequence[str], alpha: float) -> list[Rate]:
    extra = sorted(set(totals) - set(order) - {UNKNOWN})
    labels = [*order, *extra] if UNKNOWN in order else [*order, *extra, UNKNOWN]
    return [Rate.of(label, totals.get(label, Counts()), alpha) for label in dict.fromkeys(labels)]


def _group_rates(cells: Sequence[Cell], alpha: float) -> dict[str, list[Rate]]:
    groups: dict[str, list[Rate]] = {}
    for dimension, (group, level_of) in _GROUPING.items():
        totals = _sum_by((c for c in cells if c.dimension == dimension), level_of)
        order = categories.LEVELS.get(group, ())
        groups[group] = _rates(totals, order, alpha)
    return groups


def _notice(cells: Sequence[Cell]) -> list[NoticeRow]:
    cancelled = _sum_by((c for c in cells if c.dimension == "cancel"), lambda c: c.level)
    rebook = _sum_by((c for c in cells if c.dimension == "rebook"), lambda c: c.level)
    return [
        NoticeRow(
            band,
            cancelled.get(band, Counts()).cancelled_patient,
            rebook.get(band, Counts()).total,
            rebook.get(band, Counts()).rebooked,
        )
        for band in NOTICE_LEVELS
    ]


def build_report(
    clinic: str,
    months: Sequence[date],
    cells: Sequence[Cell],
    funnel_counts: Sequence[tuple[str, Counts]],
    alpha: float = ALPHA,
) -> AttendanceReport:
    """The report for `clinic` over `months` (in order) from its cells, and the funnel
    data from every clinic's totals (`funnel_counts`, the report's clinic included)."""
    if not months:
        raise ValueError("months must list at least one month")
    overall_cells = [c for c in cells if c.dimension == "all"]
    by_month = _sum_by(overall_cells, lambda c: c.month.strftime("%Y-%m"))
    exposure = _sum_by((c for c in cells if c.dimension == "exposure"), lambda c: c.level)
    planned = sum((exposure.get(level, Counts()) for level in EXPOSURES[1:]), Counts())
    total = sum((c.counts for c in overall_cells), Counts())
    funnel_rate, funnel = funnel_points(funnel_counts)
    return AttendanceReport(
        clinic=clinic,
        first_month=months[0],
        last_month=months[-1],
        overall=Rate.of("all", total, alpha),
        months=[Rate.of(key, by_month.get(key, Counts()), alpha) for key in _keys(months)],
        groups=_group_rates(cells, alpha),
        exposure=_rates(exposure, EXPOSURES, alpha)[: len(EXPOSURES)],
        exposure_itt=[
            Rate.of(ITT_PLANNED, planned, alpha),
            Rate.of(ITT_NONE, exposure.get("none", Counts()), alpha),
        ],
        lead=_rates(
            _sum_by((c for c in cells if c.dimension == "lead"), lambda c: c.level),
            LEAD_LEVELS,
            alpha,
        ),
        notice=_notice(cells),
        cancelled_by_clinic=total.cancelled_clinic,
        funnel_rate=funnel_rate,
        funnel=funnel,
    )


def _keys(months: Sequence[date]) -> list[str]:
    return [month.strftime("%Y-%m") for month in months]


def funnel_points(counts: Sequence[tuple[str, Counts]]) -> tuple[float | None, list[FunnelPoint]]:
    """Each clinic's rate against limits around the pooled rate (None when it is 0 or 1).

    Clinics with no attended or DNA appointments are listed without a rate or limits.
    """
    pooled = sum((c for _, c in counts), Counts())
    rate = pooled.dna / pooled.n if pooled.n else None
    with_data = [(name, c) for name, c in counts if c.n > 0]
    limits = None
    if rate is not None and 0.0 < rate < 1.0 and with_data:
        limits = funnel_limits(
            rate, [c.n for _, c in with_data], z=[z for _, z in FUNNEL_LEVELS], method="exact"
        )
    points = [FunnelPoint(name, 0, 0, None, None, None) for name, c in counts if c.n == 0]
    for index, (name, c) in enumerate(with_data):
        own = c.dna / c.n
        bands = (
            {
                label: (float(limits.lower[row, index]), float(limits.upper[row, index]))
                for row, (label, _) in enumerate(FUNNEL_LEVELS)
            }
            if limits is not None
            else None
        )
        outside = (
            {label: not low <= own <= high for label, (low, high) in bands.items()}
            if bands is not None
            else None
        )
        points.append(FunnelPoint(name, c.n, c.dna, own, bands, outside))
    return rate, sorted(points, key=lambda p: p.clinic)


_GROUP_TITLES = {
    "age_band": "age band",
    "sex": "sex",
    "ethnic": "ethnic group",
    "imd": "deprivation quintile (1 most deprived)",
    "language": "language",
}


def _rate_table(title: str, rows: Sequence[Rate]) -> list[str]:
    width = max([12, *(len(row.label) for row in rows)])
    lines = [title, f"  {'':<{width}} {'n':>8} {'DNA':>7} {'rate':>7}  95% CI"]
    for row in rows:
        lines.append(
            f"  {row.label:<{width}} {row.n:>8} {row.dna:>7} {percent(row.rate):>7}  "
            f"{interval_text(row.low, row.high)}"
        )
    return [*lines, ""]


def _notice_table(report: AttendanceReport) -> list[str]:
    lines = [
        "Notice given: patient cancellations and rebook requests "
        f"({report.cancelled_by_clinic} cancelled by the clinic)",
        f"  {'notice':<12} {'cancelled':>10} {'rebook asked':>13} {'rebooked':>9}",
    ]
    for row in report.notice:
        lines.append(
            f"  {row.band:<12} {row.cancelled_by_patient:>10} {row.rebook_requests:>13} "
            f"{row.rebooked:>9}"
        )
    return [*lines, ""]


def _funnel_table(report: AttendanceReport) -> list[str]:
    lines = [
        f"Funnel plot: clinics of the organisation (pooled rate {percent(report.funnel_rate)}; "
        "exact binomial limits)",
        f"  {'clinic':<20} {'n':>8} {'DNA':>7} {'rate':>7}  {'95% limits':<15} "
        f"{'99.8% limits':<15} outside",
    ]
    for point in report.funnel:
        limits = point.limits or {}
        outside = [label + "%" for label, out in (point.outside or {}).items() if out]
        marker = "*" if point.clinic == report.clinic else " "
        lines.append(
            f" {marker}{point.clinic:<20} {point.n:>8} {point.dna:>7} {percent(point.rate):>7}  "
            f"{interval_text(*limits.get('95', (None, None))):<15} "
            f"{interval_text(*limits.get('99.8', (None, None))):<15} {', '.join(outside) or '-'}"
        )
    return [*lines, ""]


def render_report(report: AttendanceReport) -> str:
    """The report as plain-text tables."""
    lines = [
        f"Non-attendance (DNA) at {report.clinic}, {report.first_month:%Y-%m} to "
        f"{report.last_month:%Y-%m} (whole months, clinic time)",
        "DNA rate = DNA / (attended + DNA); cancelled appointments are not in the denominator.",
        "",
        *_rate_table("Overall", [report.overall]),
        *_rate_table("By month", report.months),
    ]
    for group in GROUPS:
        lines += _rate_table(f"By {_GROUP_TITLES[group]}", report.groups[group])
    lines += _rate_table("By reminder exposure (furthest step reached)", report.exposure)
    lines += _rate_table("Reminders, intention to treat", report.exposure_itt)
    lines += _rate_table("By booking lead time (days)", report.lead)
    lines += _notice_table(report)
    lines += _funnel_table(report)
    return "\n".join(lines).rstrip() + "\n"
