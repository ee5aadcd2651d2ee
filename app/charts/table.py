"""A chart's result: the SVG and the table of the numbers it draws.

Pages render the same table as HTML (`display_rows`) and offer it as CSV (`csv`), so the
numbers behind a picture are always one click away and readable without it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Cell = str | int | float | None

#: CSV cells starting with these are read as formulas by spreadsheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value: Cell) -> str:
    return "" if value is None else str(value)


def numeric(write: Callable[[float], str]) -> Callable[[Cell], str]:
    """A column formatter that writes numbers with `write` and anything else as text."""

    def cell(value: Cell) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return write(float(value))
        return _as_text(value)

    return cell


@dataclass(frozen=True)
class Column:
    """A column: its heading and how a page writes its values."""

    heading: str
    format: Callable[[Cell], str] = _as_text


@dataclass(frozen=True)
class Table:
    """Rows of raw values (numbers stay numbers) under column headings."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row has {len(row)} cells for {len(self.columns)} columns")

    @property
    def headings(self) -> list[str]:
        """The column headings, in order."""
        return [column.heading for column in self.columns]

    def display_rows(self) -> list[list[str]]:
        """Each row as the page shows it ("" for no value)."""
        return [
            [
                "" if value is None else column.format(value)
                for column, value in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]

    def csv(self) -> str:
        """Headings and raw values as CSV; text that a spreadsheet would run as a formula
        is written with a leading apostrophe."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_safe(h) for h in self.headings])
        writer.writerows([[_safe(v) for v in row] for row in self.rows])
        return out.getvalue()


def _safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def table(
    headings: Sequence[tuple[str, Callable[[Cell], str]] | str], rows: Sequence[Sequence[Cell]]
) -> Table:
    """A Table from headings (each a heading, or a heading and its formatter) and rows."""
    columns = tuple(Column(h) if isinstance(h, str) else Column(h[0], h[1]) for h in headings)
    return Table(columns, tuple(tuple(row) for row in rows))


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its SVG, the table behind it, and its accessible title and summary.

    In a Jinja template `{{ chart }}` inlines the SVG (it is markup built by escaping every
    label); `chart.table` renders as a table beside it.
    """

    svg: str
    table: Table
    title: str
    description: str

    def __html__(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.svg
