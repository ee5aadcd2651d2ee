"""Charts on staff pages and their downloads: the SVG inline, the table behind it below,
and each as a file (the table as CSV, every cell escaped with `app.core.exports`; the
picture as SVG).

A page gives each chart a `ChartBlock`: its name (unique on the page, and the chart's
name in its download URLs), the chart, and those URLs. The macro `chart_block` of the
template `web/charts.html` draws one: heading, chart, links to its table and downloads,
and the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response

from app.charts import Chart, Table
from app.core.exports import csv_lines

#: The attachment's name: letters, digits and dashes, then the extension.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class ChartBlock:
    """A chart as a page shows it, with where to download its table and its picture."""

    name: str
    chart: Chart
    csv_url: str
    svg_url: str
    #: A short line under the chart's heading (what it counts), if any.
    note: str = ""

    @property
    def table_id(self) -> str:
        """The id of the table under the chart, for the link to it."""
        return f"{self.name}-table"

    def table_rows(self) -> list[list[dict[str, Any]]]:
        """The table's rows as the design system's table macro takes them: numbers
        right-aligned, the first cell of each row its header."""
        rows = []
        for raw, shown in zip(self.chart.table.rows, self.chart.table.display_rows(), strict=True):
            rows.append(
                [
                    {"text": text, "format": "numeric" if _is_number(value) else ""}
                    for value, text in zip(raw, shown, strict=True)
                ]
            )
        return rows

    def numeric_columns(self) -> list[bool]:
        """Whether each column holds numbers (in any row), to align its heading."""
        columns = list(zip(*self.chart.table.rows, strict=True)) if self.chart.table.rows else []
        if not columns:
            return [False] * len(self.chart.table.columns)
        return [any(_is_number(value) for value in column) for column in columns]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def file_name(*parts: str) -> str:
    """A download's file name from words and ids: lower case, dashes between parts."""
    cleaned = ("".join(c if c in _SAFE else "-" for c in part.lower()) for part in parts)
    return "-".join(part.strip("-") for part in cleaned if part.strip("-"))


def csv_file(chart: Chart, name: str) -> Response:
    """The chart's table as a CSV attachment `name`.csv (see `table_file`)."""
    return table_file(chart.table, name)


def table_file(table: Table, name: str) -> Response:
    """A table as a CSV attachment `name`.csv: its headings, then its raw values
    (numbers as numbers), every text cell escaped against formulas."""
    return Response(
        "".join(csv_lines(table.headings, table.rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def svg_file(chart: Chart, name: str) -> Response:
    """The chart as an SVG attachment `name`.svg."""
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + chart.svg,
        mimetype="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{name}.svg"'},
    )
