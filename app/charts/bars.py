"""Horizontal bars with interval whiskers: for instance the response rate of each group."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.charts.frame import WIDTH, Area, LegendItem, axis_title, legend, line_sample, x_axis
from app.charts.palette import NHS
from app.charts.svg import (
    SMALL_FONT_SIZE,
    Scale,
    element,
    serialise,
    svg_root,
    text_width,
    truncate,
)
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import (
    Formatter,
    nice_ticks,
    number_formatter,
    percent_formatter,
    plain_number,
    plain_percent,
)

ROW_HEIGHT = 34.0
BAR_HEIGHT = 18.0
#: The widest the group labels may take, in viewBox units.
MAX_LABEL_WIDTH = 200.0


@dataclass(frozen=True)
class Bar:
    """One group: its value, the interval around it and a note (such as its size)."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class BarWords:
    """The chart's words (English by default; pass translated ones)."""

    group: str = "Group"
    lower: str = "Lower limit"
    upper: str = "Upper limit"
    note: str = "Notes"
    reference: str = "{label}: {value}"
    whisker: str = "Line: 95% interval"
    summary: str = (
        "Bar chart of {measure} for {count} groups, from {lowest} ({lowest_value}) to "
        "{highest} ({highest_value})."
    )
    bar: str = "{label}: {value}"
    bar_interval: str = "{label}: {value} ({low} to {high})"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    measure: str,
    prefix: str,
    percent: bool = True,
    reference: tuple[str, float] | None = None,
    words: BarWords | None = None,
) -> Chart:
    """A bar per group from zero, whiskers for the intervals and the value written at the
    end; `reference` adds a labelled vertical line (such as the overall rate)."""
    if not bars:
        raise ValueError("a bar chart needs at least one bar")
    text = words or BarWords()
    write = plain_percent if percent else plain_number
    ticks = _ticks(bars, reference)
    label_width = min(MAX_LABEL_WIDTH, max(text_width(b.label) for b in bars) + 8)
    value_width = max(text_width(write(b.value)) for b in bars) + 16
    description = _summary(bars, measure, write, text)
    items = _legend_items(bars, reference, write, text)
    root = svg_root(prefix, WIDTH, WIDTH, title, description)  # height set below
    top = legend(root, items, 16, 18, WIDTH - 32) if items else 16.0
    axis_title(root, measure, WIDTH - 16, top + 6, anchor="end")
    area = Area(
        left=16 + label_width + 8,
        top=top + 20,
        right=WIDTH - 16 - value_width,
        bottom=top + 20 + ROW_HEIGHT * len(bars),
    )
    root.set("viewBox", f"0 0 {WIDTH} {int(area.bottom + 40)}")
    x = Scale(ticks[0], ticks[-1], area.left, area.right)
    x_axis(root, area, x, ticks, percent_formatter(ticks) if percent else number_formatter(ticks))
    for index, bar in enumerate(bars):
        _draw_bar(root, bar, area.top + index * ROW_HEIGHT, x, label_width, write, text)
    if reference is not None:
        _draw_reference(root, area, x(reference[1]))
    return Chart(serialise(root), _table(bars, measure, write, text), title, description)


def _ticks(bars: Sequence[Bar], reference: tuple[str, float] | None) -> list[float]:
    seen = [0.0]
    for bar in bars:
        seen += [v for v in (bar.value, bar.low, bar.high) if v is not None]
    if reference is not None:
        seen.append(reference[1])
    return nice_ticks(min(seen), max(seen))


def _legend_items(
    bars: Sequence[Bar], reference: tuple[str, float] | None, write: Formatter, text: BarWords
) -> list[LegendItem]:
    items = []
    if any(b.low is not None and b.high is not None for b in bars):
        items.append(LegendItem(text.whisker, _whisker_sample))
    if reference is not None:
        label = text.reference.format(label=reference[0], value=write(reference[1]))
        items.append(LegendItem(label, line_sample(NHS.black, "5 4", 1.5)))
    return items


def _whisker_sample(group: ET.Element, x: float, y: float) -> object:
    element(group, "line", x1=x - 10, x2=x + 10, y1=y, y2=y, stroke=NHS.black, stroke_width=1.5)
    for end in (x - 10, x + 10):
        element(
            group, "line", x1=end, x2=end, y1=y - 5, y2=y + 5, stroke=NHS.black, stroke_width=1.5
        )
    return group


def _draw_bar(
    root: ET.Element,
    bar: Bar,
    top: float,
    x: Scale,
    label_width: float,
    write: Formatter,
    text: BarWords,
) -> None:
    middle = top + ROW_HEIGHT / 2
    group = element(root, "g", class_="bar")
    label = element(
        group,
        "text",
        truncate(bar.label, label_width),
        x=16.0,
        y=middle,
        dominant_baseline="middle",
        class_="bar-label",
    )
    if truncate(bar.label, label_width) != bar.label:
        element(label, "title", bar.label)
    start, end = sorted((x(0.0), x(bar.value)))
    rect = element(
        group,
        "rect",
        x=start,
        y=middle - BAR_HEIGHT / 2,
        width=max(end - start, 0.5),
        height=BAR_HEIGHT,
        fill=NHS.blue,
        class_="bar-value",
    )
    element(rect, "title", _bar_text(bar, write, text))
    right = end
    if bar.low is not None and bar.high is not None:
        _whisker(group, x(bar.low), x(bar.high), middle)
        right = max(right, x(bar.high))
    element(
        group,
        "text",
        write(bar.value),
        x=right + 6,
        y=middle,
        dominant_baseline="middle",
        font_size=SMALL_FONT_SIZE,
        class_="bar-number",
    )


def _whisker(group: ET.Element, low: float, high: float, y: float) -> None:
    whisker = element(group, "g", class_="whisker", stroke=NHS.black, stroke_width=1.5)
    element(whisker, "line", x1=low, x2=high, y1=y, y2=y)
    for end in (low, high):
        element(whisker, "line", x1=end, x2=end, y1=y - 6, y2=y + 6)


def _draw_reference(root: ET.Element, area: Area, x: float) -> None:
    element(
        root,
        "line",
        x1=x,
        x2=x,
        y1=area.top - 4,
        y2=area.bottom,
        stroke=NHS.black,
        stroke_width=1.5,
        stroke_dasharray="5 4",
        class_="reference",
    )


def _bar_text(bar: Bar, write: Formatter, text: BarWords) -> str:
    if bar.low is None or bar.high is None:
        return text.bar.format(label=bar.label, value=write(bar.value))
    return text.bar_interval.format(
        label=bar.label, value=write(bar.value), low=write(bar.low), high=write(bar.high)
    )


def _summary(bars: Sequence[Bar], measure: str, write: Formatter, text: BarWords) -> str:
    lowest = min(bars, key=lambda b: b.value)
    highest = max(bars, key=lambda b: b.value)
    return text.summary.format(
        measure=measure,
        count=len(bars),
        lowest=lowest.label,
        lowest_value=write(lowest.value),
        highest=highest.label,
        highest_value=write(highest.value),
    )


def _table(bars: Sequence[Bar], measure: str, write: Formatter, text: BarWords) -> Table:
    cell = numeric(write)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        text.group,
        (measure, cell),
        (text.lower, cell),
        (text.upper, cell),
        text.note,
    ]
    rows = [[b.label, b.value, b.low, b.high, b.note] for b in bars]
    return table(headings, rows)
