"""A funnel plot: each unit's rate against its volume, with 95% and 99.8% limits around the
overall rate (the limits come from `app.core.funnel`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.charts.frame import (
    WIDTH,
    Area,
    LegendItem,
    Shape,
    axis_title,
    clip,
    legend,
    line_sample,
    marker,
    marker_sample,
    polyline,
    x_axis,
    y_axis,
)
from app.charts.palette import NHS
from app.charts.svg import SMALL_FONT_SIZE, Scale, element, serialise, svg_root, truncate
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import nice_ticks, number_formatter, percent_formatter, plain_percent
from app.core.funnel import (
    FunnelLimits,
    FunnelPosition,
    FunnelUnit,
    funnel_curve,
    funnel_limits,
    funnel_units,
    overall_rate,
)


@dataclass(frozen=True)
class Unit:
    """A unit on the plot (a clinic): its events out of its volume."""

    label: str
    events: int
    volume: int
    #: Its limits around the overall rate, when the caller has them already (they are
    #: computed otherwise).
    limits: FunnelLimits | None = None


@dataclass(frozen=True)
class PositionStyle:
    """How units in one position are drawn."""

    shape: Shape
    fill: str
    size: float


STYLES = {
    FunnelPosition.WITHIN: PositionStyle(Shape.CIRCLE, NHS.blue, 9),
    FunnelPosition.ABOVE_95: PositionStyle(Shape.TRIANGLE_UP, NHS.dark_blue, 11),
    FunnelPosition.BELOW_95: PositionStyle(Shape.TRIANGLE_DOWN, NHS.dark_blue, 11),
    FunnelPosition.ABOVE_998: PositionStyle(Shape.DIAMOND, NHS.dark_pink, 12),
    FunnelPosition.BELOW_998: PositionStyle(Shape.DIAMOND, NHS.dark_pink, 12),
}


@dataclass(frozen=True)
class FunnelWords:
    """The chart's words (English by default; pass translated ones)."""

    unit: str = "Clinic"
    overall: str = "Overall rate ({value})"
    limits_95: str = "95% limits"
    limits_998: str = "99.8% limits"
    lower_95: str = "95% lower limit"
    upper_95: str = "95% upper limit"
    lower_998: str = "99.8% lower limit"
    upper_998: str = "99.8% upper limit"
    position: str = "Position"
    within: str = "Within the 95% limits"
    above_95: str = "Above the 95% limit"
    below_95: str = "Below the 95% limit"
    above_998: str = "Above the 99.8% limit"
    below_998: str = "Below the 99.8% limit"
    point: str = "{label}: {rate} ({events} of {volume}), {position}"
    summary: str = (
        "Funnel plot of {rate} against {volume} for {count} units around the overall rate of "
        "{overall}: {above} above and {below} below the 99.8% limits, {outside_95} outside "
        "the 95% limits."
    )

    def position_text(self, position: FunnelPosition) -> str:
        """A position in words."""
        return {
            FunnelPosition.WITHIN: self.within,
            FunnelPosition.ABOVE_95: self.above_95,
            FunnelPosition.BELOW_95: self.below_95,
            FunnelPosition.ABOVE_998: self.above_998,
            FunnelPosition.BELOW_998: self.below_998,
        }[position]


def funnel_plot(
    units: Sequence[Unit],
    *,
    title: str,
    rate_measure: str,
    volume_measure: str,
    events_measure: str,
    prefix: str,
    plot_height: int = 300,
    words: FunnelWords | None = None,
) -> Chart:
    """Units' rates (events / volume) against their volumes, with the overall rate and its
    95% and 99.8% limits; units beyond the 99.8% limits are named on the plot."""
    if not units:
        raise ValueError("a funnel plot needs at least one unit")
    text = words or FunnelWords()
    events = [u.events for u in units]
    volumes = [u.volume for u in units]
    centre = overall_rate(events, volumes)
    placed = funnel_units(events, volumes, centre, [u.limits for u in units])
    x_ticks = nice_ticks(0.0, max(volumes))
    y_ticks = _y_ticks(placed, centre, min(volumes))
    description = _summary(units, placed, centre, rate_measure, volume_measure, text)
    root = svg_root(prefix, WIDTH, WIDTH, title, description)  # height set below
    axis_title(root, rate_measure, 16, 40)
    area = Area(left=64, top=56, right=WIDTH - 60, bottom=56 + plot_height)
    x = Scale(x_ticks[0], x_ticks[-1], area.left, area.right)
    y = Scale(y_ticks[0], y_ticks[-1], area.bottom, area.top)
    y_axis(root, area, y, y_ticks, percent_formatter(y_ticks))
    x_axis(root, area, x, x_ticks, number_formatter(x_ticks))
    axis_title(root, volume_measure, area.right, area.bottom + 42, anchor="end")
    curve = funnel_curve(centre, max(1, round(x_ticks[-1] / 400)), round(x_ticks[-1]))
    _limits(root, curve, centre, x, y, area, clip(root, f"{prefix}-plot", area))
    _units(root, units, placed, x, y, text)
    below = legend(root, _legend_items(placed, centre, text), 16, area.bottom + 66, WIDTH - 32)
    root.set("viewBox", f"0 0 {WIDTH} {round(below)}")
    return Chart(
        serialise(root),
        _table(units, placed, rate_measure, volume_measure, events_measure, text),
        title,
        description,
    )


