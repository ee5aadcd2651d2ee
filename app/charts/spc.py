"""The XmR chart as "Making Data Count" draws it, from `app.core.spc.xmr`.

A grey line joins the points; each period (between rebases) has its mean as a solid line
and its process limits as dashed grey lines, broken where the chart is rebased; a target
is a dashed red line. Points are coloured by type (blue improvement, orange concern,
purple neutral, grey common cause) and shaped too (diamond, square, triangle, circle), and
the variation and assurance icons sit at the top right.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.charts.frame import (
    WIDTH,
    Area,
    LegendItem,
    Shape,
    axis_title,
    category_axis,
    legend,
    line_sample,
    marker,
    marker_sample,
    polyline,
    y_axis,
)
from app.charts.icons import draw_assurance_icon, draw_variation_icon, variation_icon_for
from app.charts.palette import SPC
from app.charts.svg import SMALL_FONT_SIZE, Scale, element, serialise, svg_root
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import (
    Formatter,
    nice_ticks,
    number_formatter,
    percent_formatter,
    plain_number,
    plain_percent,
)
from app.core.spc import Assurance, PointType, SpecialCause, XmR

ICON_SIZE = 44.0


@dataclass(frozen=True)
class PointStyle:
    """How a point type is drawn."""

    shape: Shape
    fill: str
    edge: str
    size: float


STYLES = {
    PointType.COMMON_CAUSE: PointStyle(Shape.CIRCLE, SPC.common_cause, SPC.common_cause_edge, 7),
    PointType.IMPROVEMENT: PointStyle(Shape.DIAMOND, SPC.improvement, SPC.improvement_edge, 11),
    PointType.CONCERN: PointStyle(Shape.SQUARE, SPC.concern, SPC.concern_edge, 11),
    PointType.NEUTRAL_HIGH: PointStyle(Shape.TRIANGLE_UP, SPC.neutral, SPC.neutral_edge, 11),
    PointType.NEUTRAL_LOW: PointStyle(Shape.TRIANGLE_DOWN, SPC.neutral, SPC.neutral_edge, 11),
}


@dataclass(frozen=True)
class SpcWords:
    """The chart's words (English by default; pass translated ones)."""

    period: str = "Period"
    value: str = "Value"
    mean: str = "Mean"
    lower: str = "Lower process limit"
    upper: str = "Upper process limit"
    limits: str = "Process limits"
    target: str = "Target"
    special_cause: str = "Special cause"
    variation: str = "Variation"
    common_cause: str = "Common cause"
    improvement: str = "Special cause improvement"
    concern: str = "Special cause concern"
    neutral_high: str = "Special cause (high)"
    neutral_low: str = "Special cause (low)"
    above_ucl: str = "Above the upper process limit"
    below_lcl: str = "Below the lower process limit"
    seven_above: str = "Run of 7 above the mean"
    seven_below: str = "Run of 7 below the mean"
    two_in_three_above: str = "2 of 3 near the upper limit"
    two_in_three_below: str = "2 of 3 near the lower limit"
    trend_up: str = "Trend of 7 rising"
    trend_down: str = "Trend of 7 falling"
    no_special_cause: str = "None"
    meets_target: str = "the process will consistently meet the target"
    misses_target: str = "the process will consistently miss the target"
    hit_and_miss: str = "the process will sometimes meet and sometimes miss the target"
    assurance_title: str = "Assurance: {assurance}"
    variation_now: str = "Variation now: {kind}"
    trial: str = (
        "Limits from fewer than 13 points are trial limits: they will change as data comes in."
    )
    point: str = "{period}: {value} ({kind})"
    summary: str = (
        "SPC chart of {measure}, {count} points from {first} to {last}: latest mean {mean}, "
        "process limits {lower} to {upper}{target}; {special} special cause points "
        "({improvement} improvement, {concern} concern); the latest point shows "
        "{variation}{assurance}."
    )
    summary_target: str = ", target {target}"
    summary_assurance: str = ", and {assurance}"

    def kind(self, point_type: PointType) -> str:
        """A point type in words."""
        return {
            PointType.COMMON_CAUSE: self.common_cause,
            PointType.IMPROVEMENT: self.improvement,
            PointType.CONCERN: self.concern,
            PointType.NEUTRAL_HIGH: self.neutral_high,
            PointType.NEUTRAL_LOW: self.neutral_low,
        }[point_type]

    def cause(self, cause: SpecialCause) -> str:
        """A special cause in words."""
        return {
            SpecialCause.COMMON_CAUSE: self.no_special_cause,
            SpecialCause.ABOVE_UCL: self.above_ucl,
            SpecialCause.BELOW_LCL: self.below_lcl,
            SpecialCause.SEVEN_ABOVE: self.seven_above,
            SpecialCause.SEVEN_BELOW: self.seven_below,
            SpecialCause.TWO_IN_THREE_ABOVE: self.two_in_three_above,
            SpecialCause.TWO_IN_THREE_BELOW: self.two_in_three_below,
            SpecialCause.TREND_UP: self.trend_up,
            SpecialCause.TREND_DOWN: self.trend_down,
        }[cause]

    def assurance(self, assurance: Assurance) -> str:
        """An assurance type in words."""
        return {
            Assurance.CONSISTENT_PASS: self.meets_target,
            Assurance.CONSISTENT_FAIL: self.misses_target,
            Assurance.INCONSISTENT: self.hit_and_miss,
        }[assurance]


