"""`wesaid clinic`: organisations and clinics, and their API tokens."""

from __future__ import annotations

from datetime import time

import click
from flask.cli import with_appcontext

from app.clinics.queries import get_clinic_by_slug
from app.clinics.service import create_clinic
from app.clinics.tokens import create_token
from app.commands.common import fail
from app.core.errors import WeSaidError
from app.runtime import get_runtime


def _parse_hhmm(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{name}: expected HH:MM, got {value!r}") from None


@click.group("clinic")
def clinic_cli() -> None:
    """Organisations and clinics."""


@clinic_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--timezone", "timezone_name", default="Europe/London", show_default=True)
@click.option("--sender", required=True, help="E.164 number or Messaging Service sid (MG…)")
@click.option("--org", "org_slug", default="default", show_default=True)
@click.option("--locale", "default_locale", default="en", show_default=True)
@click.option("--quiet", default="21:00-08:00", show_default=True, help="quiet hours, local")
@with_appcontext
def clinic_create(
    slug: str,
    name: str,
    timezone_name: str,
    sender: str,
    org_slug: str,
    default_locale: str,
    quiet: str,
) -> None:
    """Create a clinic."""
    start, _, end = quiet.partition("-")
    try:
        clinic = create_clinic(
            slug,
            name=name,
            timezone=timezone_name,
            sender=sender,
            org_slug=org_slug,
            default_locale=default_locale,
            quiet_start=_parse_hhmm(start, "--quiet"),
            quiet_end=_parse_hhmm(end, "--quiet"),
            clock=get_runtime().clock,
        )
    except WeSaidError as exc:
        fail(str(exc), 1)
    click.echo(f"created clinic {clinic.slug} (id {clinic.id})")


@clinic_cli.command("token")
@click.argument("slug")
@click.option("--label", default="api", show_default=True)
@with_appcontext
def clinic_token(slug: str, label: str) -> None:
    """Issue an API token for a clinic with every scope (shown once; only its hash is
    kept). `wesaid token create` chooses scopes and an expiry."""
    try:
        clinic = get_clinic_by_slug(slug)
    except WeSaidError as exc:
        fail(str(exc), 1)
    click.echo(create_token(label=label, clinic_id=clinic.id, clock=get_runtime().clock).secret)
