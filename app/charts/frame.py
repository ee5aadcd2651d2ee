"""What the charts share: the plot area, axes with ticks and grid lines, marker shapes and
legends."""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.charts.palette import NHS
from app.charts.svg import SMALL_FONT_SIZE, Scale, element, points, text_width, truncate

#: The chart width in viewBox units; heights vary by chart.
WIDTH = 640


@dataclass(frozen=True)
class Area:
    """The plot area inside the chart, in viewBox units."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


class Shape(enum.StrEnum):
    """Marker shapes, so that colour is never the only sign of what a point is."""

    CIRCLE = "circle"
    SQUARE = "square"
    DIAMOND = "diamond"
    TRIANGLE_UP = "triangle-up"
    TRIANGLE_DOWN = "triangle-down"


def marker(
    parent: ET.Element,
    shape: Shape,
    x: float,
    y: float,
    size: float,
    fill: str,
    stroke: str | None = None,
    **attrs: object,
) -> ET.Element:
    """A marker of about `size` across centred on (x, y)."""
    r = size / 2
    paint: dict[str, object] = {
        "fill": fill,
        "stroke": stroke,
        "stroke_width": 1.25 if stroke else None,
        **attrs,
    }
    if shape is Shape.CIRCLE:
        return element(parent, "circle", cx=float(x), cy=float(y), r=float(r), **paint)
    if shape is Shape.SQUARE:
        s = r * 0.9
        return element(parent, "rect", x=x - s, y=y - s, width=2 * s, height=2 * s, **paint)
    corners = {
        Shape.DIAMOND: [(x, y - r * 1.2), (x + r * 1.2, y), (x, y + r * 1.2), (x - r * 1.2, y)],
        Shape.TRIANGLE_UP: [
            (x, y - r * 0.95),
            (x + r * 1.1, y + r * 0.95),
            (x - r * 1.1, y + r * 0.95),
        ],
        Shape.TRIANGLE_DOWN: [
            (x, y + r * 0.95),
            (x + r * 1.1, y - r * 0.95),
            (x - r * 1.1, y - r * 0.95),
        ],
    }[shape]
    return element(parent, "polygon", points=points(corners), **paint)


def y_axis(
    parent: ET.Element,
    area: Area,
    scale: Scale,
    ticks: Sequence[float],
    write: Callable[[float], str],
) -> None:
    """Horizontal grid lines at the ticks, labelled to the left of the plot area."""
    group = element(parent, "g", class_="y-axis", aria_hidden="true")
    for tick in ticks:
        y = scale(tick)
        element(
            group,
            "line",
            x1=area.left,
            x2=area.right,
            y1=y,
            y2=y,
            stroke=NHS.border,
            stroke_width=1.0,
        )
        element(
            group,
            "text",
            write(tick),
            x=area.left - 8.0,
            y=y,
            text_anchor="end",
            dominant_baseline="middle",
            fill=NHS.secondary_text,
        )


def x_axis(
    parent: ET.Element,
    area: Area,
    scale: Scale,
    ticks: Sequence[float],
    write: Callable[[float], str],
) -> None:
    """Tick marks and labels below the plot area, with vertical grid lines."""
    group = element(parent, "g", class_="x-axis", aria_hidden="true")
    element(
        group,
        "line",
        x1=area.left,
        x2=area.right,
        y1=area.bottom,
        y2=area.bottom,
        stroke=NHS.secondary_text,
        stroke_width=1.0,
    )
    for tick in ticks:
        x = scale(tick)
        element(
            group,
            "line",
            x1=x,
            x2=x,
            y1=area.top,
            y2=area.bottom,
            stroke=NHS.border,
            stroke_width=1.0,
        )
        element(
            group,
            "text",
            write(tick),
            x=x,
            y=area.bottom + 20.0,
            text_anchor="middle",
            fill=NHS.secondary_text,
        )


def category_axis(
    parent: ET.Element, area: Area, xs: Sequence[float], labels: Sequence[str], gap: float = 64.0
) -> None:
    """Labels under evenly spaced categories, thinned so that they do not touch: the first
    and last always, others at a regular stride."""
    group = element(parent, "g", class_="x-axis", aria_hidden="true")
    element(
        group,
        "line",
        x1=area.left,
        x2=area.right,
        y1=area.bottom,
        y2=area.bottom,
        stroke=NHS.secondary_text,
        stroke_width=1.0,
    )
    for index in label_indices(xs, labels, gap):
        x = xs[index]
        element(
            group,
            "line",
            x1=x,
            x2=x,
            y1=area.bottom,
            y2=area.bottom + 5.0,
            stroke=NHS.secondary_text,
            stroke_width=1.0,
        )
        half = text_width(labels[index]) / 2
        anchor = "end" if x + half > WIDTH - 4 else "start" if x - half < 4 else "middle"
        shift = {"end": 6.0, "start": -6.0, "middle": 0.0}[anchor]
        element(
            group,
            "text",
            labels[index],
            x=x + shift,
            y=area.bottom + 20.0,
            text_anchor=anchor,
            fill=NHS.secondary_text,
        )


def label_indices(xs: Sequence[float], labels: Sequence[str], gap: float) -> list[int]:
    """Which category labels to draw so that neighbours are at least as far apart as the
    widest label plus a little."""
    n = len(xs)
    if n <= 1:
        return list(range(n))
    widest = max(text_width(label) for label in labels) + 12.0
    spacing = abs(xs[1] - xs[0]) or 1.0
    stride = max(1, int(-(-max(widest, gap) // spacing)))
    chosen = list(range(0, n, stride))
    if chosen[-1] != n - 1:
        if (n - 1 - chosen[-1]) * spacing < widest and len(chosen) > 1:
            chosen.pop()
        chosen.append(n - 1)
    return chosen


@dataclass(frozen=True)
class LegendItem:
    """One entry of a legend: a sample drawn by `draw(group, x, y)` and its label."""

    label: str
    draw: Callable[[ET.Element, float, float], object]


def legend(
    parent: ET.Element, items: Sequence[LegendItem], x: float, y: float, width: float
) -> float:
    """Items in rows from (x, y), wrapping at `width`; returns the y below the last row."""
    group = element(parent, "g", class_="legend")
    cursor, row = x, y
    for item in items:
        label = truncate(item.label, width - 40)
        needed = 34 + text_width(label, SMALL_FONT_SIZE) + 18
        if cursor > x and cursor + needed > x + width:
            cursor, row = x, row + 22
        item.draw(group, cursor + 12, row)
        element(
            group,
            "text",
            label,
            x=cursor + 30,
            y=row,
            dominant_baseline="middle",
            font_size=SMALL_FONT_SIZE,
        )
        cursor += needed
    return row + 22


def line_sample(
    stroke: str, dash: str | None = None, width: float = 2.0
) -> Callable[[ET.Element, float, float], object]:
    """A legend sample of a line."""

    def draw(group: ET.Element, x: float, y: float) -> object:
        return element(
            group,
            "line",
            x1=x - 11,
            x2=x + 11,
            y1=y,
            y2=y,
            stroke=stroke,
            stroke_width=width,
            stroke_dasharray=dash,
        )

    return draw


def marker_sample(
    shape: Shape, fill: str, stroke: str | None = None, size: float = 10.0
) -> Callable[[ET.Element, float, float], object]:
    """A legend sample of a marker."""

    def draw(group: ET.Element, x: float, y: float) -> object:
        return marker(group, shape, x, y, size, fill, stroke)

    return draw


def axis_title(parent: ET.Element, text: str, x: float, y: float, anchor: str = "start") -> None:
    """An axis's title, written horizontally (easier to read than turned on its side)."""
    element(
        parent, "text", text, x=x, y=y, text_anchor=anchor, font_weight="bold", class_="axis-title"
    )


def clip(parent: ET.Element, clip_id: str, area: Area) -> str:
    """A clip path of the plot area; returns its url() reference."""
    defs = element(parent, "defs")
    path = element(defs, "clipPath", id=clip_id)
    element(path, "rect", x=area.left, y=area.top - 1, width=area.width, height=area.height + 2)
    return f"url(#{clip_id})"


def polyline(parent: ET.Element, pairs: Sequence[tuple[float, float]], **attrs: object) -> None:
    """A line through the points (nothing for fewer than two)."""
    if len(pairs) >= 2:
        element(parent, "polyline", points=points(pairs), fill="none", **attrs)


def segments(values: Sequence[object | None]) -> list[list[int]]:
    """Runs of indices with a value, split where a value is missing."""
    runs: list[list[int]] = []
    for index, value in enumerate(values):
        if value is None:
            if runs and runs[-1]:
                runs.append([])
            continue
        if not runs:
            runs.append([])
        runs[-1].append(index)
    return [run for run in runs if run]
