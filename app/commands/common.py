"""What every command shares: reporting an error and exiting, printing results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any, NoReturn

import click

from app.attendance import periods
from app.core.imports import ImportReport

#: Exit statuses: 1 when some rows of an import were bad, 2 when nothing could be done.
EXIT_BAD_ROWS = 1
EXIT_REFUSED = 2


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Say what is wrong on stderr and exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout (dates and other values as text)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def finish_import(report: ImportReport, lines: Iterable[str] | None = None) -> None:
    """Print each bad row (by default as `SOURCE:LINE: FIELD: reason`) on stderr and the
    summary on stdout; exit 1 if any row was bad."""
    for line in lines if lines is not None else (str(error) for error in report.errors):
        click.echo(line, err=True)
    click.echo(report.summary())
    if report.errors:
        sys.exit(EXIT_BAD_ROWS)


def parse_month(value: str, option: str) -> date:
    """The date `value` names (YYYY-MM-DD, or YYYY-MM for the first day of the month);
    a usage error naming `option` otherwise."""
    try:
        return periods.parse_month(value)
    except ValueError as exc:
        raise click.BadParameter(f"{option}: {exc}") from None
