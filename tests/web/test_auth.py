"""Signing in to the workspace: passwords, the second factor, sessions, CSRF, headers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.clinics import accounts, second_factor
from app.clinics.models import StaffSession, StaffUser
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.web.staff import PASSWORD, SYSTEM, StaffDesk, csrf_token, post_form
from tests.world import World


@pytest.fixture
def north(app: Flask, world: World) -> None:
    world.clinic("north")


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def test_the_sign_in_page_carries_strict_headers(client: Any) -> None:
    answer = client.get("/staff/sign-in")
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    assert 'autocomplete="current-password"' in _text(answer)


def test_a_wrong_password_says_so_without_saying_which(
    client: Any, desk: StaffDesk, north: None
) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"])
    for email, password in ((member.email, "wrong password!"), ("no@x.nhs.uk", PASSWORD)):
        answer = post_form(client, "/staff/sign-in", {"email": email, "password": password})
        assert answer.status_code == 401
        assert "The email address or password is not right" in _text(answer)
        assert "<title>Error: Sign in" in _text(answer)


def test_empty_fields_are_named_in_the_error_summary(client: Any) -> None:
    answer = post_form(client, "/staff/sign-in", {"email": "", "password": ""})
    assert answer.status_code == 422
    assert re.search(r'href="#email"\s*>\s*Enter your email address', _text(answer))
    assert re.search(r'href="#password"\s*>\s*Enter your password', _text(answer))


def test_a_form_without_its_csrf_token_is_refused(
    client: Any, desk: StaffDesk, north: None
) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"])
    answer = client.post("/staff/sign-in", data={"email": member.email, "password": PASSWORD})
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0


def test_a_receptionist_signs_in_and_out(client: Any, desk: StaffDesk, north: None) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    assert client.get("/staff/").status_code == 302  # to sign in
    desk.sign_in(client, member)
    home = client.get("/staff/")
    assert home.status_code == 200
    assert "Hello, Rita Patel" in _text(home)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    token = csrf_token(client, "/staff/")
    answer = client.post("/staff/sign-out", data={"csrf_token": token})
    assert answer.status_code == 302
    assert client.get("/staff/").status_code == 302
    session = db.session.scalar(select(StaffSession))
    assert session is not None
    assert session.ended_at is not None
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == [AuditAction.SIGN_IN, AuditAction.SIGN_OUT]


def test_each_sign_in_starts_a_new_session(client: Any, desk: StaffDesk, north: None) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"])
    desk.sign_in(client, member)
    first = client.get_cookie("session").value
    desk.sign_in(client, member)
    assert client.get_cookie("session").value != first
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 2


def test_thirty_idle_minutes_end_the_session(
    client: Any, desk: StaffDesk, north: None, clock: FixedClock
) -> None:
    desk.sign_in(client, desk.member(Role.RECEPTIONIST, ["north"]))
    clock.advance(timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200
    clock.advance(timedelta(minutes=31))
    answer = client.get("/staff/")
    assert answer.status_code == 302
    assert "/staff/sign-in" in answer.headers["Location"]


def test_an_admin_gives_a_code_from_their_app(
    client: Any, desk: StaffDesk, north: None, clock: FixedClock
) -> None:
    admin = desk.member(Role.ADMIN)
    answer = post_form(client, "/staff/sign-in", {"email": admin.email, "password": PASSWORD})
    assert answer.headers["Location"].endswith("/staff/second-factor")
    assert client.get("/staff/").status_code == 302  # not signed in yet
    wrong = post_form(client, "/staff/second-factor", {"code": "123456"})
    assert wrong.status_code == 401
    assert "That code is not right" in _text(wrong)
    clock.advance(timedelta(seconds=30))
    code = pyotp.TOTP(admin.totp_secret).at(clock.now())
    right = post_form(client, "/staff/second-factor", {"code": code})
    assert right.status_code == 302
    assert right.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200


def test_the_second_factor_page_needs_a_password_first(client: Any) -> None:
    answer = client.get("/staff/second-factor")
    assert answer.status_code == 302
    assert "/staff/sign-in" in answer.headers["Location"]


def test_a_new_admin_enrols_with_a_qr_code_and_gets_recovery_codes(
    client: Any, desk: StaffDesk, north: None, clock: FixedClock
) -> None:
    admin = desk.member(Role.ADMIN, enrol=False)
    answer = post_form(client, "/staff/sign-in", {"email": admin.email, "password": PASSWORD})
    assert answer.headers["Location"].endswith("/staff/enrol")
    page = _text(client.get("/staff/enrol"))
    assert "<svg" in page
    assert "QR code for your app" in page
    secret = re.search(r'class="wesaid-secret">([A-Z2-7]+)<', page)
    assert secret is not None
    code = pyotp.TOTP(secret.group(1)).at(clock.now())
    done = post_form(client, "/staff/enrol", {"code": code})
    assert done.status_code == 200
    assert "Your recovery codes" in _text(done)
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", _text(done))
    assert len(codes) == second_factor.RECOVERY_CODES
    assert client.get("/staff/").status_code == 200
    user = db.session.get(StaffUser, admin.user_id)
    db.session.refresh(user)
    assert user.totp_secret == secret.group(1)


def test_the_second_factor_can_be_turned_off_for_the_demo(
    app: Flask, client: Any, desk: StaffDesk, north: None
) -> None:
    app.config["STAFF_SECOND_FACTOR"] = False
    admin = desk.member(Role.ADMIN, enrol=False)
    answer = post_form(client, "/staff/sign-in", {"email": admin.email, "password": PASSWORD})
    assert answer.headers["Location"].endswith("/staff/")


def test_an_invitation_link_sets_a_password_once(
    client: Any, north: None, clock: FixedClock
) -> None:
    invitation = accounts.invite("new@x.nhs.uk", "trust", Role.CLINICIAN, [], clock, SYSTEM)
    path = f"/staff/welcome/{invitation.secret}"
    weak = post_form(client, path, {"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    assert "at least 12 characters" in _text(weak)
    differ = post_form(client, path, {"password": PASSWORD, "confirm": PASSWORD + "x"})
    assert differ.status_code == 422
    assert "The two passwords are not the same" in _text(differ)
    done = post_form(client, path, {"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    again = client.get(path)
    assert again.status_code == 404
    assert "This link has expired or been used" in _text(again)
    assert client.get("/staff/welcome/" + "x" * 500).status_code == 404


def test_sign_in_attempts_are_rate_limited(app: Flask, client: Any) -> None:
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    statuses = [
        post_form(client, "/staff/sign-in", {"email": "a@x.nhs.uk", "password": "nope"}).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_pages_speak_welsh_when_asked(client: Any) -> None:
    answer = client.get("/staff/sign-in?lang=cy")
    assert '<html lang="cy"' in _text(answer)


def test_an_unknown_staff_page_is_a_design_system_404(client: Any) -> None:
    answer = client.get("/staff/no-such-page")
    assert answer.status_code == 404
    assert "Page not found" in _text(answer)
    assert answer.headers["Content-Security-Policy"]
