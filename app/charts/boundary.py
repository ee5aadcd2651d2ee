"""A stopping-boundary chart: the |z| a group-sequential test must reach to stop early,
over the share of the planned sample analysed, and the |z| observed at each look.

The x axis is the information fraction on a true scale (0% to 100%), so looks keep their
real spacing. A boundary too high to draw (or infinite: no result could cross yet) runs
off the top of the plot; its value stays in the table. A look's marker is a diamond
when its |z| reaches the boundary and a circle when it does not, so colour is never the
only sign.
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
from app.charts.svg import Scale, element, serialise, svg_root
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import nice_ticks, number_formatter, percent_formatter, plain_percent

#: The highest |z| the y axis reaches: an O'Brien–Fleming boundary at the first tenth of
#: the sample is above 6, and nothing is learnt from drawing it higher.
Z_CEILING = 8.0


@dataclass(frozen=True)
class BoundaryMark:
    """The boundary at one information fraction and, for a look, the |z| it observed."""

    fraction: float
    #: The |z| to reach; infinite where no result could cross yet.
    boundary: float
    #: The look's observed |z| (infinite for p = 0); None where no look was taken.
    observed: float | None = None
    #: What the look is called ("Look 1", "Now"); "" for a point of the path alone.
    label: str = ""

    @property
    def crossed(self) -> bool | None:
        """Whether the look's |z| reaches the boundary; None where there is no look."""
        if self.observed is None:
            return None
        return self.observed >= self.boundary


@dataclass(frozen=True)
class BoundaryWords:
    """The chart's words (English by default; pass translated ones)."""

    fraction: str = "Share of the planned sample"
    look: str = "Look"
    boundary: str = "Stopping boundary |z|"
    observed: str = "Observed |z|"
    crossed: str = "Crossed"
    yes: str = "Yes"
    no: str = "No"
    line: str = "Stopping boundary"
    below: str = "Look: boundary not reached"
    above: str = "Look: boundary reached"
    measure: str = "|z|"
    point: str = "{label} at {fraction}: |z| {observed}, boundary {boundary}"
    unbounded: str = "none possible yet"
    summary: str = (
        "Stopping boundary by share of the planned sample, from |z| {start} at {first} to "
        "{end} at {last}; {looks} looks, {crossed} reaching it."
    )


def boundary_chart(
    marks: Sequence[BoundaryMark],
    *,
    title: str,
    prefix: str,
    reference: tuple[str, float] | None = None,
    height: int = 380,
    words: BoundaryWords | None = None,
) -> Chart:
    """The boundary through `marks` (in fraction order) and each look's |z|; `reference`
    adds a labelled dashed line (such as the |z| a single final analysis needs)."""
    _check(marks)
    text = words or BoundaryWords()
    ordered = sorted(marks, key=lambda mark: mark.fraction)
    ticks = _z_ticks(ordered, reference)
    description = _summary(ordered, text)
    root = svg_root(prefix, WIDTH, height, title, description)
    items = [
        LegendItem(text.line, line_sample(NHS.dark_blue, width=2.5)),
        LegendItem(text.below, marker_sample(Shape.CIRCLE, NHS.white, NHS.blue)),
        LegendItem(text.above, marker_sample(Shape.DIAMOND, NHS.dark_pink, NHS.dark_pink)),
    ]
    if reference is not None:
        items.append(LegendItem(reference[0], line_sample(NHS.dark_grey, "6 4", 1.5)))
    top = legend(root, items, 16, 18, WIDTH - 32)
    axis_title(root, text.measure, 16, top + 6)
    area = Area(left=56, top=top + 22, right=WIDTH - 24, bottom=height - 56)
    x = Scale(0.0, 1.0, area.left, area.right)
    y = Scale(ticks[0], ticks[-1], area.bottom, area.top)
    y_axis(root, area, y, ticks, number_formatter(ticks))
    fractions = nice_ticks(0.0, 1.0)
    x_axis(root, area, x, fractions, percent_formatter(fractions))
    axis_title(root, text.fraction, (area.left + area.right) / 2, height - 10, anchor="middle")
    plot = element(root, "g", clip_path=clip(root, f"{prefix}-clip", area))
    if reference is not None:
        _reference(plot, area, y(reference[1]))
    _boundary_line(plot, ordered, x, y, ticks[-1])
    for mark in ordered:
        if mark.observed is not None:
            _look(root, mark, x, y, ticks[-1], text)
    return Chart(serialise(root), _table(ordered, text), title, description)


