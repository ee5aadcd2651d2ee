"""CSV exports that a spreadsheet opens safely (pure).

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a formula, and a
leading tab or carriage return can hide one. A cell that holds text from anyone (a staff
member's name, an API token's label, an address a proxy reported) could then run a
formula on the machine of whoever opens the export. Every such cell gets a leading
apostrophe, which spreadsheets show as text and do not evaluate. Numbers are written as
they are: a number is never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

#: The first characters that make a spreadsheet treat a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> str:
    """`value` as the text of one CSV cell: None is empty, a number is itself, and text
    that a spreadsheet would read as a formula starts with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(cells: Sequence[object]) -> str:
    """One CSV record (RFC 4180, CRLF ended) of escaped cells."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([escape_cell(c) for c in cells])
    return buffer.getvalue()


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header line, then one line per row, for a streamed download."""
    yield csv_line(header)
    for row in rows:
        yield csv_line(row)