def spc_chart(
    chart: XmR,
    periods: Sequence[str],
    *,
    title: str,
    measure: str,
    prefix: str,
    percent: bool = False,
    plot_height: int = 260,
    words: SpcWords | None = None,
) -> Chart:
    """The XmR chart of `chart`, one label in `periods` per point; `percent` for
    proportions written as percentages. The drawing is `plot_height` high inside a
    viewBox 640 wide, plus the header and legend."""
    if len(periods) != len(chart.values):
        raise ValueError("an SPC chart needs one period label per point")
    text = words or SpcWords()
    write = plain_percent if percent else plain_number
    ticks = nice_ticks(*_extent(chart))
    description = _summary(chart, periods, measure, write, text)
    root = svg_root(prefix, WIDTH, WIDTH, title, description)  # height set below
    axis_title(root, measure, 16, 40)
    _icons(root, chart, text)
    area = Area(left=64, top=64, right=WIDTH - 16, bottom=64 + plot_height)
    y = Scale(ticks[0], ticks[-1], area.bottom, area.top)
    y_axis(root, area, y, ticks, percent_formatter(ticks) if percent else number_formatter(ticks))
    step = area.width / len(chart.values)
    xs = [area.left + (i + 0.5) * step for i in range(len(chart.values))]
    category_axis(root, area, xs, periods)
    _lines(root, chart, xs, y, step, area)
    _points(root, chart, xs, y, periods, write, text)
    below = legend(root, _legend_items(chart, text), 16, area.bottom + 46, WIDTH - 32)
    if any(chart.trial_limits):
        element(
            root,
            "text",
            text.trial,
            x=16.0,
            y=below,
            font_size=SMALL_FONT_SIZE,
            dominant_baseline="middle",
            class_="trial-note",
        )
        below += 22
    root.set("viewBox", f"0 0 {WIDTH} {round(below)}")
    return Chart(serialise(root), _table(chart, periods, write, text), title, description)


def _extent(chart: XmR) -> tuple[float, float]:
    seen = [*chart.values, *chart.lower, *chart.upper]
    if chart.target is not None:
        seen.append(chart.target)
    finite = [v for v in seen if math.isfinite(v)]
    return min(finite), max(finite)


def _icons(root: ET.Element, chart: XmR, text: SpcWords) -> None:
    x = WIDTH - 16 - ICON_SIZE / 2
    if chart.assurance_type is not None:
        draw_assurance_icon(
            root,
            chart.assurance_type,
            x,
            30,
            ICON_SIZE,
            text.assurance_title.format(assurance=text.assurance(chart.assurance_type)),
        )
        x -= ICON_SIZE + 8
    icon = variation_icon_for(chart.variation_type, chart.improvement)
    draw_variation_icon(
        root,
        icon,
        x,
        30,
        ICON_SIZE,
        text.variation_now.format(kind=text.kind(chart.variation_type)),
    )


