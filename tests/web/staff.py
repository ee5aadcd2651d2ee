"""Staff members for workspace tests: invited, with a password, signed in through the
real forms (CSRF tokens included)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from app.audit.service import Actor
from app.clinics import accounts, second_factor, signing_in
from app.clinics.models import StaffUser
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db

PASSWORD = "correct horse battery staple"
SYSTEM = Actor(user_id=None, address=None)
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at `path`."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found is not None, f"no form with a CSRF token on {path} ({page.status_code})"
    return found.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    """Post `data` to `path` with the CSRF token of the form shown at `page` (or `path`)."""
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token})


@dataclass
class Member:
    user_id: int
    email: str
    password: str
    totp_secret: str | None = None


@dataclass
class StaffDesk:
    """Makes staff members and signs them in."""

    app: Flask
    clock: FixedClock
    _made: int = 0

    def member(
        self,
        role: Role,
        clinics: Sequence[str] = (),
        org: str = "trust",
        name: str = "",
        enrol: bool = True,
    ) -> Member:
        """A staff member with `role` in `org` (limited to `clinics`), a password, and
        (for roles that need one, unless `enrol` is False) an enrolled second factor."""
        self._made += 1
        email = f"staff{self._made}@example.nhs.uk"
        invitation = accounts.invite(email, org, role, clinics, self.clock, SYSTEM, name=name)
        accounts.set_password(invitation.secret, PASSWORD, self.clock, SYSTEM)
        member = Member(invitation.user_id, email, PASSWORD)
        if enrol and signing_in.needs_second_factor(invitation.user_id):
            secret = second_factor.new_totp_secret()
            second_factor.enrol_second_factor(
                invitation.user_id, secret, self.code(secret), self.clock, SYSTEM
            )
            member.totp_secret = secret
        return member

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now())

    def sign_in(self, client: FlaskClient, member: Member) -> FlaskClient:
        """Sign `member` in on `client`, giving the second factor if asked."""
        answer = post_form(
            client, "/staff/sign-in", {"email": member.email, "password": member.password}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        if answer.headers["Location"].endswith("/staff/second-factor"):
            assert member.totp_secret is not None
            self.clock.advance(timedelta(seconds=30))  # each code is good once
            answer = post_form(
                client, "/staff/second-factor", {"code": self.code(member.totp_secret)}
            )
            assert answer.status_code == 302, (
                answer.status_code,
                answer.get_data(as_text=True)[-600:],
            )
        assert answer.headers["Location"].endswith("/staff/")
        return client

    def user(self, member: Member) -> StaffUser:
        found = db.session.get(StaffUser, member.user_id)
        assert found is not None
        return found
