"""The funnel plot, read back from its SVG."""

from __future__ import annotations

import pytest

from app.charts.funnel import Unit, funnel_plot
from app.core.funnel import FunnelPosition, funnel_limits, funnel_units
from tests.charts.svgdoc import (
    by_class,
    centre,
    check_frame,
    number_value,
    percent_value,
    tick_scale,
)

UNITS = [
    Unit("North", 38, 420),
    Unit("South", 61, 510),
    Unit("West", 90, 640),
    Unit("Harbour <&>", 4, 150),
    Unit("Hilltop", 140, 900),
]


def test_units_sit_at_their_rate_and_volume() -> None:
    chart = funnel_plot(
        UNITS,
        title="DNA",
        rate_measure="DNA rate",
        volume_measure="Booked",
        events_measure="Missed",
        prefix="f1",
    )
    root = check_frame(chart.svg, "f1")
    x0, dx = tick_scale(root, "x", number_value)
    y0, dy = tick_scale(root, "y", percent_value)
    markers = by_class(root, "unit")
    assert len(markers) == len(UNITS)
    placed = funnel_units([u.events for u in UNITS], [u.volume for u in UNITS])
    for marker, unit, spot in zip(markers, UNITS, placed, strict=True):
        x, y = centre(marker)
        assert x == pytest.approx(x0 + dx * unit.volume, abs=0.01)
        assert y == pytest.approx(y0 + dy * unit.events / unit.volume, abs=0.01)
        assert marker.get("data-position") == spot.position.value
    (overall,) = by_class(root, "overall")
    rate = sum(u.events for u in UNITS) / sum(u.volume for u in UNITS)
    assert float(overall.get("y1") or 0) == pytest.approx(y0 + dy * rate, abs=0.01)
    for cls in ("lower-95", "upper-95", "lower-998", "upper-998"):
        assert len(by_class(root, cls)) == 1


def test_limit_lines_follow_the_limits() -> None:
    chart = funnel_plot(
        UNITS,
        title="DNA",
        rate_measure="DNA rate",
        volume_measure="Booked",
        events_measure="Missed",
        prefix="f2",
    )
    root = check_frame(chart.svg, "f2")
    x0, dx = tick_scale(root, "x", number_value)
    y0, dy = tick_scale(root, "y", percent_value)
    (upper,) = by_class(root, "upper-998")
    pairs = [tuple(map(float, p.split(","))) for p in (upper.get("points") or "").split()]
    rate = sum(u.events for u in UNITS) / sum(u.volume for u in UNITS)
    x, y = pairs[-1]
    n = round((x - x0) / dx)
    assert y == pytest.approx(y0 + dy * funnel_limits(rate, n).upper_998, abs=0.02)


def test_outliers_are_named_and_the_table_matches() -> None:
    chart = funnel_plot(
        UNITS,
        title="DNA",
        rate_measure="DNA rate",
        volume_measure="Booked",
        events_measure="Missed",
        prefix="f3",
    )
    root = check_frame(chart.svg, "f3")
    positions = [row[-1] for row in chart.table.rows]
    named = [t.text for t in by_class(root, "unit-label")]
    assert named == ["Harbour <&>"]
    assert positions[3] == "Below the 99.8% limit"
    assert chart.table.headings[:4] == ["Clinic", "Missed", "Booked", "DNA rate"]
    assert chart.table.rows[0][:4] == ("North", 38, 420, 38 / 420)
    assert chart.table.display_rows()[0][3] == "9.0%"
    assert "1 below the 99.8% limits" in chart.description
    assert FunnelPosition.BELOW_998.value in chart.svg


def test_no_units_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one unit"):
        funnel_plot(
            [], title="T", rate_measure="R", volume_measure="V", events_measure="E", prefix="f4"
        )


def test_limits_the_caller_has_are_used_as_given() -> None:
    words = {"title": "DNA", "rate_measure": "R", "volume_measure": "V", "events_measure": "E"}
    computed = funnel_plot(UNITS, prefix="f5", **words)
    rate = sum(u.events for u in UNITS) / sum(u.volume for u in UNITS)
    known = [Unit(u.label, u.events, u.volume, funnel_limits(rate, u.volume)) for u in UNITS]
    given = funnel_plot(known, prefix="f5", **words)
    assert (given.svg, given.table.rows) == (computed.svg, computed.table.rows)
    # Limits drawn tight around North's own rate put it within them, whatever they say.
    north = UNITS[0]
    tight = funnel_limits(north.events / north.volume, north.volume)
    chart = funnel_plot([Unit("North", 38, 420, tight), *UNITS[1:]], prefix="f6", **words)
    assert chart.table.rows[0][4:8] == (
        tight.lower_95,
        tight.upper_95,
        tight.lower_998,
        tight.upper_998,
    )
    (first, *_) = by_class(check_frame(chart.svg, "f6"), "unit")
    assert first.get("data-position") == FunnelPosition.WITHIN.value
