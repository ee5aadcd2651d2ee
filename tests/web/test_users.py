"""Staff accounts in the workspace: admins of a whole organisation list, invite, give and
remove roles, disable and enable accounts, reset second factors and make password links;
everyone else is refused, and another organisation's staff are not found."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.clinics import signing_in
from app.clinics.models import RecoveryCode, StaffGrant, StaffSession, StaffUser
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.web.staff import PASSWORD, Member, StaffDesk, post_form
from tests.world import World

BASE = "https://wesaid.example.org/staff/welcome/"


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


def _actions(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _users() -> int:
    return int(db.session.scalar(select(func.count()).select_from(StaffUser)) or 0)


def _user(user_id: int) -> StaffUser:
    db.session.expire_all()
    found = db.session.get(StaffUser, user_id)
    assert found is not None
    return found


def _link(page: str) -> str:
    found = re.search(re.escape(BASE) + r"[A-Za-z0-9_-]+", page)
    assert found is not None, page[-3000:]
    return found.group(0)


def test_an_admin_lists_the_staff_of_their_organisation(
    client: Any, desk: StaffDesk, admin: Member, clinics: World
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    desk.member(Role.RECEPTIONIST, [], org="other", name="Olga Other")
    page = _text(client.get("/staff/users"))
    assert "Rita Patel" in page
    assert "Receptionist:\n  North" in page or re.search(r"Receptionist:\s*North", page)
    assert re.search(r"Administrator:\s*all clinics", page)
    assert "Olga Other" not in page
    assert f'href="/staff/users/{rita.user_id}"' in page
    assert "Set up" in page
    assert "Not set up" in page
    assert "Never" in page  # Rita has not signed in
    assert "2 March 2026 at 09:00" in page  # the admin signed in


@pytest.mark.parametrize(
    "role",
    [Role.CLINIC_MANAGER, Role.RECEPTIONIST, Role.CLINICIAN, Role.ANALYST, Role.AUDITOR],
)
def test_roles_other_than_admin_are_refused(
    client: Any, desk: StaffDesk, clinics: World, role: Role
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    desk.sign_in(client, desk.member(role, ["north"]))
    for path in ("/staff/users", "/staff/users/invite", f"/staff/users/{rita.user_id}"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Rita Patel" not in _text(answer)


def test_an_admin_of_some_clinics_manages_no_accounts(
    client: Any, desk: StaffDesk, clinics: World
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["south"], name="Rita Patel")
    desk.sign_in(client, desk.member(Role.ADMIN, ["south"]))
    page = _text(client.get("/staff/users"))
    assert "covers only some clinics" in page
    assert "Rita Patel" not in page
    assert client.get("/staff/users/invite").status_code == 404
    assert client.get(f"/staff/users/{rita.user_id}").status_code == 404


def test_another_organisations_staff_are_not_found(
    client: Any, desk: StaffDesk, clinics: World
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    desk.sign_in(client, desk.member(Role.ADMIN, org="other"))
    grant = db.session.scalar(select(StaffGrant).where(StaffGrant.user_id == rita.user_id))
    assert grant is not None
    answer = client.get(f"/staff/users/{rita.user_id}")
    assert answer.status_code == 404
    assert "Rita Patel" not in _text(answer)
    for path in (
        f"/staff/users/{rita.user_id}/disable",
        f"/staff/users/{rita.user_id}/enable",
        f"/staff/users/{rita.user_id}/second-factor",
        f"/staff/users/{rita.user_id}/password-link",
        f"/staff/users/{rita.user_id}/roles",
        f"/staff/users/{rita.user_id}/roles/{grant.id}/remove",
    ):
        answer = post_form(client, path, {"role": "admin"}, page="/staff/")
        assert answer.status_code == 404, path
    assert _user(rita.user_id).disabled_at is None
    assert db.session.scalar(select(func.count()).select_from(StaffGrant)) == 2
    assert _actions(AuditAction.PASSWORD_LINK) == []


def test_inviting_a_new_member_shows_their_link_once(
    client: Any, admin: Member, clinics: World, clock: FixedClock
) -> None:
    north = clinics.clinics["north"]
    answer = post_form(
        client,
        "/staff/users/invite",
        {
            "email": " Nia.Jones@Example.NHS.uk ",
            "name": "Nia Jones",
            "organisation": str(north.organisation_id),
            "role": "receptionist",
            "clinics": [str(north.id)],
        },
    )
    assert answer.status_code == 200
    page = _text(answer)
    assert "Copy the link now" in page
    assert "nia.jones@example.nhs.uk" in page
    link = _link(page)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "nia.jones@example.nhs.uk"))
    assert user is not None
    assert user.name == "Nia Jones"
    [grant] = user.grants
    assert (grant.role, grant.clinic_ids) == ("receptionist", [north.id])
    assert client.get(link.removeprefix("https://wesaid.example.org")).status_code == 200
    [invited] = _actions(AuditAction.INVITE_USER)[-1:]
    assert invited.record_ids == [user.id]
    assert invited.organisation_id == north.organisation_id
    assert invited.actor_user_id == admin.user_id
    assert "Nia" not in str(invited.detail)
    assert link not in _text(client.get(f"/staff/users/{user.id}"))
    assert link not in _text(client.get("/staff/users"))


def test_inviting_someone_with_an_account_gives_the_role_and_no_link(
    client: Any, desk: StaffDesk, admin: Member, clinics: World
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    north = clinics.clinics["north"]
    answer = post_form(
        client,
        "/staff/users/invite",
        {"email": rita.email, "organisation": str(north.organisation_id), "role": "clinician"},
    )
    assert answer.status_code == 200
    page = _text(answer)
    assert "already has an account" in page
    assert BASE not in page
    assert {g.role for g in _user(rita.user_id).grants} == {"receptionist", "clinician"}
    assert signing_in.sign_in(rita.email, PASSWORD, desk.clock, None).id == rita.user_id


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": ""}, "email", "Enter their email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address like"),
        ({"email": "a@" + "x" * 260 + ".uk"}, "email", "254 characters or fewer"),
        ({"name": "Nia\x07"}, "name", "letters, spaces and punctuation"),
        ({"name": "N" * 121}, "name", "120 characters or fewer"),
        ({"role": ""}, "role", "Choose a role"),
        ({"role": "superuser"}, "role", "Choose a role"),
        ({"organisation": "999"}, "organisation", "Choose an organisation"),
        ({"organisation": "x"}, "organisation", "Choose an organisation"),
        ({"clinics": ["east"]}, "clinics", "Choose clinics of the organisation"),
        ({"clinics": ["abc"]}, "clinics", "Choose clinics of the organisation"),
    ],
)
def test_bad_invitations_are_refused_with_the_field_named(
    client: Any, admin: Member, clinics: World, data: dict[str, Any], field: str, message: str
) -> None:
    north = clinics.clinics["north"]
    form: dict[str, Any] = {
        "email": "nia@example.nhs.uk",
        "organisation": str(north.organisation_id),
        "role": "receptionist",
    }
    form |= data
    if form.get("clinics") == ["east"]:
        form["clinics"] = [str(clinics.clinics["east"].id)]
    before = _users(), len(_actions(AuditAction.INVITE_USER))
    answer = post_form(client, "/staff/users/invite", form)
    assert answer.status_code == 422
    page = _text(answer)
    found = re.search(rf'href="#{field}"\s*>\s*([^<]+)', page)
    assert found is not None, page[:3000]
    assert message in found.group(1)
    assert (_users(), len(_actions(AuditAction.INVITE_USER))) == before


def test_giving_and_removing_a_role(
    client: Any, desk: StaffDesk, admin: Member, clinics: World
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    north, south = clinics.clinics["north"], clinics.clinics["south"]
    path = f"/staff/users/{rita.user_id}"
    answer = post_form(
        client,
        path + "/roles",
        {
            "organisation": str(north.organisation_id),
            "role": "clinic_manager",
            "clinics": [str(north.id), str(south.id)],
        },
        page=path,
    )
    assert answer.status_code == 302
    grant = db.session.scalar(
        select(StaffGrant).where(
            StaffGrant.user_id == rita.user_id, StaffGrant.role == "clinic_manager"
        )
    )
    assert grant is not None
    assert sorted(grant.clinic_ids or []) == sorted([north.id, south.id])
    page = _text(client.get(path))
    assert "Clinic manager" in page
    assert "North, South" in page
    answer = post_form(client, f"{path}/roles/{grant.id}/remove", {}, page=path)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(path)
    assert {g.role for g in _user(rita.user_id).grants} == {"receptionist"}
    [removed] = _actions(AuditAction.REVOKE_ROLE)
    assert removed.actor_user_id == admin.user_id
    bad = post_form(client, path + "/roles", {"role": "nobody"}, page=path)
    assert bad.status_code == 422
    assert re.search(r'href="#role"\s*>\s*Choose a role', _text(bad))
    [last] = _user(rita.user_id).grants
    answer = post_form(client, f"{path}/roles/{last.id}/remove", {}, page=path)
    assert answer.headers["Location"].endswith("/staff/users")  # no role left to manage
    assert "Rita Patel" not in _text(client.get("/staff/users"))


def test_the_last_admin_cannot_remove_their_own_admin_role(
    client: Any, desk: StaffDesk, admin: Member
) -> None:
    path = f"/staff/users/{admin.user_id}"
    [grant] = _user(admin.user_id).grants
    answer = post_form(client, f"{path}/roles/{grant.id}/remove", {}, page=path)
    assert answer.status_code == 422
    assert "no administrator" in _text(answer)
    assert len(_user(admin.user_id).grants) == 1
    second = desk.member(Role.ADMIN, name="Bea Second")
    answer = post_form(client, f"{path}/roles/{grant.id}/remove", {}, page=path)
    assert answer.status_code == 302
    assert _user(admin.user_id).grants == []
    assert _user(second.user_id).grants


def test_another_users_grant_is_not_found(client: Any, desk: StaffDesk, admin: Member) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    [grant] = _user(admin.user_id).grants
    path = f"/staff/users/{rita.user_id}"
    answer = post_form(client, f"{path}/roles/{grant.id}/remove", {}, page=path)
    assert answer.status_code == 404


def test_disabling_ends_the_sessions_at_once_and_enabling_lets_them_back(
    app: Flask, client: Any, desk: StaffDesk, admin: Member
) -> None:
    rita = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    theirs = app.test_client()
    desk.sign_in(theirs, rita)
    assert theirs.get("/staff/").status_code == 200
    path = f"/staff/users/{rita.user_id}"
    answer = post_form(client, path + "/disable", {}, page=path)
    assert answer.status_code == 302
    assert _user(rita.user_id).disabled_at is not None
    assert theirs.get("/staff/").status_code == 302  # signed out, to sign in
    live = (
        select(func.count())
        .select_from(StaffSession)
        .where(StaffSession.user_id == rita.user_id, StaffSession.ended_at.is_(None))
    )
    assert db.session.scalar(live) == 0
    page = _text(client.get(path))
    assert "Disabled" in page
    assert "Enable account" in page
    with pytest.raises(signing_in.SignInRefused):
        signing_in.sign_in(rita.email, PASSWORD, desk.clock, None)
    assert post_form(client, path + "/enable", {}, page=path).status_code == 302
    assert _user(rita.user_id).disabled_at is None
    desk.sign_in(theirs, rita)
    assert [e.record_ids for e in _actions(AuditAction.DISABLE_USER)] == [[rita.user_id]]
    assert [e.record_ids for e in _actions(AuditAction.ENABLE_USER)] == [[rita.user_id]]


def test_no_one_disables_their_own_account(client: Any, desk: StaffDesk, admin: Member) -> None:
    desk.member(Role.ADMIN, name="Bea Second")
    path = f"/staff/users/{admin.user_id}"
    assert "Disable account" not in _text(client.get(path))
    answer = post_form(client, path + "/disable", {}, page=path)
    assert answer.status_code == 422
    assert "You cannot disable your own account" in _text(answer)
    assert _user(admin.user_id).disabled_at is None
    assert _actions(AuditAction.DISABLE_USER) == []


def test_resetting_a_lost_second_factor(
    app: Flask, client: Any, desk: StaffDesk, admin: Member
) -> None:
    manager = desk.member(Role.CLINIC_MANAGER, ["north"], name="Mo Manager")
    theirs = app.test_client()
    desk.sign_in(theirs, manager)
    db.session.add(RecoveryCode(user_id=manager.user_id, code_hash="0" * 64))
    db.session.commit()
    path = f"/staff/users/{manager.user_id}"
    answer = post_form(client, path + "/second-factor", {}, page=path)
    assert answer.status_code == 302
    user = _user(manager.user_id)
    assert user.totp_secret is None
    codes = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == manager.user_id)
    )
    assert db.session.scalar(codes) == 0
    assert theirs.get("/staff/").status_code == 302
    answer = post_form(theirs, "/staff/sign-in", {"email": manager.email, "password": PASSWORD})
    assert answer.headers["Location"].endswith("/staff/enrol")
    [event] = _actions(AuditAction.RESET_SECOND_FACTOR)
    assert event.record_ids == [manager.user_id]
    assert event.actor_user_id == admin.user_id


def test_a_new_password_link_replaces_the_old_one(
    client: Any, desk: StaffDesk, admin: Member, clinics: World, clock: FixedClock
) -> None:
    north = clinics.clinics["north"]
    first = _link(
        _text(
            post_form(
                client,
                "/staff/users/invite",
                {
                    "email": "nia@example.nhs.uk",
                    "organisation": str(north.organisation_id),
                    "role": "clinician",
                },
            )
        )
    )
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "nia@example.nhs.uk"))
    assert user is not None
    path = f"/staff/users/{user.id}"
    answer = post_form(client, path + "/password-link", {}, page=path)
    assert answer.status_code == 200
    second = _link(_text(answer))
    assert second != first
    assert client.get(first.removeprefix("https://wesaid.example.org")).status_code == 404
    assert client.get(second.removeprefix("https://wesaid.example.org")).status_code == 200
    [event] = _actions(AuditAction.PASSWORD_LINK)
    assert event.record_ids == [user.id]
    assert event.organisation_id == north.organisation_id
