"""A clinic's DNA chart from its monthly counts (pure): which months are points, where a
rebase starts a new period, and the XmR numbers of `app.core.spc` on the rates."""

from __future__ import annotations

from datetime import date

import pytest

from app.attendance.board import IMPROVEMENT, dna_chart, month_key, rebase_indices
from app.attendance.reports import Counts
from app.core.spc import Improvement, xmr

JAN, FEB, MAR, APR, MAY, JUN = (date(2026, month, 1) for month in range(1, 7))
CHARTED = [JAN, FEB, APR, MAY]  # no data in March


@pytest.mark.parametrize(
    ("rebases", "expected"),
    [
        ([], []),
        ([JAN], []),  # the first point starts a period anyway
        ([date(2025, 6, 1)], []),  # before the chart
        ([FEB], [1]),
        ([MAR], [2]),  # a month without data: the next charted month starts it
        ([APR, FEB], [1, 2]),
        ([APR, APR], [2]),
        ([JUN], []),  # after the last point
    ],
)
def test_rebase_months_become_the_points_that_start_a_period(
    rebases: list[date], expected: list[int]
) -> None:
    assert rebase_indices(CHARTED, rebases) == expected


def test_months_without_outcomes_are_not_points() -> None:
    counts = {
        JAN: Counts(attended=90, dna=10),
        FEB: Counts(attended=45, dna=5),
        MAR: Counts(cancelled_patient=4),
        APR: Counts(attended=80, dna=20),
    }
    chart = dna_chart([JAN, FEB, MAR, APR, MAY], counts)
    assert chart.months == [JAN, FEB, APR]
    assert [rate.label for rate in chart.rates] == ["2026-01", "2026-02", "2026-04"]
    assert chart.values == [0.1, 0.1, 0.2]
    assert chart.latest is not None
    assert (chart.latest.dna, chart.latest.n) == (20, 100)
    assert chart.xmr == xmr([0.1, 0.1, 0.2], Improvement.DECREASE, screen_outliers=True)
    assert chart.target is None
    assert chart.rebased_at == []


def test_lower_is_better_and_the_target_and_rebase_reach_the_xmr() -> None:
    assert IMPROVEMENT is Improvement.DECREASE
    dna = [12, 11, 13, 12, 10, 14, 8, 7, 8, 6, 7, 8]
    months = [date(2025, m, 1) for m in range(1, 13)]
    counts = {month: Counts(attended=100 - d, dna=d) for month, d in zip(months, dna, strict=True)}
    chart = dna_chart(months, counts, target=0.09, rebase_months=[date(2025, 7, 1)])
    values = [d / 100 for d in dna]
    assert chart.xmr == xmr(values, Improvement.DECREASE, target=0.09, rebase_at=[6])
    assert chart.xmr is not None
    assert chart.xmr.period == [0] * 6 + [1] * 6
    assert chart.rebased_at == [date(2025, 7, 1)]
    assert chart.rebase_months == [date(2025, 7, 1)]


def test_a_chart_without_any_outcome_has_no_xmr() -> None:
    chart = dna_chart([JAN, FEB], {}, target=0.1, rebase_months=[FEB])
    assert chart.xmr is None
    assert chart.months == []
    assert chart.values == []
    assert chart.latest is None
    assert chart.rebased_at == []
    assert chart.rebase_months == [FEB]


def test_month_keys() -> None:
    assert month_key(date(2026, 2, 1)) == "2026-02"
