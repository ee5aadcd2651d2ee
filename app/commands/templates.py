"""`wesaid templates`: check every text in every language, and clinics' own wording."""

from __future__ import annotations

from decimal import Decimal

import click
from flask.cli import with_appcontext

from app.clinics.queries import get_clinic_by_slug
from app.commands.common import fail
from app.core.errors import WeSaidError
from app.core.sms import estimate_cost, measure
from app.messaging.compose import catalogue_locales
from app.messaging.lint import check_catalogue
from app.messaging.registry import template_sets
from app.messaging.templates import set_template_override
from app.runtime import get_runtime


@click.group("templates")
def templates_cli() -> None:
    """Patient-facing message templates."""


@templates_cli.command("check")
@with_appcontext
def templates_check() -> None:
    """Lint every template in every catalogue locale; exit 1 on any error.

    Refuses reply words that Twilio treats as opt-outs (CANCEL, END, QUIT...),
    missing or unknown placeholders and bodies over 1,600 characters; warns where a
    GSM-7 rewrite would make a message cheaper.
    """
    price = Decimal(str(get_runtime().price_per_segment))
    errors = 0
    click.echo(
        f"{'template':<20} {'locale':<7} {'encoding':<8} {'segments':>8} {'cost':>8}  problems"
    )
    for row in check_catalogue(catalogue_locales(), template_sets()):
        cost = estimate_cost(measure(row.body), price)
        problems = "; ".join(f"{p.level}: {p.message}" for p in row.problems) or "-"
        errors += sum(p.level == "error" for p in row.problems)
        columns = f"{row.kind:<20} {row.locale:<7} {row.encoding:<8} {row.segments:>8}"
        click.echo(f"{columns} {cost:>8}  {problems}")
    if errors:
        fail(f"{errors} template error(s)", 1)


@templates_cli.command("override")
@click.argument("kind")
@click.argument("locale")
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--text", help="the clinic's wording, with the same %(name)s placeholders")
@click.option("--remove", is_flag=True, help="go back to the catalogue's wording")
@with_appcontext
def templates_override(
    kind: str, locale: str, clinic_slug: str, text: str | None, remove: bool
) -> None:
    """Set a clinic's own wording of one template (KIND) in one LOCALE."""
    try:
        clinic = get_clinic_by_slug(clinic_slug)
        problems = set_template_override(
            clinic.id, kind, locale, None if remove else text, get_runtime().clock
        )
    except WeSaidError as exc:
        fail(str(exc))
    for problem in problems:
        click.echo(f"{problem.level}: {problem.message}", err=True)
    click.echo(f"{'removed' if remove else 'set'} {kind} {locale} for clinic {clinic.slug}")
