"""A dot plot of paired values (before and after weighting), read back from its SVG."""

from __future__ import annotations

import pytest

from app.charts.dots import Dots, dot_plot
from tests.charts.svgdoc import by_class, centre, check_frame, number_value, tick_scale

ROWS = [
    Dots("16-24", (-0.42, 0.0)),
    Dots("75+ & <older>", (0.31, 0.02)),
    Dots("Welsh", (None, -0.12)),
]
SERIES = ("Before weighting", "After weighting")


def test_each_value_is_a_marker_at_its_place() -> None:
    chart = dot_plot(ROWS, SERIES, title="Differences", measure="Difference", prefix="d1")
    root = check_frame(chart.svg, "d1")
    offset, slope = tick_scale(root, "x", number_value)
    dots = by_class(root, "dot")
    assert len(dots) == 5  # the missing value draws nothing
    drawn = [(d.get("data-series"), centre(d)[0]) for d in dots]
    expected = [("0", -0.42), ("1", 0.0), ("0", 0.31), ("1", 0.02), ("1", -0.12)]
    for (series, x), (want_series, value) in zip(drawn, expected, strict=True):
        assert series == want_series
        assert x == pytest.approx(offset + slope * value, abs=0.01)
    assert len(by_class(root, "join")) == 2  # rows with two values are joined
    (reference,) = by_class(root, "reference")
    assert float(reference.get("x1") or 0) == pytest.approx(offset, abs=0.01)
    titles = [next(iter(d)).text for d in dots]
    assert titles[0] == "16-24, Before weighting: -0.42"


def test_the_table_and_summary() -> None:
    chart = dot_plot(ROWS, SERIES, title="T", measure="Standardised difference", prefix="d2")
    assert chart.table.headings == ["Group", *SERIES]
    assert chart.table.rows[2] == ("Welsh", None, -0.12)
    assert chart.table.display_rows()[0] == ["16-24", "-0.42", "0"]
    assert chart.description == (
        "Dot plot of Standardised difference for 3 rows and Before weighting, After "
        "weighting; the largest in size is 16-24 (-0.42, Before weighting)."
    )
    assert "75+ &amp; &lt;older&gt;" in chart.svg


def test_percentages_and_no_reference() -> None:
    chart = dot_plot(
        [Dots("A", (0.25,))], ("Share",), title="T", measure="M", prefix="d3", percent=True,
        reference=None,
    )  # fmt: skip
    root = check_frame(chart.svg, "d3")
    assert by_class(root, "reference") == []
    assert chart.table.display_rows() == [["A", "25.0%"]]


@pytest.mark.parametrize(
    ("rows", "series", "message"),
    [
        ([], SERIES, "at least one row"),
        ([Dots("A", (1.0,))], SERIES, "has 1 values for 2 series"),
        ([Dots("A", (None, None))], SERIES, "at least one value"),
        ([Dots("A", (1.0,) * 4)], ("a", "b", "c", "d"), "1 to 3 series"),
    ],
)
def test_bad_input_is_refused(rows: list[Dots], series: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dot_plot(rows, series, title="T", measure="M", prefix="d4")
