"""API tokens in the workspace: admins list, make (the secret shown once) and revoke
(after a confirmation page) the tokens of their clinics and organisations; everyone
else is refused, and another organisation's token is not found."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import ApiToken
from app.clinics.queries import hash_token
from app.clinics.roles import Role
from app.clinics.tokens import create_token, find_caller, revoke_token
from app.core.clock import FixedClock
from app.extensions import db
from tests.web.staff import Member, StaffDesk, post_form
from tests.world import World


@pytest.fixture
def clinics(app: Flask, world: World) -> World:
    world.clinic("north")
    world.clinic("south")
    world.clinic("east", org="other")
    return world


@pytest.fixture
def admin(client: Any, desk: StaffDesk, clinics: World) -> Member:
    member = desk.member(Role.ADMIN, name="Ada Admin")
    desk.sign_in(client, member)
    return member


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _tokens() -> int:
    return int(db.session.scalar(select(func.count()).select_from(ApiToken)) or 0)


def _actions(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _form(clinics: World, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "Patient administration system",
        "owner": f"clinic-{clinics.clinics['north'].id}",
        "scopes": ["patients:write", "appointments:write"],
        "expiry_day": "",
        "expiry_month": "",
        "expiry_year": "",
    }
    return form | changes


def test_the_list_shows_each_tokens_owner_scopes_dates_and_state(
    client: Any, desk: StaffDesk, admin: Member, clinics: World, clock: FixedClock
) -> None:
    north, east = clinics.clinics["north"], clinics.clinics["east"]
    create_token(label="PAS feed", clock=clock, clinic_id=north.id, scopes=["patients:write"])
    create_token(
        label="Results reader",
        clock=clock,
        organisation_id=north.organisation_id,
        expires_at=clock.now() + timedelta(days=1),
    )
    gone = create_token(label="Old feed", clock=clock, clinic_id=north.id)
    revoke_token(gone.id, clock)
    create_token(label="Elsewhere", clock=clock, clinic_id=east.id)
    clock.advance(timedelta(days=2))
    desk.sign_in(client, admin)  # the first session has timed out
    page = _text(client.get("/staff/tokens"))
    assert "PAS feed" in page
    assert "Import and update patients" in page
    assert "Every clinic of trust" in page
    assert "Everything" in page
    assert "2 March 2026" in page
    assert "3 March 2026" in page  # the results reader's expiry
    for state in ("Live", "Expired", "Revoked"):
        assert state in page
    assert page.count("Revoke<span") == 1  # only the live token can be revoked
    assert "Elsewhere" not in page


def test_making_a_token_shows_the_secret_once_and_audits_it(
    client: Any, admin: Member, clinics: World, clock: FixedClock
) -> None:
    answer = post_form(
        client,
        "/staff/tokens/new",
        _form(clinics, expiry_day="31", expiry_month="3", expiry_year="2027"),
    )
    assert answer.status_code == 200
    page = _text(answer)
    assert "Copy the token now" in page
    secret = re.search(r'<code id="secret">(ws_[A-Za-z0-9_-]+)</code>', page)
    assert secret is not None
    token = db.session.scalar(select(ApiToken))
    assert token is not None
    assert token.token_hash == hash_token(secret.group(1))
    assert token.clinic_id == clinics.clinics["north"].id
    assert sorted(token.scopes) == ["appointments:write", "patients:write"]
    assert token.expires_at == datetime(2027, 3, 31, 0, 0, tzinfo=UTC) - timedelta(hours=1)
    caller = find_caller("north", secret.group(1), clock.now())
    assert caller is not None
    [event] = _actions(AuditAction.CREATE_TOKEN)
    assert event.actor_user_id == admin.user_id
    assert event.record_ids == [token.id]
    listing = _text(client.get("/staff/tokens"))
    assert secret.group(1) not in listing
    assert "31 March 2027" in listing


def test_an_organisation_token_covers_every_clinic(
    client: Any, admin: Member, clinics: World, clock: FixedClock
) -> None:
    north = clinics.clinics["north"]
    answer = post_form(
        client, "/staff/tokens/new", _form(clinics, owner=f"organisation-{north.organisation_id}")
    )
    assert answer.status_code == 200
    token = db.session.scalar(select(ApiToken))
    assert token is not None
    assert (token.clinic_id, token.organisation_id) == (None, north.organisation_id)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name for the token"),
        ({"name": "   "}, "name", "Enter a name for the token"),
        ({"name": "x" * 101}, "name", "100 characters or fewer"),
        ({"name": "bad\x00name"}, "name", "letters, digits, spaces and punctuation"),
        ({"owner": ""}, "owner", "Choose a clinic or a whole organisation"),
        ({"owner": "clinic-abc"}, "owner", "Choose a clinic or a whole organisation"),
        ({"owner": "EAST"}, "owner", "Choose a clinic or a whole organisation"),
        ({"scopes": []}, "scopes", "Choose at least one thing"),
        ({"scopes": ["admin:everything"]}, "scopes", "Choose at least one thing"),
        (
            {"expiry_day": "31", "expiry_month": "2", "expiry_year": "2027"},
            "expiry_day",
            "Enter a real date",
        ),
        ({"expiry_day": "1", "expiry_month": "", "expiry_year": ""}, "expiry_day", "real date"),
        ({"expiry_day": "x", "expiry_month": "1", "expiry_year": "2027"}, "expiry_day", "real"),
        (
            {"expiry_day": "2", "expiry_month": "3", "expiry_year": "2026"},
            "expiry_day",
            "Enter a date after today",
        ),
        (
            {"expiry_day": "1", "expiry_month": "1", "expiry_year": "12345"},
            "expiry_year",
            "4 characters",
        ),
    ],
)
def test_bad_tokens_are_refused_with_the_field_named(
    client: Any, admin: Member, clinics: World, changes: dict[str, Any], field: str, message: str
) -> None:
    form = _form(clinics, **changes)
    if form["owner"] == "EAST":
        form["owner"] = f"clinic-{clinics.clinics['east'].id}"
    answer = post_form(client, "/staff/tokens/new", form)
    assert answer.status_code == 422
    page = _text(answer)
    found = re.search(rf'href="#{field}"\s*>\s*([^<]+)', page)
    assert found is not None, page[:3000]
    assert message in found.group(1) or message in page
    assert "ws_" not in page
    assert _tokens() == 0
    assert _actions(AuditAction.CREATE_TOKEN) == []


def test_revoking_asks_first_then_revokes(
    client: Any, admin: Member, clinics: World, clock: FixedClock
) -> None:
    issued = create_token(label="PAS feed", clock=clock, clinic_id=clinics.clinics["north"].id)
    path = f"/staff/tokens/{issued.id}/revoke"
    page = _text(client.get(path))
    assert "Revoke the token “PAS feed”?" in page
    assert db.session.get(ApiToken, issued.id).revoked_at is None
    answer = post_form(client, path, {})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, issued.id).revoked_at is not None
    assert find_caller("north", issued.secret, clock.now()) is None
    [event] = _actions(AuditAction.REVOKE_TOKEN)
    assert event.actor_user_id == admin.user_id
    assert "The token is revoked." in _text(client.get("/staff/tokens"))
    assert "This token no longer works." in _text(client.get(path))


def test_a_revoke_without_its_csrf_token_changes_nothing(
    client: Any, admin: Member, clinics: World, clock: FixedClock
) -> None:
    issued = create_token(label="PAS feed", clock=clock, clinic_id=clinics.clinics["north"].id)
    answer = client.post(f"/staff/tokens/{issued.id}/revoke")
    assert answer.status_code == 400
    assert db.session.get(ApiToken, issued.id).revoked_at is None


@pytest.mark.parametrize(("clinics_of", "org"), [([], "other"), (["south"], "trust")])
def test_another_organisations_or_clinics_token_is_not_found(
    client: Any, desk: StaffDesk, clinics: World, clock: FixedClock, clinics_of: list[str], org: str
) -> None:
    north = clinics.clinics["north"]
    mine = create_token(label="North feed", clock=clock, clinic_id=north.id)
    whole = create_token(label="Trust feed", clock=clock, organisation_id=north.organisation_id)
    desk.sign_in(client, desk.member(Role.ADMIN, clinics_of, org=org))
    listing = _text(client.get("/staff/tokens"))
    assert "North feed" not in listing
    assert "Trust feed" not in listing
    for token_id in (mine.id, whole.id):
        path = f"/staff/tokens/{token_id}/revoke"
        assert client.get(path).status_code == 404
        assert post_form(client, path, {}, page="/staff/").status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(ApiToken.revoked_at.is_not(None))) == 0
    answer = post_form(client, "/staff/tokens/new", _form(clinics, owner=f"clinic-{north.id}"))
    assert answer.status_code == 422
    assert _tokens() == 2


@pytest.mark.parametrize(
    "role", [Role.CLINIC_MANAGER, Role.RECEPTIONIST, Role.ANALYST, Role.AUDITOR]
)
def test_roles_other_than_admin_are_refused(
    client: Any, desk: StaffDesk, clinics: World, clock: FixedClock, role: Role
) -> None:
    issued = create_token(label="PAS feed", clock=clock, clinic_id=clinics.clinics["north"].id)
    desk.sign_in(client, desk.member(role, ["north"]))
    for path in ("/staff/tokens", "/staff/tokens/new", f"/staff/tokens/{issued.id}/revoke"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "PAS feed" not in _text(answer)
