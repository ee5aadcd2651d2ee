"""`wesaid results compute`: write a snapshot and print it."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from app.core.errors import WeSaidError
from app.runtime import get_runtime


@click.group("results")
def results_cli() -> None:
    """Weighted survey results."""


@results_cli.command("compute")
@click.option("--survey", "survey_slug", required=True)
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--period", required=True, help="YYYY-MM")
@click.option(
    "--scope",
    type=click.Choice(["clinic", "organisation", "service"]),
    default="clinic",
    show_default=True,
)
@click.option("--pathway", default="", help="the service's pathway (with --scope service)")
@with_appcontext
def results_compute(
    survey_slug: str, clinic_slug: str, period: str, scope: str, pathway: str
) -> None:
    """Weight the period's respondents to its invited cohort; store and print a snapshot."""
    from app.clinics.queries import get_clinic_by_slug
    from app.results.api import snapshot_json
    from app.results.service import compute_snapshot

    try:
        clinic = get_clinic_by_slug(clinic_slug)
        scope_id = clinic.id if scope == "clinic" else clinic.organisation_id
        if scope == "service" and not pathway:
            raise click.UsageError("--scope service needs --pathway")
        snapshot = compute_snapshot(
            survey_slug, scope, scope_id, period, get_runtime().clock.now(), scope_key=pathway
        )
    except WeSaidError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    assert snapshot is not None
    click.echo(json.dumps(snapshot_json(snapshot), indent=2, ensure_ascii=False))
