"""`wesaid goals`: the pathways whose patients are asked for their goals' scores."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.clinics.queries import get_clinic_by_slug
from app.commands.common import fail
from app.core.errors import WeSaidError
from app.goals import service as goals
from app.runtime import get_runtime


@click.group("goals")
def goals_cli() -> None:
    """Goals that matter to patients: which pathways ask for their scores."""


@goals_cli.command("pathway")
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--pathway", required=True, help="the pathway code, as appointments carry it")
@click.option("--hours", type=int, help="how long before each appointment to ask")
@click.option("--remove", is_flag=True, help="stop asking the pathway's patients")
@with_appcontext
def goals_pathway(clinic_slug: str, pathway: str, hours: int | None, remove: bool) -> None:
    """Ask a pathway's patients for their goals' scores HOURS before each appointment
    (booked from now on), or stop with --remove."""
    try:
        clinic = get_clinic_by_slug(clinic_slug)
        if remove:
            removed = goals.remove_pathway(clinic.id, pathway, get_runtime().clock)
            click.echo(
                f"{clinic.slug}: {pathway} {'no longer uses' if removed else 'did not use'} goals"
            )
            return
        if hours is None:
            fail("give --hours, or --remove")
        goals.set_pathway(clinic.id, pathway, hours, get_runtime().clock)
    except WeSaidError as exc:
        fail(str(exc))
    click.echo(
        f"{clinic.slug}: {pathway} asks for goal scores {hours} hours before each appointment"
    )


@goals_cli.command("pathways")
@click.option("--clinic", "clinic_slug", required=True)
@with_appcontext
def goals_pathways(clinic_slug: str) -> None:
    """List the clinic's pathways that use goals."""
    try:
        clinic = get_clinic_by_slug(clinic_slug)
    except WeSaidError as exc:
        fail(str(exc))
    for pathway, hours in sorted(goals.pathway_hours(clinic.id).items()):
        click.echo(f"{pathway}\t{hours} hours before")
