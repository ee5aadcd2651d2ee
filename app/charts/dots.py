"""A dot plot: for each row, a marker per series on one axis, joined by a thin line, so that
a change (before and after weighting, say) reads as a movement along the row."""

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
    legend,
    marker,
    marker_sample,
    x_axis,
)
from app.charts.palette import NHS
from app.charts.svg import Scale, element, serialise, svg_root, text_width, truncate
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import (
    Formatter,
    nice_ticks,
    number_formatter,
    percent_formatter,
    plain_number,
    plain_percent,
)

ROW_HEIGHT = 26.0
MAX_LABEL_WIDTH = 290.0
#: Each series' marker: shape, fill and outline (hollow, then solid), never colour alone.
MARKERS = (
    (Shape.CIRCLE, NHS.white, NHS.dark_grey),
    (Shape.SQUARE, NHS.blue, NHS.white),
    (Shape.DIAMOND, NHS.purple, NHS.white),
)


@dataclass(frozen=True)
class Dots:
    """One row: its label and a value per series (None where there is none)."""

    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class DotWords:
    """The chart's words (English by default; pass translated ones)."""

    row: str = "Group"
    point: str = "{label}, {series}: {value}"
    reference: str = "Line: {value}"
    summary: str = (
        "Dot plot of {measure} for {count} rows and {series}; the largest in size is "
        "{largest} ({value}, {largest_series})."
    )


def dot_plot(
    rows: Sequence[Dots],
    series: Sequence[str],
    *,
    title: str,
    measure: str,
    prefix: str,
    percent: bool = False,
    reference: float | None = 0.0,
    words: DotWords | None = None,
) -> Chart:
    """A row per `rows` item with a marker for each of `series` (up to three), a line
    joining them, and a dashed vertical line at `reference` (None for none)."""
    _check(rows, series)
    text = words or DotWords()
    write = plain_percent if percent else plain_number
    seen = [v for row in rows for v in row.values if v is not None]
    ticks = nice_ticks(min([*seen, *_given(reference)]), max([*seen, *_given(reference)]))
    label_width = min(MAX_LABEL_WIDTH, max(text_width(r.label) for r in rows) + 8)
    description = _summary(rows, series, measure, write, text)
    root = svg_root(prefix, WIDTH, WIDTH, title, description)  # height set below
    items = [LegendItem(name, marker_sample(*MARKERS[i])) for i, name in enumerate(series)]
    top = legend(root, items, 16, 18, WIDTH - 32)
    axis_title(root, measure, WIDTH - 16, top + 6, anchor="end")
    area = Area(16 + label_width + 8, top + 20, WIDTH - 24, top + 20 + ROW_HEIGHT * len(rows))
    root.set("viewBox", f"0 0 {WIDTH} {int(area.bottom + 40)}")
    x = Scale(ticks[0], ticks[-1], area.left, area.right)
    x_axis(root, area, x, ticks, percent_formatter(ticks) if percent else number_formatter(ticks))
    if reference is not None:
        _reference(root, area, x(reference))
    for index, row in enumerate(rows):
        _draw_row(root, row, series, area.top + index * ROW_HEIGHT, x, label_width, write, text)
    return Chart(serialise(root), _table(rows, series, write, text), title, description)


def _check(rows: Sequence[Dots], series: Sequence[str]) -> None:
    if not rows:
        raise ValueError("a dot plot needs at least one row")
    if not 0 < len(series) <= len(MARKERS):
        raise ValueError(f"a dot plot draws 1 to {len(MARKERS)} series")
    for row in rows:
        if len(row.values) != len(series):
            raise ValueError(f"{row.label!r} has {len(row.values)} values for {len(series)} series")
    if all(v is None for row in rows for v in row.values):
        raise ValueError("a dot plot needs at least one value")


def _given(value: float | None) -> list[float]:
    return [] if value is None else [value]


def _reference(root: ET.Element, area: Area, x: float) -> None:
    element(
        root,
        "line",
        x1=x,
        x2=x,
        y1=area.top - 4,
        y2=area.bottom,
        stroke=NHS.black,
        stroke_width=1.25,
        stroke_dasharray="5 4",
        class_="reference",
    )


def _draw_row(
    root: ET.Element,
    row: Dots,
    series: Sequence[str],
    top: float,
    x: Scale,
    label_width: float,
    write: Formatter,
    text: DotWords,
) -> None:
    middle = top + ROW_HEIGHT / 2
    group = element(root, "g", class_="dot-row")
    shown = truncate(row.label, label_width)
    label = element(
        group, "text", shown, x=16.0, y=middle, dominant_baseline="middle", class_="row-label"
    )
    if shown != row.label:
        element(label, "title", row.label)
    xs = [x(v) for v in row.values if v is not None]
    if len(xs) > 1:
        element(
            group,
            "line",
            x1=min(xs),
            x2=max(xs),
            y1=middle,
            y2=middle,
            stroke=NHS.mid_grey,
            stroke_width=2.0,
            class_="join",
        )
    for index, value in enumerate(row.values):
        if value is None:
            continue
        shape, fill, stroke = MARKERS[index]
        dot = marker(group, shape, x(value), middle, 10.0, fill, stroke, class_="dot")
        dot.set("data-series", str(index))
        point = text.point.format(label=row.label, series=series[index], value=write(value))
        element(dot, "title", point)


def _summary(
    rows: Sequence[Dots],
    series: Sequence[str],
    measure: str,
    write: Formatter,
    text: DotWords,
) -> str:
    largest = max(
        ((row, i, v) for row in rows for i, v in enumerate(row.values) if v is not None),
        key=lambda found: abs(found[2]),
    )
    return text.summary.format(
        measure=measure,
        count=len(rows),
        series=", ".join(series),
        largest=largest[0].label,
        value=write(largest[2]),
        largest_series=series[largest[1]],
    )


def _table(rows: Sequence[Dots], series: Sequence[str], write: Formatter, text: DotWords) -> Table:
    cell = numeric(write)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [text.row]
    headings += [(name, cell) for name in series]
    return table(headings, [[row.label, *row.values] for row in rows])
