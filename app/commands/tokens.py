"""`wesaid token`: API tokens with scopes and an expiry, listed and revoked."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import click
from flask.cli import with_appcontext

from app.clinics.queries import find_organisation, get_clinic_by_slug
from app.clinics.tokens import ALL_SCOPES, create_token, list_tokens, revoke_token
from app.commands.common import fail, print_json
from app.core.errors import WeSaidError
from app.runtime import get_runtime


@click.group("token")
def token_cli() -> None:
    """API tokens: create (shown once), list, revoke."""


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"--expires: expected YYYY-MM-DD, got {value!r}") from None
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@token_cli.command("create")
@click.option("--clinic", "clinic_slug", help="a token for this clinic")
@click.option("--org", "org_slug", help="a token for every clinic of this organisation")
@click.option("--name", required=True, help="what the token is for, e.g. the system using it")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([scope.value for scope in ALL_SCOPES]),
    help="what it may do (repeatable); every scope when left out",
)
@click.option("--expires", help="YYYY-MM-DD: the token stops working at the start of this day")
@with_appcontext
def create_command(
    clinic_slug: str | None,
    org_slug: str | None,
    name: str,
    scopes: tuple[str, ...],
    expires: str | None,
) -> None:
    """Make a token and print it, once: only its hash is kept."""
    if (clinic_slug is None) == (org_slug is None):
        fail("give --clinic or --org (one of them)")
    expires_at = _expiry(expires)
    try:
        if clinic_slug is not None:
            clinic_id, organisation_id = get_clinic_by_slug(clinic_slug).id, None
        else:
            organisation = find_organisation(org_slug or "")
            if organisation is None:
                fail(f"no organisation {org_slug!r}")
            clinic_id, organisation_id = None, organisation.id
        issued = create_token(
            label=name,
            clock=get_runtime().clock,
            clinic_id=clinic_id,
            organisation_id=organisation_id,
            scopes=scopes,
            expires_at=expires_at,
        )
    except WeSaidError as exc:
        fail(str(exc))
    click.echo(f"token {issued.id} (shown once; keep it in the calling system's secrets):")
    click.echo(issued.secret)


@token_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@with_appcontext
def list_command(as_json: bool) -> None:
    """Every token: id, name, what it is for, scopes, expiry, and whether revoked."""
    now = get_runtime().clock.now()
    rows: list[dict[str, Any]] = [
        {
            "id": token.id,
            "name": token.label,
            "clinic_id": token.clinic_id,
            "organisation_id": token.organisation_id,
            "scopes": list(token.scopes),
            "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "state": _state(token.revoked_at, token.expires_at, now),
        }
        for token in list_tokens()
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        where = (
            f"clinic {row['clinic_id']}" if row["clinic_id"] else f"org {row['organisation_id']}"
        )
        click.echo(
            f"{row['id']}\t{row['state']}\t{where}\t{row['name']}\t{' '.join(row['scopes'])}"
        )


def _state(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "live"


@token_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Stop a token working, now."""
    try:
        token = revoke_token(token_id, get_runtime().clock)
    except WeSaidError as exc:
        fail(str(exc))
    click.echo(f"token {token.id} revoked")