def _y_ticks(placed: Sequence[FunnelUnit], centre: float, smallest: int) -> list[float]:
    widest = funnel_limits(centre, max(1, smallest))
    seen = [centre, widest.lower_998, widest.upper_998, *(u.rate for u in placed)]
    return nice_ticks(max(0.0, min(seen)), min(1.0, max(seen)))


def _limits(
    root: ET.Element,
    curve: list[FunnelLimits],
    centre: float,
    x: Scale,
    y: Scale,
    area: Area,
    clip_url: str,
) -> None:
    group = element(root, "g", class_="limits", clip_path=clip_url)
    element(
        group,
        "line",
        x1=area.left,
        x2=area.right,
        y1=y(centre),
        y2=y(centre),
        stroke=NHS.black,
        stroke_width=2.0,
        class_="overall",
        data_value=repr(centre),
    )
    lines: list[tuple[str, Callable[[FunnelLimits], float], str | None]] = [
        ("lower-95", lambda c: c.lower_95, "6 4"),
        ("upper-95", lambda c: c.upper_95, "6 4"),
        ("lower-998", lambda c: c.lower_998, None),
        ("upper-998", lambda c: c.upper_998, None),
    ]
    for cls, limit, dash in lines:
        polyline(
            group,
            [(x(c.n), y(limit(c))) for c in curve],
            stroke=NHS.dark_grey,
            stroke_width=1.5,
            stroke_dasharray=dash,
            class_=cls,
        )
    last = curve[-1]
    for label, value in (
        ("99.8%", last.upper_998),
        ("95%", last.upper_95),
        ("95%", last.lower_95),
        ("99.8%", last.lower_998),
    ):
        if area.top <= y(value) <= area.bottom:
            element(
                root,
                "text",
                label,
                x=area.right + 4,
                y=y(value),
                font_size=SMALL_FONT_SIZE,
                dominant_baseline="middle",
                fill=NHS.secondary_text,
                aria_hidden="true",
            )


def _units(
    root: ET.Element,
    units: Sequence[Unit],
    placed: Sequence[FunnelUnit],
    x: Scale,
    y: Scale,
    text: FunnelWords,
) -> None:
    group = element(root, "g", class_="units")
    for unit, spot in zip(units, placed, strict=True):
        style = STYLES[spot.position]
        px, py = x(spot.n), y(spot.rate)
        dot = marker(
            group,
            style.shape,
            px,
            py,
            style.size,
            style.fill,
            NHS.white,
            class_="unit",
            data_position=spot.position.value,
        )
        element(
            dot,
            "title",
            text.point.format(
                label=unit.label,
                rate=plain_percent(spot.rate),
                events=spot.events,
                volume=spot.n,
                position=text.position_text(spot.position).lower(),
            ),
        )
        if spot.position in (FunnelPosition.ABOVE_998, FunnelPosition.BELOW_998):
            anchor = "end" if px > (x.start + x.end) / 2 else "start"
            element(
                group,
                "text",
                truncate(unit.label, 150, SMALL_FONT_SIZE),
                x=px + (-9 if anchor == "end" else 9),
                y=py,
                text_anchor=anchor,
                dominant_baseline="middle",
                font_size=SMALL_FONT_SIZE,
                class_="unit-label",
            )


def _legend_items(
    placed: Sequence[FunnelUnit], centre: float, text: FunnelWords
) -> list[LegendItem]:
    items = [
        LegendItem(
            text.overall.format(value=plain_percent(centre)), line_sample(NHS.black, None, 2.0)
        ),
        LegendItem(text.limits_95, line_sample(NHS.dark_grey, "6 4", 1.5)),
        LegendItem(text.limits_998, line_sample(NHS.dark_grey, None, 1.5)),
    ]
    for position in FunnelPosition:
        if any(u.position is position for u in placed):
            style = STYLES[position]
            items.append(
                LegendItem(
                    text.position_text(position),
                    marker_sample(style.shape, style.fill, NHS.white, style.size),
                )
            )
    return items


def _summary(
    units: Sequence[Unit],
    placed: Sequence[FunnelUnit],
    centre: float,
    rate_measure: str,
    volume_measure: str,
    text: FunnelWords,
) -> str:
    positions = [u.position for u in placed]
    return text.summary.format(
        rate=rate_measure,
        volume=volume_measure,
        count=len(units),
        overall=plain_percent(centre),
        above=positions.count(FunnelPosition.ABOVE_998),
        below=positions.count(FunnelPosition.BELOW_998),
        outside_95=sum(p is not FunnelPosition.WITHIN for p in positions),
    )


def _table(
    units: Sequence[Unit],
    placed: Sequence[FunnelUnit],
    rate_measure: str,
    volume_measure: str,
    events_measure: str,
    text: FunnelWords,
) -> Table:
    rate = numeric(plain_percent)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        text.unit,
        events_measure,
        volume_measure,
        (rate_measure, rate),
        (text.lower_95, rate),
        (text.upper_95, rate),
        (text.lower_998, rate),
        (text.upper_998, rate),
        text.position,
    ]
    rows: list[list[Cell]] = [
        [
            unit.label,
            spot.events,
            spot.n,
            spot.rate,
            spot.limits.lower_95,
            spot.limits.upper_95,
            spot.limits.lower_998,
            spot.limits.upper_998,
            text.position_text(spot.position),
        ]
        for unit, spot in zip(units, placed, strict=True)
    ]
    return table(headings, rows)
