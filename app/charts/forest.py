"""A forest plot: an effect (risk difference or odds ratio) with its interval for each arm
or experiment, against the line of no difference."""

from __future__ import annotations

import enum
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.charts.frame import WIDTH, Area, Shape, marker, x_axis
from app.charts.palette import NHS
from app.charts.svg import (
    SMALL_FONT_SIZE,
    Scale,
    element,
    points,
    serialise,
    svg_root,
    text_width,
    truncate,
)
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import (
    Formatter,
    log_ticks,
    nice_ticks,
    percent_formatter,
    ratio_formatter,
)

ROW_HEIGHT = 32.0
MAX_LABEL_WIDTH = 190.0


class Effect(enum.StrEnum):
    """The measure of difference a forest plot shows."""

    RISK_DIFFERENCE = "risk_difference"  # a difference of proportions; none is 0
    ODDS_RATIO = "odds_ratio"  # a ratio of odds, drawn on a log scale; none is 1

    @property
    def null(self) -> float:
        """The value meaning no difference."""
        return 0.0 if self is Effect.RISK_DIFFERENCE else 1.0


@dataclass(frozen=True)
class Estimate:
    """One row: an arm's or experiment's effect and its interval (a bound may be None or,
    for an odds ratio, 0 or infinite when the data cannot bound it)."""

    label: str
    estimate: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ForestWords:
    """The chart's words (English by default; pass translated ones)."""

    row: str = "Comparison"
    estimate: str = "Estimate"
    lower: str = "Lower limit"
    upper: str = "Upper limit"
    interval_heading: str = "Estimate (95% interval)"
    interval: str = "{estimate} ({low} to {high})"
    no_bound: str = "no limit"
    summary: str = (
        "Forest plot of {measure} with 95% intervals for {count} rows; intervals clear of no "
        "difference ({null}): {clear}."
    )


def _write_difference(value: float) -> str:
    return f"{100 * value:+.1f}%".replace("+0.0%", "0.0%").replace("-0.0%", "0.0%")


def _write_ratio(value: float) -> str:
    return f"{value:.2f}"


def forest_plot(
    rows: Sequence[Estimate],
    *,
    title: str,
    effect: Effect,
    measure: str,
    prefix: str,
    favours: tuple[str, str] | None = None,
    words: ForestWords | None = None,
) -> Chart:
    """A row per estimate: a square at the estimate, a line across its interval, the
    numbers on the right; `favours` labels the two sides of the line of no difference."""
    if not rows:
        raise ValueError("a forest plot needs at least one row")
    text = words or ForestWords()
    write = _write_difference if effect is Effect.RISK_DIFFERENCE else _write_ratio
    ticks, scale_of = _axis(rows, effect)
    label_width = min(MAX_LABEL_WIDTH, max(text_width(r.label) for r in rows) + 8)
    numbers = [_interval_text(r, write, text) for r in rows]
    number_width = (
        max(text_width(n, SMALL_FONT_SIZE) for n in [*numbers, text.interval_heading]) + 12
    )
    description = _summary(rows, effect, measure, write, text)
    root = svg_root(prefix, WIDTH, WIDTH, title, description)  # height set below
    area = Area(
        left=16 + label_width + 8,
        top=40,
        right=WIDTH - 16 - number_width,
        bottom=40 + ROW_HEIGHT * len(rows),
    )
    x = scale_of(area)
    element(
        root,
        "text",
        text.interval_heading,
        x=float(WIDTH - 16),
        y=24.0,
        text_anchor="end",
        font_size=SMALL_FONT_SIZE,
        font_weight="bold",
    )
    tick_text = percent_formatter(ticks) if effect is Effect.RISK_DIFFERENCE else ratio_formatter
    x_axis(root, area, x, ticks, tick_text)
    element(
        root,
        "line",
        x1=x(effect.null),
        x2=x(effect.null),
        y1=area.top - 8,
        y2=area.bottom,
        stroke=NHS.black,
        stroke_width=1.5,
        class_="null",
    )
    for index, (row, numbers_text) in enumerate(zip(rows, numbers, strict=True)):
        _draw_row(root, row, area.top + index * ROW_HEIGHT, x, area, label_width, numbers_text)
    bottom = area.bottom + 30
    if favours is not None:
        bottom = _favours(root, favours, x(effect.null), area)
    element(
        root,
        "text",
        measure,
        x=(area.left + area.right) / 2,
        y=bottom + 22,
        text_anchor="middle",
        font_weight="bold",
        class_="axis-title",
    )
    root.set("viewBox", f"0 0 {WIDTH} {round(bottom + 36)}")
    return Chart(serialise(root), _table(rows, measure, write, text), title, description)


