"""`wesaid retention run`: purge message texts and free-text answers past their
organisation's retention period now (the clock does it every night)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.audit.service import SYSTEM
from app.commands.common import fail
from app.core.errors import NotFound
from app.privacy import service as privacy
from app.runtime import get_runtime


@click.group("retention")
def retention_cli() -> None:
    """Data retention: purging old message texts and free-text answers."""


@retention_cli.command("run")
@click.option("--org", "org_slug", help="only this organisation (by slug)")
@with_appcontext
def run_command(org_slug: str | None) -> None:
    """Blank message bodies, replies and free-text answers older than each
    organisation's retention period, and print what was blanked."""
    try:
        reports = privacy.purge_old_text(get_runtime().clock, SYSTEM, org_slug)
    except NotFound as exc:
        fail(str(exc))
    for report in reports:
        if report.skipped:
            click.echo(f"organisation {report.organisation_id}: skipped, being purged elsewhere")
            continue
        name = report.slug if report.organisation_id else "replies to no clinic"
        counts = ", ".join(
            f"{key.replace('_', ' ')} {value}" for key, value in report.counts.items()
        )
        click.echo(
            f"{name}: {counts} (older than {report.months} months, "
            f"before {report.cutoff:%Y-%m-%d %H:%M} UTC)"
        )
