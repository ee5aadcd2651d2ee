"""A line chart over periods (months), each series with an optional interval band: for
instance weighted and unweighted shares by month."""

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
    category_axis,
    legend,
    marker,
    polyline,
    segments,
    y_axis,
)
from app.charts.palette import NHS
from app.charts.svg import Scale, element, points, serialise, svg_root
from app.charts.table import Cell, Chart, Table, numeric, table
from app.charts.ticks import (
    Formatter,
    nice_ticks,
    number_formatter,
    percent_formatter,
    plain_number,
    plain_percent,
)

SHAPES = (Shape.CIRCLE, Shape.SQUARE, Shape.DIAMOND, Shape.TRIANGLE_UP, Shape.TRIANGLE_DOWN)
DASHES = (None, "7 4", "2 3", "9 3 2 3", "4 4")


@dataclass(frozen=True)
class Series:
    """One line: a value per period (None where there is none) and, optionally, the
    interval around each value."""

    name: str
    values: Sequence[float | None]
    lows: Sequence[float | None] | None = None
    highs: Sequence[float | None] | None = None

    @property
    def has_interval(self) -> bool:
        return self.lows is not None and self.highs is not None


@dataclass(frozen=True)
class LineWords:
    """The chart's words (English by default; pass translated ones)."""

    period: str = "Month"
    lower: str = "{name}: lower limit"
    upper: str = "{name}: upper limit"
    band: str = "Shaded band: 95% interval"
    summary: str = (
        "Line chart of {measure} by {period} from {first} to {last}; in {last}: {latest}."
    )
    latest: str = "{name} {value}"
    latest_interval: str = "{name} {value} ({low} to {high})"
    no_value: str = "{name} no value"
    point: str = "{period}: {name} {value}"
    point_interval: str = "{period}: {name} {value} ({low} to {high})"


def line_chart(
    periods: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    measure: str,
    prefix: str,
    percent: bool = True,
    zero_based: bool = True,
    height: int = 360,
    words: LineWords | None = None,
    value_range: tuple[float, float] | None = None,
) -> Chart:
    """Lines of each series over `periods`, with shaded interval bands; `percent` for
    proportions (0 to 1) written as percentages. `value_range` keeps both its ends on
    the value axis whatever the data (a score from 0 to 10, say)."""
    text = words or LineWords()
    _check(periods, series)
    write = plain_percent if percent else plain_number
    ticks = _ticks(series, zero_based, value_range)
    tick_text = percent_formatter(ticks) if percent else number_formatter(ticks)
    description = _summary(periods, series, measure, write, text)
    root = svg_root(prefix, WIDTH, height, title, description)
    top = legend(root, _legend_items(series, text), 16, 18, WIDTH - 32)
    axis_title(root, measure, 16, top + 6)
    area = Area(left=64, top=top + 22, right=WIDTH - 16, bottom=height - 36)
    y = Scale(ticks[0], ticks[-1], area.bottom, area.top)
    y_axis(root, area, y, ticks, tick_text)
    step = area.width / max(1, len(periods))
    xs = [area.left + (i + 0.5) * step for i in range(len(periods))]
    category_axis(root, area, xs, periods)
    for index, one in enumerate(series):
        _draw_series(root, one, index, xs, y, periods, write, text)
    return Chart(serialise(root), _table(periods, series, write, text), title, description)


def _check(periods: Sequence[str], series: Sequence[Series]) -> None:
    if not periods:
        raise ValueError("a line chart needs at least one period")
    for one in series:
        lists = [one.values, *([one.lows, one.highs] if one.has_interval else [])]
        if any(values is not None and len(values) != len(periods) for values in lists):
            raise ValueError(f"series {one.name!r} needs one value per period")


def _ticks(
    series: Sequence[Series], zero_based: bool, value_range: tuple[float, float] | None = None
) -> list[float]:
    seen = [
        v
        for one in series
        for values in (one.values, one.lows or (), one.highs or ())
        for v in values
        if v is not None
    ]
    if zero_based:
        seen.append(0.0)
    if value_range is not None:
        seen += list(value_range)
    if not seen:
        return [0.0, 1.0]
    return nice_ticks(min(seen), max(seen))


def _legend_items(series: Sequence[Series], text: LineWords) -> list[LegendItem]:
    items = [LegendItem(one.name, _series_sample(i)) for i, one in enumerate(series)]
    if any(one.has_interval for one in series):
        items.append(LegendItem(text.band, _band_sample))
    return items


