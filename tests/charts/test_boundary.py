"""The stopping-boundary chart, read back from its SVG."""

from __future__ import annotations

import math

import pytest

from app.charts.boundary import BoundaryMark, boundary_chart
from tests.charts.svgdoc import (
    all_of,
    by_class,
    centre,
    check_frame,
    number_value,
    percent_value,
    tick_scale,
)

#: O'Brien–Fleming boundaries for looks at 25% and 50%, and the path between.
MARKS = [
    BoundaryMark(0.1, 6.99),
    BoundaryMark(0.25, 4.33, observed=2.17, label="Look 1"),
    BoundaryMark(0.4, 3.36),
    BoundaryMark(0.5, 2.96, observed=3.1, label="Now"),
    BoundaryMark(1.0, 1.97),
]


def test_looks_sit_at_their_fraction_and_z_and_say_whether_they_cross() -> None:
    chart = boundary_chart(MARKS, title="Boundary", prefix="b1", reference=("Final", 1.96))
    root = check_frame(chart.svg, "b1")
    x0, dx = tick_scale(root, "x", percent_value)
    y0, dy = tick_scale(root, "y", number_value)
    looks = by_class(root, "look")
    assert len(looks) == 2
    for look, mark in zip(looks, [MARKS[1], MARKS[3]], strict=True):
        assert mark.observed is not None
        assert centre(look) == pytest.approx(
            (x0 + dx * mark.fraction, y0 + dy * mark.observed), abs=0.01
        )
    assert [look.get("class") for look in looks] == ["look", "look crossed"]
    assert [look[0].text for look in looks] == [
        "Look 1 at 25.0%: |z| 2.17, boundary 4.33",
        "Now at 50.0%: |z| 3.10, boundary 2.96",
    ]
    (line,) = by_class(root, "boundary")
    corners = [float(v) for p in (line.get("points") or "").split() for v in p.split(",")]
    expected = [v for m in MARKS for v in (x0 + dx * m.fraction, y0 + dy * m.boundary)]
    assert corners == pytest.approx(expected, abs=0.01)
    (reference,) = by_class(root, "reference")
    assert float(reference.get("y1") or 0) == pytest.approx(y0 + dy * 1.96, abs=0.01)
    assert chart.description == (
        "Stopping boundary by share of the planned sample, from |z| 6.99 at 10.0% to 1.97 at "
        "100.0%; 2 looks, 1 reaching it."
    )


def test_the_table_has_every_point_and_infinite_values_are_left_empty() -> None:
    marks = [BoundaryMark(0.05, math.inf), *MARKS, BoundaryMark(0.7, 2.4, math.inf, "Look 3")]
    chart = boundary_chart(marks, title="Boundary", prefix="b2")
    root = check_frame(chart.svg, "b2")
    assert chart.table.headings == [
        "Share of the planned sample",
        "Look",
        "Stopping boundary |z|",
        "Observed |z|",
        "Crossed",
    ]
    assert [row[0] for row in chart.table.rows] == [0.05, 0.1, 0.25, 0.4, 0.5, 0.7, 1.0]
    assert chart.table.rows[0] == (0.05, "", None, None, "")
    assert chart.table.rows[2] == (0.25, "Look 1", 4.33, 2.17, "No")
    assert chart.table.rows[5] == (0.7, "Look 3", 2.4, None, "Yes")
    assert chart.table.display_rows()[2] == ["25.0%", "Look 1", "4.330", "2.170", "No"]
    # The infinite boundary is not drawn; the infinite |z| is drawn at the top, crossing.
    (line,) = by_class(root, "boundary")
    assert len((line.get("points") or "").split()) == 6
    y0, dy = tick_scale(root, "y", number_value)
    top = centre(by_class(root, "look")[-1])[1]
    ticks = [float(t.text or 0) for t in by_class(root, "y-axis")[0] if t.tag.endswith("text")]
    assert top == pytest.approx(y0 + dy * max(ticks), abs=0.01)
    assert by_class(root, "look")[-1].get("class") == "look crossed"


def test_a_boundary_above_the_ceiling_runs_off_the_clipped_plot() -> None:
    chart = boundary_chart(
        [BoundaryMark(0.02, 14.0), BoundaryMark(1.0, 1.96)], title="T", prefix="b3"
    )
    root = check_frame(chart.svg, "b3")
    ticks = [float(t.text or 0) for t in by_class(root, "y-axis")[0] if t.tag.endswith("text")]
    assert max(ticks) == 8.0
    (plot,) = [g for g in all_of(root, "g") if g.get("clip-path") == "url(#b3-clip)"]
    (line,) = by_class(plot, "boundary")
    y0, dy = tick_scale(root, "y", number_value)
    first_y = float((line.get("points") or "").split()[0].split(",")[1])
    assert first_y < y0 + dy * 8.0  # above the top of the plot, where the clip cuts it


@pytest.mark.parametrize(
    ("marks", "message"),
    [
        ([], "at least one point"),
        ([BoundaryMark(0.0, 2.0)], "information fraction"),
        ([BoundaryMark(1.2, 2.0)], "information fraction"),
        ([BoundaryMark(0.5, -1.0)], "positive"),
        ([BoundaryMark(0.5, 2.0, observed=-0.1)], "not negative"),
        ([BoundaryMark(0.5, 2.0, observed=math.nan)], "not negative"),
    ],
)
def test_impossible_points_are_refused(marks: list[BoundaryMark], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        boundary_chart(marks, title="T", prefix="b4")


def test_labels_are_escaped() -> None:
    chart = boundary_chart([BoundaryMark(0.5, 3.0, 1.0, "<Look & 1>")], title="A <b>", prefix="b5")
    assert "&lt;Look &amp; 1&gt;" in chart.svg
    assert "<b>" not in chart.svg