def _lines(
    root: ET.Element, chart: XmR, xs: list[float], y: Scale, step: float, area: Area
) -> None:
    group = element(root, "g", class_="lines")
    for span in chart.periods:
        left, right = xs[span.start], xs[span.stop - 1]
        if left == right:
            left, right = left - step * 0.3, right + step * 0.3
        i = span.start
        for value, cls in ((chart.upper[i], "upper-limit"), (chart.lower[i], "lower-limit")):
            if math.isfinite(value):
                element(
                    group,
                    "line",
                    x1=left,
                    x2=right,
                    y1=y(value),
                    y2=y(value),
                    stroke=SPC.limit_line,
                    stroke_width=2.0,
                    stroke_dasharray="7 5",
                    class_=cls,
                    data_value=repr(value),
                )
        element(
            group,
            "line",
            x1=left,
            x2=right,
            y1=y(chart.mean[i]),
            y2=y(chart.mean[i]),
            stroke=SPC.mean_line,
            stroke_width=1.5,
            class_="mean",
            data_value=repr(chart.mean[i]),
        )
    if chart.target is not None:
        element(
            group,
            "line",
            x1=area.left,
            x2=area.right,
            y1=y(chart.target),
            y2=y(chart.target),
            stroke=SPC.target_line,
            stroke_width=2.0,
            stroke_dasharray="9 5",
            class_="target",
            data_value=repr(chart.target),
        )
    for span in chart.periods:
        polyline(
            group,
            [(xs[i], y(chart.values[i])) for i in span],
            stroke=SPC.value_line,
            stroke_width=2.0,
            class_="process",
        )


def _points(
    root: ET.Element,
    chart: XmR,
    xs: list[float],
    y: Scale,
    periods: Sequence[str],
    write: Formatter,
    text: SpcWords,
) -> None:
    group = element(root, "g", class_="points")
    for i, value in enumerate(chart.values):
        kind = chart.point_type[i]
        style = STYLES[kind]
        dot = marker(
            group,
            style.shape,
            xs[i],
            y(value),
            style.size,
            style.fill,
            style.edge,
            class_="point",
            data_type=kind.value,
        )
        element(
            dot,
            "title",
            text.point.format(
                period=periods[i], value=write(value), kind=_point_words(chart, i, text)
            ),
        )


def _point_words(chart: XmR, i: int, text: SpcWords) -> str:
    kind = text.kind(chart.point_type[i])
    if chart.point_type[i] is PointType.COMMON_CAUSE:
        return kind
    return f"{kind}, {text.cause(chart.special_cause[i]).lower()}"


def _legend_items(chart: XmR, text: SpcWords) -> list[LegendItem]:
    items = [
        LegendItem(text.mean, line_sample(SPC.mean_line, None, 1.5)),
        LegendItem(text.limits, line_sample(SPC.limit_line, "7 5")),
    ]
    if chart.target is not None:
        items.append(LegendItem(text.target, line_sample(SPC.target_line, "9 5")))
    for kind in PointType:
        if kind in chart.point_type:
            style = STYLES[kind]
            items.append(
                LegendItem(
                    text.kind(kind), marker_sample(style.shape, style.fill, style.edge, style.size)
                )
            )
    return items


def _summary(
    chart: XmR, periods: Sequence[str], measure: str, write: Formatter, text: SpcWords
) -> str:
    special = [t for t in chart.point_type if t is not PointType.COMMON_CAUSE]
    target = "" if chart.target is None else text.summary_target.format(target=write(chart.target))
    assurance = (
        ""
        if chart.assurance_type is None
        else text.summary_assurance.format(assurance=text.assurance(chart.assurance_type))
    )
    return text.summary.format(
        measure=measure,
        count=len(chart.values),
        first=periods[0],
        last=periods[-1],
        mean=write(chart.mean[-1]),
        lower=_limit(chart.lower[-1], write),
        upper=_limit(chart.upper[-1], write),
        target=target,
        special=len(special),
        improvement=special.count(PointType.IMPROVEMENT),
        concern=special.count(PointType.CONCERN),
        variation=text.kind(chart.variation_type).lower(),
        assurance=assurance,
    )


def _limit(value: float, write: Formatter) -> str:
    return write(value) if math.isfinite(value) else "-"


def _table(chart: XmR, periods: Sequence[str], write: Formatter, text: SpcWords) -> Table:
    cell = numeric(write)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        text.period,
        (text.value, cell),
        (text.mean, cell),
        (text.lower, cell),
        (text.upper, cell),
    ]
    if chart.target is not None:
        headings.append((text.target, cell))
    headings += [text.special_cause, text.variation]
    rows: list[list[Cell]] = []
    for i, period in enumerate(periods):
        row: list[Cell] = [
            period,
            chart.values[i],
            chart.mean[i],
            _finite(chart.lower[i]),
            _finite(chart.upper[i]),
        ]
        if chart.target is not None:
            row.append(chart.target)
        row += [text.cause(chart.special_cause[i]), text.kind(chart.point_type[i])]
        rows.append(row)
    return table(headings, rows)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