def _series_sample(index: int) -> Callable[[ET.Element, float, float], object]:
    colour = NHS.series[index % len(NHS.series)]

    def draw(group: ET.Element, x: float, y: float) -> object:
        element(
            group,
            "line",
            x1=x - 11,
            x2=x + 11,
            y1=y,
            y2=y,
            stroke=colour,
            stroke_width=2.5,
            stroke_dasharray=DASHES[index % len(DASHES)],
        )
        return marker(group, SHAPES[index % len(SHAPES)], x, y, 9.0, colour, NHS.white)

    return draw


def _band_sample(group: ET.Element, x: float, y: float) -> object:
    return element(
        group,
        "rect",
        x=x - 11,
        y=y - 6,
        width=22.0,
        height=12.0,
        fill=NHS.blue,
        fill_opacity="0.18",
    )


def _draw_series(
    root: ET.Element,
    one: Series,
    index: int,
    xs: list[float],
    y: Scale,
    periods: Sequence[str],
    write: Formatter,
    text: LineWords,
) -> None:
    colour = NHS.series[index % len(NHS.series)]
    group = element(root, "g", class_="series", data_series=str(index))
    if one.lows is not None and one.highs is not None:
        lows, highs = one.lows, one.highs
        bounds = [
            None if lo is None or hi is None else (lo, hi)
            for lo, hi in zip(lows, highs, strict=True)
        ]
        for run in segments(bounds):
            top = [(xs[i], y(highs[i] or 0.0)) for i in run]
            bottom = [(xs[i], y(lows[i] or 0.0)) for i in reversed(run)]
            element(
                group,
                "polygon",
                points=points(top + bottom),
                fill=colour,
                fill_opacity="0.18",
                class_="band",
            )
    for run in segments(one.values):
        polyline(
            group,
            [(xs[i], y(one.values[i] or 0.0)) for i in run],
            stroke=colour,
            stroke_width=2.5,
            stroke_dasharray=DASHES[index % len(DASHES)],
            class_="line",
        )
    for i, value in enumerate(one.values):
        if value is None:
            continue
        dot = marker(
            group,
            SHAPES[index % len(SHAPES)],
            xs[i],
            y(value),
            9.0,
            colour,
            NHS.white,
            class_="point",
        )
        element(dot, "title", _point_text(one, i, periods[i], write, text))


def _point_text(one: Series, i: int, period: str, write: Formatter, text: LineWords) -> str:
    value = one.values[i]
    low = one.lows[i] if one.lows is not None else None
    high = one.highs[i] if one.highs is not None else None
    if value is None:
        return text.no_value.format(name=one.name)
    if low is None or high is None:
        return text.point.format(period=period, name=one.name, value=write(value))
    return text.point_interval.format(
        period=period, name=one.name, value=write(value), low=write(low), high=write(high)
    )


def _latest(one: Series, write: Formatter, text: LineWords) -> str:
    i = len(one.values) - 1
    value = one.values[i]
    low = one.lows[i] if one.lows is not None else None
    high = one.highs[i] if one.highs is not None else None
    if value is None:
        return text.no_value.format(name=one.name)
    if low is None or high is None:
        return text.latest.format(name=one.name, value=write(value))
    return text.latest_interval.format(
        name=one.name, value=write(value), low=write(low), high=write(high)
    )


def _summary(
    periods: Sequence[str],
    series: Sequence[Series],
    measure: str,
    write: Formatter,
    text: LineWords,
) -> str:
    latest = "; ".join(_latest(one, write, text) for one in series)
    return text.summary.format(
        measure=measure,
        period=text.period.lower(),
        first=periods[0],
        last=periods[-1],
        latest=latest or "-",
    )


def _table(
    periods: Sequence[str], series: Sequence[Series], write: Formatter, text: LineWords
) -> Table:
    cell = numeric(write)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [text.period]
    for one in series:
        headings.append((one.name, cell))
        if one.has_interval:
            headings += [
                (text.lower.format(name=one.name), cell),
                (text.upper.format(name=one.name), cell),
            ]
    rows: list[list[Cell]] = []
    for i, period in enumerate(periods):
        row: list[Cell] = [period]
        for one in series:
            row.append(one.values[i])
            if one.lows is not None and one.highs is not None:
                row += [one.lows[i], one.highs[i]]
        rows.append(row)
    return table(headings, rows)
