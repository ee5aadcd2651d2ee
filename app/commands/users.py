"""`wesaid user`: staff accounts. No mail server is assumed: an invitation prints a
one-time link that sets the password, to be passed on to the person by hand."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.audit.service import SYSTEM
from app.clinics import accounts
from app.clinics.roles import Role
from app.commands.common import fail
from app.core.errors import WeSaidError
from app.runtime import get_runtime


@click.group("user")
def user_cli() -> None:
    """Staff accounts: invitations and the first admin."""


def _link(secret: str) -> str:
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/staff/welcome/{secret}"


def _invite(email: str, org: str, role: Role, clinics: tuple[str, ...], name: str) -> None:
    try:
        invitation = accounts.invite(
            email, org, role, clinics, get_runtime().clock, SYSTEM, name=name
        )
    except WeSaidError as exc:
        fail(str(exc))
    click.echo(
        f"invited user {invitation.user_id} as {role.value}; this link sets their password, "
        f"once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    click.echo(_link(invitation.secret))


@user_cli.command("invite")
@click.argument("email")
@click.option("--org", required=True, help="the organisation's slug")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option(
    "--clinic", "clinics", multiple=True, help="limit the role to this clinic (repeatable)"
)
@click.option("--name", default="", help="the person's name, as the workspace greets them")
@with_appcontext
def invite_command(email: str, org: str, role: str, clinics: tuple[str, ...], name: str) -> None:
    """Give a role to a staff member (new or not) and print a one-time password link."""
    _invite(email, org, Role(role), clinics, name)


@user_cli.command("create-admin")
@click.argument("email")
@click.option("--org", required=True, help="the organisation's slug")
@click.option("--name", default="", help="the person's name")
@with_appcontext
def create_admin_command(email: str, org: str, name: str) -> None:
    """Make an admin of the organisation (the first one, say) and print their link."""
    _invite(email, org, Role.ADMIN, (), name)