def _axis(rows: Sequence[Estimate], effect: Effect) -> tuple[list[float], Callable[[Area], Scale]]:
    seen = [effect.null] + [
        v for r in rows for v in (r.estimate, r.low, r.high) if v is not None and math.isfinite(v)
    ]
    if effect is Effect.ODDS_RATIO:
        positive = [v for v in seen if v > 0]
        ticks = log_ticks(min(positive), max(positive))
        low, high = math.log(ticks[0]), math.log(ticks[-1])

        def log_scale(area: Area) -> Scale:
            linear = Scale(low, high, area.left, area.right)
            return _LogScale(linear.low, linear.high, linear.start, linear.end)

        return ticks, log_scale
    ticks = nice_ticks(min(seen), max(seen))
    return ticks, lambda area: Scale(ticks[0], ticks[-1], area.left, area.right)


@dataclass(frozen=True)
class _LogScale(Scale):
    """A scale over log values: takes a ratio, places its logarithm."""

    def __call__(self, value: float) -> float:
        return Scale.__call__(self, math.log(value))


def _draw_row(
    root: ET.Element,
    row: Estimate,
    top: float,
    x: Scale,
    area: Area,
    label_width: float,
    numbers: str,
) -> None:
    middle = top + ROW_HEIGHT / 2
    group = element(root, "g", class_="row")
    shown = truncate(row.label, label_width)
    label = element(
        group, "text", shown, x=16.0, y=middle, dominant_baseline="middle", class_="row-label"
    )
    if shown != row.label:
        element(label, "title", row.label)
    left, left_open = _end(row.low, x, area.left)
    right, right_open = _end(row.high, x, area.right)
    line = element(group, "g", class_="interval", stroke=NHS.dark_grey, stroke_width=1.75)
    element(line, "line", x1=left, x2=right, y1=middle, y2=middle)
    for end, is_open, direction in ((left, left_open, -1), (right, right_open, 1)):
        if is_open:
            base = end - 8 * direction
            tip = [(end, middle), (base, middle - 5), (base, middle + 5)]
            element(group, "polygon", points=points(tip), fill=NHS.dark_grey, class_="open-end")
        else:
            element(line, "line", x1=end, x2=end, y1=middle - 5, y2=middle + 5)
    dot = marker(
        group, Shape.SQUARE, x(row.estimate), middle, 11.0, NHS.blue, NHS.white, class_="estimate"
    )
    element(dot, "title", f"{row.label}: {numbers}")
    element(
        group,
        "text",
        numbers,
        x=float(WIDTH - 16),
        y=middle,
        text_anchor="end",
        dominant_baseline="middle",
        font_size=SMALL_FONT_SIZE,
        class_="row-numbers",
    )


def _end(value: float | None, x: Scale, edge: float) -> tuple[float, bool]:
    """Where an interval ends on the plot, and whether it runs off it (no finite bound)."""
    if value is None or not math.isfinite(value) or (isinstance(x, _LogScale) and value <= 0):
        return edge, True
    return x(value), False


def _favours(root: ET.Element, favours: tuple[str, str], null: float, area: Area) -> float:
    y = area.bottom + 42
    left, right = favours
    element(
        root,
        "text",
        "← " + left,
        x=null - 8,
        y=y,
        text_anchor="end",
        font_size=SMALL_FONT_SIZE,
        fill=NHS.secondary_text,
        class_="favours",
    )
    element(
        root,
        "text",
        right + " →",
        x=null + 8,
        y=y,
        text_anchor="start",
        font_size=SMALL_FONT_SIZE,
        fill=NHS.secondary_text,
        class_="favours",
    )
    return y


def _bound(value: float | None, write: Formatter, text: ForestWords) -> str:
    if value is None or not math.isfinite(value):
        return text.no_bound
    return write(value)


def _interval_text(row: Estimate, write: Formatter, text: ForestWords) -> str:
    return text.interval.format(
        estimate=write(row.estimate),
        low=_bound(row.low, write, text),
        high=_bound(row.high, write, text),
    )


def _excludes_null(row: Estimate, null: float) -> bool:
    low = row.low if row.low is not None else -math.inf
    high = row.high if row.high is not None else math.inf
    return high < null or low > null


def _summary(
    rows: Sequence[Estimate], effect: Effect, measure: str, write: Formatter, text: ForestWords
) -> str:
    clear = sum(_excludes_null(r, effect.null) for r in rows)
    return text.summary.format(
        measure=measure, count=len(rows), clear=clear, null=write(effect.null)
    )


def _table(rows: Sequence[Estimate], measure: str, write: Formatter, text: ForestWords) -> Table:
    cell = numeric(write)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        text.row,
        (measure, cell),
        (text.lower, cell),
        (text.upper, cell),
    ]
    data: list[list[Cell]] = [[r.label, r.estimate, _finite(r.low), _finite(r.high)] for r in rows]
    return table(headings, data)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
