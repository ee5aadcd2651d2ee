"""The SPC chart, read back from its SVG: points, lines at their values, icons, table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from app.charts.icons import VariationIcon, variation_icon_for
from app.charts.spc import STYLES, SpcWords, spc_chart
from app.core.spc import Assurance, Improvement, PointType, xmr
from tests.charts.svgdoc import (
    by_class,
    centre,
    check_frame,
    number_value,
    parse,
    percent_value,
    tick_scale,
)

STEP = [10, 12] * 5 + [20, 22] * 5
LABELS = [f"Week {i + 1}" for i in range(len(STEP))]


def _y(root: ET.Element, value: float, read: Callable[[str], float] = number_value) -> float:
    offset, slope = tick_scale(root, "y", read)
    return offset + slope * value


def test_every_point_is_drawn_with_its_type() -> None:
    chart = xmr(STEP, "increase", target=15)
    root = check_frame(spc_chart(chart, LABELS, title="T", measure="M", prefix="s1").svg, "s1")
    points = by_class(root, "point")
    assert len(points) == len(STEP)
    assert [p.get("data-type") for p in points] == [t.value for t in chart.point_type]
    for point, kind in zip(points, chart.point_type, strict=True):
        assert point.tag.endswith(
            {"circle": "circle", "square": "rect"}.get(STYLES[kind].shape.value, "polygon")
        )
        assert point.get("fill") == STYLES[kind].fill


def test_lines_sit_at_their_values() -> None:
    chart = xmr(STEP, "increase", target=15, rebase_at=[10])
    root = check_frame(spc_chart(chart, LABELS, title="T", measure="M", prefix="s2").svg, "s2")
    for cls, values in (
        ("upper-limit", chart.upper),
        ("lower-limit", chart.lower),
        ("mean", chart.mean),
    ):
        lines = by_class(root, cls)
        assert len(lines) == 2  # one per period: broken at the rebase
        for line, start in zip(lines, (0, 10), strict=True):
            assert float(line.get("y1") or 0) == pytest.approx(_y(root, values[start]), abs=0.01)
            assert line.get("y1") == line.get("y2")
    (target,) = by_class(root, "target")
    assert float(target.get("y1") or 0) == pytest.approx(_y(root, 15), abs=0.01)
    assert len(by_class(root, "process")) == 2


def test_points_sit_at_their_values_on_a_percent_axis() -> None:
    rates = [0.118, 0.121, 0.114, 0.125, 0.119, 0.122, 0.117, 0.124, 0.12, 0.116]
    chart = xmr(rates, "decrease")
    svg = spc_chart(chart, LABELS[:10], title="T", measure="M", prefix="s3", percent=True).svg
    root = parse(svg)
    for point, value in zip(by_class(root, "point"), rates, strict=True):
        assert centre(point)[1] == pytest.approx(_y(root, value, percent_value), abs=0.01)


def test_icons_and_words() -> None:
    chart = xmr([36, 50, 52, 50, 52, 50, 52, 50, 52, 50, 52, 66], "decrease", target=40)
    drawn = spc_chart(chart, LABELS[:12], title="Waiting <days>", measure="Days", prefix="s4")
    root = check_frame(drawn.svg, "s4")
    (variation,) = by_class(root, "variation-icon")
    (assurance,) = by_class(root, "assurance-icon")
    assert variation.get("data-icon") == "concern_high"
    assert assurance.get("data-icon") == "consistent_fail"
    letters = [t.text for t in variation.iter() if t.tag.endswith("text")]
    assert letters == ["H"]
    assert drawn.title == "Waiting <days>"
    assert "2 special cause points (1 improvement, 1 concern)" in drawn.description
    assert "consistently miss the target" in drawn.description
    assert by_class(root, "trial-note")  # 12 points: trial limits


def test_no_assurance_icon_without_a_target() -> None:
    chart = xmr(STEP, "increase")
    root = parse(spc_chart(chart, LABELS, title="T", measure="M", prefix="s5").svg)
    assert by_class(root, "assurance-icon") == []
    assert by_class(root, "target") == []
    assert by_class(root, "trial-note") == []


@pytest.mark.parametrize(
    ("kind", "improvement", "icon"),
    [  # NHSRplotthedots' ptd_get_icons
        (PointType.COMMON_CAUSE, Improvement.INCREASE, VariationIcon.COMMON_CAUSE),
        (PointType.IMPROVEMENT, Improvement.INCREASE, VariationIcon.IMPROVEMENT_HIGH),
        (PointType.IMPROVEMENT, Improvement.DECREASE, VariationIcon.IMPROVEMENT_LOW),
        (PointType.CONCERN, Improvement.INCREASE, VariationIcon.CONCERN_LOW),
        (PointType.CONCERN, Improvement.DECREASE, VariationIcon.CONCERN_HIGH),
        (PointType.NEUTRAL_HIGH, Improvement.NEUTRAL, VariationIcon.NEUTRAL_HIGH),
        (PointType.NEUTRAL_LOW, Improvement.NEUTRAL, VariationIcon.NEUTRAL_LOW),
    ],
)
def test_variation_icon(kind: PointType, improvement: Improvement, icon: VariationIcon) -> None:
    assert variation_icon_for(kind, improvement) is icon


def test_the_table_matches_the_chart() -> None:
    chart = xmr(STEP, "increase", target=15)
    drawn = spc_chart(chart, LABELS, title="T", measure="M", prefix="s6")
    assert drawn.table.headings == [
        "Period", "Value", "Mean", "Lower process limit", "Upper process limit", "Target",
        "Special cause", "Variation",
    ]  # fmt: skip
    assert [row[1] for row in drawn.table.rows] == STEP
    assert [row[3] for row in drawn.table.rows] == chart.lower
    assert drawn.table.rows[0][6:] == ("Below the lower process limit", "Special cause concern")
    assert drawn.table.rows[1][6:] == ("2 of 3 near the lower limit", "Special cause concern")
    assert drawn.table.display_rows()[0][:3] == ["Week 1", "10", "16"]


def test_undefined_limits_are_left_out() -> None:
    chart = xmr([5, 5, 5, 5], "increase", target=4)
    drawn = spc_chart(chart, LABELS[:4], title="T", measure="M", prefix="s7")
    root = check_frame(drawn.svg, "s7")
    assert by_class(root, "upper-limit") == []
    assert len(by_class(root, "mean")) == 1
    assert drawn.table.rows[0][3] is None
    assert chart.assurance_type is Assurance.INCONSISTENT


def test_translated_words_are_used() -> None:
    words = SpcWords(period="Cyfnod", mean="Cymedr")
    drawn = spc_chart(xmr(STEP), LABELS, title="T", measure="M", prefix="s8", words=words)
    assert drawn.table.headings[0] == "Cyfnod"
    assert "Cymedr" in drawn.svg


def test_one_label_per_point() -> None:
    with pytest.raises(ValueError, match="one period label per point"):
        spc_chart(xmr(STEP), LABELS[:3], title="T", measure="M", prefix="s9")


def test_two_charts_on_a_page_have_distinct_ids() -> None:
    a = parse(spc_chart(xmr(STEP), LABELS, title="T", measure="M", prefix="one").svg)
    b = parse(spc_chart(xmr(STEP), LABELS, title="T", measure="M", prefix="two").svg)
    ids_a = {e.get("id") for e in a.iter()} - {None}
    ids_b = {e.get("id") for e in b.iter()} - {None}
    assert ids_a
    assert ids_b
    assert not ids_a & ids_b
