"""`wesaid attendance`: DNA figures."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.attendance.service import attendance_report, refresh_all_counts
from app.commands.common import fail, parse_month, print_json
from app.core.errors import WeSaidError
from app.runtime import get_runtime


@click.group("attendance")
def attendance_cli() -> None:
    """Non-attendance (DNA) figures."""


@attendance_cli.command("report")
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--from", "first", required=True, help="first month (YYYY-MM or a date in it)")
@click.option("--to", "last", required=True, help="last month (YYYY-MM or a date in it)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of tables")
@with_appcontext
def attendance_report_command(clinic_slug: str, first: str, last: str, as_json: bool) -> None:
    """DNA rates of a clinic over whole months, with breakdowns and a funnel plot.

    The rate is DNA / (attended + DNA): cancellations are not in the denominator.
    """
    start, end = parse_month(first, "--from"), parse_month(last, "--to")
    try:
        report = attendance_report(clinic_slug, start, end, get_runtime().clock)
    except WeSaidError as exc:
        fail(str(exc))
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(report.render_text(), nl=False)


@attendance_cli.command("refresh")
@click.option("--from", "first", help="also build every clinic's months from this one (YYYY-MM)")
@click.option("--to", "last", help="... up to this one (YYYY-MM)")
@with_appcontext
def attendance_refresh(first: str | None, last: str | None) -> None:
    """Bring the stored counts up to date with what changed since the last refresh, and
    build the stored arm counts of experiments that have none yet.

    With --from and --to, also build those months for every clinic, so that the first
    report of a large period does not have to (run it after upgrading, for example).
    """
    if (first is None) != (last is None):
        raise click.BadParameter("give both --from and --to, or neither")
    months = None
    if first is not None and last is not None:
        months = (parse_month(first, "--from"), parse_month(last, "--to"))
    refreshed = refresh_all_counts(months, get_runtime().clock)
    click.echo(
        f"{refreshed.months_built} clinic-months built, "
        f"{refreshed.days_recomputed} clinic-days recomputed"
    )
