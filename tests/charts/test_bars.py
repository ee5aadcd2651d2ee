"""Horizontal bars with whiskers, read back from their SVG."""

from __future__ import annotations

import pytest

from app.charts.bars import Bar, bar_chart
from tests.charts.svgdoc import by_class, check_frame, percent_value, tick_scale

BARS = [
    Bar("16 to 24", 0.21, 0.18, 0.24, "812 invited"),
    Bar("65 and over & <older>", 0.44, 0.41, 0.47),
    Bar("Not recorded", 0.12),
]


def test_bars_and_whiskers_sit_at_their_values() -> None:
    chart = bar_chart(
        BARS, title="Response", measure="Response rate", prefix="b1", reference=("All", 0.31)
    )
    root = check_frame(chart.svg, "b1")
    offset, slope = tick_scale(root, "x", percent_value)
    rects = by_class(root, "bar-value")
    assert len(rects) == 3
    for rect, bar in zip(rects, BARS, strict=True):
        start = float(rect.get("x") or 0)
        end = start + float(rect.get("width") or 0)
        assert start == pytest.approx(offset, abs=0.01)
        assert end == pytest.approx(offset + slope * bar.value, abs=0.01)
    whiskers = by_class(root, "whisker")
    assert len(whiskers) == 2  # the bar without an interval has none
    span = next(iter(whiskers[0]))
    assert float(span.get("x1") or 0) == pytest.approx(offset + slope * 0.18, abs=0.01)
    assert float(span.get("x2") or 0) == pytest.approx(offset + slope * 0.24, abs=0.01)
    (reference,) = by_class(root, "reference")
    assert float(reference.get("x1") or 0) == pytest.approx(offset + slope * 0.31, abs=0.01)
    assert [t.text for t in by_class(root, "bar-number")] == ["21.0%", "44.0%", "12.0%"]


def test_the_table_and_summary() -> None:
    chart = bar_chart(BARS, title="Response", measure="Response rate", prefix="b2")
    assert chart.table.headings == ["Group", "Response rate", "Lower limit", "Upper limit", "Notes"]
    assert chart.table.rows[0] == ("16 to 24", 0.21, 0.18, 0.24, "812 invited")
    assert chart.table.display_rows()[2] == ["Not recorded", "12.0%", "", "", ""]
    assert chart.description == (
        "Bar chart of Response rate for 3 groups, from Not recorded (12.0%) to "
        "65 and over & <older> (44.0%)."
    )
    assert "65 and over &amp; &lt;older&gt;" in chart.svg


def test_long_labels_are_cut_with_the_full_text_kept() -> None:
    long = "A group whose name runs on far longer than the label column allows"
    chart = bar_chart([Bar(long, 0.5)], title="T", measure="M", prefix="b3")
    root = check_frame(chart.svg, "b3")
    (label,) = by_class(root, "bar-label")
    assert (label.text or "").endswith("…")
    assert next(iter(label)).text == long


def test_plain_numbers() -> None:
    chart = bar_chart(
        [Bar("A", 1500.0), Bar("B", 250.0)],
        title="T",
        measure="Replies",
        prefix="b4",
        percent=False,
    )
    assert [t.text for t in by_class(check_frame(chart.svg, "b4"), "bar-number")] == [
        "1,500",
        "250",
    ]


def test_no_bars_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one bar"):
        bar_chart([], title="T", measure="M", prefix="b5")