def _check(marks: Sequence[BoundaryMark]) -> None:
    if not marks:
        raise ValueError("a boundary chart needs at least one point")
    for mark in marks:
        if not 0.0 < mark.fraction <= 1.0:
            raise ValueError(f"an information fraction lies in (0, 1], got {mark.fraction!r}")
        if math.isnan(mark.boundary) or mark.boundary <= 0:
            raise ValueError(f"a boundary is a positive |z|, got {mark.boundary!r}")
        if mark.observed is not None and (math.isnan(mark.observed) or mark.observed < 0):
            raise ValueError(f"an observed |z| is not negative, got {mark.observed!r}")


def _z_ticks(marks: Sequence[BoundaryMark], reference: tuple[str, float] | None) -> list[float]:
    seen = [m.boundary for m in marks] + [m.observed for m in marks if m.observed is not None]
    if reference is not None:
        seen.append(reference[1])
    highest = max((v for v in seen if math.isfinite(v)), default=Z_CEILING)
    return nice_ticks(0.0, min(highest, Z_CEILING))


def _reference(parent: ET.Element, area: Area, at: float) -> None:
    element(
        parent,
        "line",
        x1=area.left,
        x2=area.right,
        y1=at,
        y2=at,
        stroke=NHS.dark_grey,
        stroke_width=1.5,
        stroke_dasharray="6 4",
        class_="reference",
    )


def _boundary_line(
    parent: ET.Element, marks: Sequence[BoundaryMark], x: Scale, y: Scale, top: float
) -> None:
    """The boundary through its finite points; one past the top runs off the plot."""
    pairs = [
        (x(m.fraction), y(min(m.boundary, top * 1.5))) for m in marks if math.isfinite(m.boundary)
    ]
    polyline(parent, pairs, stroke=NHS.dark_blue, stroke_width=2.5, class_="boundary")


def _look(
    parent: ET.Element, mark: BoundaryMark, x: Scale, y: Scale, top: float, text: BoundaryWords
) -> None:
    assert mark.observed is not None
    crossed = bool(mark.crossed)
    shape = Shape.DIAMOND if crossed else Shape.CIRCLE
    fill = NHS.dark_pink if crossed else NHS.white
    stroke = NHS.dark_pink if crossed else NHS.blue
    dot = marker(
        parent,
        shape,
        x(mark.fraction),
        y(min(mark.observed, top)),
        12.0,
        fill,
        stroke,
        class_="look crossed" if crossed else "look",
    )
    element(
        dot,
        "title",
        text.point.format(
            label=mark.label or text.look,
            fraction=plain_percent(mark.fraction),
            observed=_z_text(mark.observed, text),
            boundary=_z_text(mark.boundary, text),
        ),
    )


def _z_text(value: float, text: BoundaryWords) -> str:
    return f"{value:.2f}" if math.isfinite(value) else text.unbounded


def _summary(marks: Sequence[BoundaryMark], text: BoundaryWords) -> str:
    finite = [m for m in marks if math.isfinite(m.boundary)] or list(marks)
    looks = [m for m in marks if m.observed is not None]
    return text.summary.format(
        start=_z_text(finite[0].boundary, text),
        first=plain_percent(finite[0].fraction),
        end=_z_text(finite[-1].boundary, text),
        last=plain_percent(finite[-1].fraction),
        looks=len(looks),
        crossed=sum(bool(m.crossed) for m in looks),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _table(marks: Sequence[BoundaryMark], text: BoundaryWords) -> Table:
    z = numeric(lambda value: f"{value:.3f}")
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        (text.fraction, numeric(plain_percent)),
        text.look,
        (text.boundary, z),
        (text.observed, z),
        text.crossed,
    ]
    rows: list[list[Cell]] = []
    for mark in marks:
        crossed = mark.crossed
        rows.append(
            [
                mark.fraction,
                mark.label,
                _finite(mark.boundary),
                _finite(mark.observed),
                "" if crossed is None else text.yes if crossed else text.no,
            ]
        )
    return table(headings, rows)
