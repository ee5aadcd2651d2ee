"""DNA rates as a board reads them: one point a month on an XmR chart (pure).

Each month's point is the clinic's DNA rate that month (DNA / (attended + DNA), as in
`app.attendance.reports`). A month without any attended or DNA appointment has no
rate, so it is not on the chart: the chart's points are the months with data, in
order. Lower is better, so the chart's improvement direction is "decrease".

A rebase month starts a new period: the chart recalculates its mean and limits from
the first charted month on or after it. A rebase before the first charted month, or
in a gap that ends at the first charted month, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from app.attendance.reports import Counts, Rate
from app.core.spc import Improvement, XmR, xmr

#: Lower DNA rates are better.
IMPROVEMENT = Improvement.DECREASE


def month_key(month: date) -> str:
    """A month as its reports name it: "2026-02"."""
    return month.strftime("%Y-%m")


@dataclass(frozen=True)
class DnaChart:
    """A clinic's monthly DNA rates and the XmR chart drawn from them."""

    #: The months with a rate, in order: one point each.
    months: list[date]
    rates: list[Rate]
    #: None when no month has a rate.
    xmr: XmR | None
    #: The target DNA rate (0 to 1), if the clinic has one.
    target: float | None
    #: The clinic's stored rebase months, and those that start a period on this chart.
    rebase_months: list[date]
    rebased_at: list[date]

    @property
    def latest(self) -> Rate | None:
        """The last month's rate, if any."""
        return self.rates[-1] if self.rates else None

    @property
    def values(self) -> list[float]:
        """The points: each charted month's DNA rate."""
        return [rate.rate for rate in self.rates if rate.rate is not None]


def rebase_indices(charted: Sequence[date], rebase_months: Iterable[date]) -> list[int]:
    """The points where a new period starts: for each rebase month, the first charted
    month on or after it (never the first point, which starts a period anyway)."""
    found: set[int] = set()
    for month in rebase_months:
        index = next((i for i, value in enumerate(charted) if value >= month), None)
        if index is not None and index > 0:
            found.add(index)
    return sorted(found)


def dna_chart(
    months: Sequence[date],
    counts: Mapping[date, Counts],
    target: float | None = None,
    rebase_months: Sequence[date] = (),
) -> DnaChart:
    """The chart of the DNA rate over `months` (in order) from each month's counts."""
    charted = [month for month in months if counts.get(month, Counts()).n > 0]
    rates = [Rate.of(month_key(month), counts[month]) for month in charted]
    values = [rate.rate for rate in rates if rate.rate is not None]
    rebases = rebase_indices(charted, rebase_months)
    chart = (
        xmr(values, IMPROVEMENT, target=target, rebase_at=rebases, screen_outliers=True)
        if values
        else None
    )
    return DnaChart(
        months=charted,
        rates=rates,
        xmr=chart,
        target=target,
        rebase_months=sorted(rebase_months),
        rebased_at=[charted[i] for i in rebases],
    )
