"""The line chart with interval bands, read back from its SVG."""

from __future__ import annotations

import pytest

from app.charts.line import Series, line_chart
from app.charts.table import Chart
from tests.charts.svgdoc import (
    all_of,
    by_class,
    centre,
    check_frame,
    percent_value,
    tick_scale,
)

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May"]
WEIGHTED = [0.5, 0.55, None, 0.6, 0.58]
LOWS = [0.45, 0.5, None, 0.55, 0.52]
HIGHS = [0.55, 0.6, None, 0.65, 0.64]
UNWEIGHTED = [0.52, 0.56, 0.57, 0.61, 0.6]


def _chart(prefix: str = "l1") -> Chart:
    return line_chart(
        MONTHS,
        [Series("Weighted <w>", WEIGHTED, LOWS, HIGHS), Series("Unweighted", UNWEIGHTED)],
        title="Shares",
        measure="Share",
        prefix=prefix,
    )


def test_points_bands_and_gaps() -> None:
    chart = _chart()
    root = check_frame(chart.svg, "l1")
    first, second = by_class(root, "series")
    assert len(by_class(first, "point")) == 4  # the missing month has no point
    assert len(by_class(second, "point")) == 5
    assert len(by_class(first, "line")) == 2  # the line breaks at the gap
    assert len(by_class(first, "band")) == 2
    assert by_class(second, "band") == []
    offset, slope = tick_scale(root, "y", percent_value)
    for point, value in zip(by_class(second, "point"), UNWEIGHTED, strict=True):
        assert centre(point)[1] == pytest.approx(offset + slope * value, abs=0.01)


def test_markers_differ_by_shape_as_well_as_colour() -> None:
    root = check_frame(_chart().svg, "l1")
    first, second = by_class(root, "series")
    assert {p.tag.split("}")[1] for p in by_class(first, "point")} == {"circle"}
    assert {p.tag.split("}")[1] for p in by_class(second, "point")} == {"rect"}


def test_labels_are_escaped_and_the_table_matches() -> None:
    chart = _chart()
    assert "Weighted &lt;w&gt;" in chart.svg
    root = check_frame(chart.svg, "l1")
    assert "Weighted <w>" in [t.text for t in all_of(root, "text")]
    table = chart.table
    assert table.headings == [
        "Month", "Weighted <w>", "Weighted <w>: lower limit", "Weighted <w>: upper limit",
        "Unweighted",
    ]  # fmt: skip
    assert [row[1] for row in table.rows] == WEIGHTED
    assert [row[4] for row in table.rows] == UNWEIGHTED
    assert table.display_rows()[2] == ["Mar", "", "", "", "57.0%"]
    assert "in May: Weighted <w> 58.0% (52.0% to 64.0%); Unweighted 60.0%" in (chart.description)


def test_many_periods_get_thinned_labels() -> None:
    months = [f"Month {i}" for i in range(36)]
    chart = line_chart(months, [Series("A", [0.5] * 36)], title="T", measure="M", prefix="l2")
    root = check_frame(chart.svg, "l2")
    labels = [t for t in by_class(root, "x-axis")[0] if t.tag.endswith("text")]
    assert 3 <= len(labels) < 12
    assert labels[0].text == "Month 0"
    assert labels[-1].text == "Month 35"


def test_series_must_match_the_periods() -> None:
    with pytest.raises(ValueError, match="one value per period"):
        line_chart(MONTHS, [Series("A", [0.1])], title="T", measure="M", prefix="l3")
    with pytest.raises(ValueError, match="at least one period"):
        line_chart([], [], title="T", measure="M", prefix="l3")
