"""The forest plot, read back from its SVG."""

from __future__ import annotations

import math

import pytest

from app.charts.forest import Effect, Estimate, forest_plot
from tests.charts.svgdoc import (
    by_class,
    centre,
    check_frame,
    number_value,
    percent_value,
    tick_scale,
)

DIFFERENCES = [
    Estimate("Three days before", 0.021, -0.004, 0.046),
    Estimate("One day before", -0.012, -0.035, 0.011),
    Estimate("Both", 0.043, 0.018, 0.068),
]
RATIOS = [
    Estimate("Welsh wording", 1.32, 0.91, 1.90),
    Estimate("No replies in control", 2.5, 0.8, math.inf),
]


def test_risk_differences_sit_on_a_linear_axis() -> None:
    chart = forest_plot(
        DIFFERENCES,
        title="T",
        effect=Effect.RISK_DIFFERENCE,
        measure="Difference",
        prefix="r1",
        favours=("Worse", "Better"),
    )
    root = check_frame(chart.svg, "r1")
    x0, dx = tick_scale(root, "x", percent_value)
    squares = by_class(root, "estimate")
    assert len(squares) == 3
    for square, row in zip(squares, DIFFERENCES, strict=True):
        assert centre(square)[0] == pytest.approx(x0 + dx * row.estimate, abs=0.01)
    (null,) = by_class(root, "null")
    assert float(null.get("x1") or 0) == pytest.approx(x0 + dx * 0.0, abs=0.01)
    assert [t.text for t in by_class(root, "row-numbers")] == [
        "+2.1% (-0.4% to +4.6%)",
        "-1.2% (-3.5% to +1.1%)",
        "+4.3% (+1.8% to +6.8%)",
    ]
    assert len(by_class(root, "favours")) == 2
    assert chart.description.endswith("intervals clear of no difference (0.0%): 1.")


def test_odds_ratios_sit_on_a_log_axis_and_open_ends_get_arrows() -> None:
    chart = forest_plot(
        RATIOS, title="T", effect=Effect.ODDS_RATIO, measure="Odds ratio", prefix="r2"
    )
    root = check_frame(chart.svg, "r2")
    labels = [t for t in by_class(root, "x-axis")[0] if t.tag.endswith("text")]
    ticks = [(number_value(t.text or ""), float(t.get("x") or 0)) for t in labels]
    (v1, x1), (v2, x2) = ticks[0], ticks[-1]
    slope = (x2 - x1) / (math.log(v2) - math.log(v1))
    for square, row in zip(by_class(root, "estimate"), RATIOS, strict=True):
        expected = x1 + slope * (math.log(row.estimate) - math.log(v1))
        assert centre(square)[0] == pytest.approx(expected, abs=0.01)
    (null,) = by_class(root, "null")
    assert float(null.get("x1") or 0) == pytest.approx(x1 + slope * -math.log(v1), abs=0.01)
    assert len(by_class(root, "open-end")) == 1
    assert chart.table.rows[1] == ("No replies in control", 2.5, 0.8, None)
    assert chart.table.display_rows()[1] == ["No replies in control", "2.50", "0.80", ""]
    assert [t.text for t in by_class(root, "row-numbers")][1] == "2.50 (0.80 to no limit)"


def test_table_headings() -> None:
    chart = forest_plot(
        DIFFERENCES, title="T", effect=Effect.RISK_DIFFERENCE, measure="Difference", prefix="r3"
    )
    assert chart.table.headings == ["Comparison", "Difference", "Lower limit", "Upper limit"]
    assert chart.table.rows[0] == ("Three days before", 0.021, -0.004, 0.046)


def test_no_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one row"):
        forest_plot([], title="T", effect=Effect.ODDS_RATIO, measure="M", prefix="r4")
