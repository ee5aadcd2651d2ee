"""What admins do to staff accounts (disable, enable, reset the second factor, a new
password link, invitations by id), the rule that keeps an organisation's last admin,
the reads the admin pages use, and the states of API tokens."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM, Actor
from app.clinics import accounts, second_factor, signing_in, staff_admin, staff_sessions
from app.clinics.models import RecoveryCode, StaffSession, StaffUser
from app.clinics.queries import (
    covered_organisations,
    find_grant,
    find_staff_member,
    find_token,
    last_sign_ins,
    staff_of,
    tokens_within,
)
from app.clinics.roles import Role
from app.clinics.tokens import TokenState, create_token, revoke_token, state_of
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from tests.world import World

PASSWORD = "correct horse battery staple"


@pytest.fixture
def clinics(app: Flask, world: World) -> World:
    world.clinic("north")
    world.clinic("south")
    world.clinic("east", org="other")
    return world


def _member(clock: FixedClock, email: str, role: Role, org: str = "trust") -> int:
    invitation = accounts.invite(email, org, role, [], clock, SYSTEM)
    accounts.set_password(invitation.secret, PASSWORD, clock, SYSTEM)
    return invitation.user_id


def _user(user_id: int) -> StaffUser:
    db.session.expire_all()
    found = db.session.get(StaffUser, user_id)
    assert found is not None
    return found


def _live_sessions(user_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(StaffSession)
            .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        )
        or 0
    )


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_disabling_ends_every_session_and_enabling_lets_them_sign_in(
    clinics: World, clock: FixedClock
) -> None:
    admin = _member(clock, "ada@x.nhs.uk", Role.ADMIN)
    rita = _member(clock, "rita@x.nhs.uk", Role.RECEPTIONIST)
    secret = staff_sessions.open_session(rita, verified=True, clock=clock, actor=SYSTEM)
    staff_sessions.open_session(rita, verified=False, clock=clock, actor=SYSTEM)
    trust = clinics.clinics["north"].organisation_id
    staff_admin.disable_user(rita, clock, Actor(admin), organisation_id=trust)
    assert _user(rita).disabled_at == clock.now()
    assert _live_sessions(rita) == 0
    assert staff_sessions.find_session(secret, clock) is None
    with pytest.raises(signing_in.SignInRefused):
        signing_in.sign_in("rita@x.nhs.uk", PASSWORD, clock, None)
    staff_admin.disable_user(rita, clock, Actor(admin))  # again: nothing more
    [disabled] = _events(AuditAction.DISABLE_USER)
    assert (disabled.record_ids, disabled.actor_user_id) == ([rita], admin)
    assert disabled.organisation_id == trust
    staff_admin.enable_user(rita, clock, Actor(admin))
    staff_admin.enable_user(rita, clock, Actor(admin))  # again: nothing more
    assert _user(rita).disabled_at is None
    assert signing_in.sign_in("rita@x.nhs.uk", PASSWORD, clock, None).id == rita
    assert len(_events(AuditAction.ENABLE_USER)) == 1


def test_no_one_disables_their_own_account(clinics: World, clock: FixedClock) -> None:
    admin = _member(clock, "ada@x.nhs.uk", Role.ADMIN)
    _member(clock, "bea@x.nhs.uk", Role.ADMIN)
    with pytest.raises(accounts.OwnAccount):
        staff_admin.disable_user(admin, clock, Actor(admin))
    assert _user(admin).disabled_at is None


def test_an_organisation_always_keeps_an_enabled_admin(clinics: World, clock: FixedClock) -> None:
    ada = _member(clock, "ada@x.nhs.uk", Role.ADMIN)
    bea = _member(clock, "bea@x.nhs.uk", Role.ADMIN)
    other = _member(clock, "olga@x.nhs.uk", Role.ADMIN, org="other")
    staff_admin.disable_user(bea, clock, Actor(ada))
    [ada_admin] = _user(ada).grants
    with pytest.raises(accounts.LastAdmin):
        accounts.revoke_grant(ada_admin.id, clock, Actor(ada))  # bea is disabled
    with pytest.raises(accounts.LastAdmin):
        staff_admin.disable_user(ada, clock, Actor(other))
    staff_admin.enable_user(bea, clock, Actor(ada))
    accounts.revoke_grant(ada_admin.id, clock, Actor(ada))
    assert _user(ada).grants == []
    assert _events(AuditAction.REVOKE_ROLE)[0].record_ids == [ada]


def test_resetting_the_second_factor_forgets_it_and_ends_the_sessions(
    clinics: World, clock: FixedClock
) -> None:
    manager = _member(clock, "mo@x.nhs.uk", Role.CLINIC_MANAGER)
    secret = second_factor.new_totp_secret()
    codes = second_factor.enrol_second_factor(
        manager, secret, pyotp.TOTP(secret).at(clock.now()), clock, SYSTEM
    )
    assert len(codes) == second_factor.RECOVERY_CODES
    staff_sessions.open_session(manager, verified=True, clock=clock, actor=SYSTEM)
    staff_admin.reset_second_factor(manager, clock, SYSTEM, organisation_id=None)
    user = _user(manager)
    assert (user.totp_secret, user.totp_last_step) == (None, None)
    left = select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == manager)
    assert db.session.scalar(left) == 0
    assert _live_sessions(manager) == 0
    assert not second_factor.check_second_factor(manager, codes[0], clock, SYSTEM)
    assert len(_events(AuditAction.RESET_SECOND_FACTOR)) == 1


def test_a_new_password_link_replaces_the_older_ones(clinics: World, clock: FixedClock) -> None:
    invitation = accounts.invite("nia@x.nhs.uk", "trust", Role.CLINICIAN, [], clock, SYSTEM)
    made = staff_admin.password_link(invitation.user_id, clock, SYSTEM, organisation_id=None)
    assert made.user_id == invitation.user_id
    assert made.expires_at == clock.now() + accounts.INVITATION_LIFETIME
    assert accounts.find_link(invitation.secret, clock) is None
    with pytest.raises(NotFound):
        accounts.set_password(invitation.secret, PASSWORD, clock, SYSTEM)
    accounts.set_password(made.secret, PASSWORD, clock, SYSTEM)
    assert signing_in.sign_in("nia@x.nhs.uk", PASSWORD, clock, None).id == invitation.user_id
    assert len(_events(AuditAction.PASSWORD_LINK)) == 1
    with pytest.raises(NotFound):
        staff_admin.password_link(999, clock, SYSTEM)


def test_inviting_by_id_links_only_a_new_account(clinics: World, clock: FixedClock) -> None:
    north = clinics.clinics["north"]
    invited = accounts.invite_member(
        "Nia@X.nhs.uk",
        north.organisation_id,
        Role.RECEPTIONIST,
        [north.id],
        clock,
        SYSTEM,
        name="  Nia   Jones ",
    )
    assert invited.invitation is not None
    user = _user(invited.user_id)
    assert (user.email, user.name) == ("nia@x.nhs.uk", "Nia Jones")
    assert [g.clinic_ids for g in user.grants] == [[north.id]]
    accounts.set_password(invited.invitation.secret, PASSWORD, clock, SYSTEM)
    again = accounts.invite_member(
        "nia@x.nhs.uk", north.organisation_id, Role.CLINICIAN, [], clock, SYSTEM
    )
    assert (again.user_id, again.invitation) == (invited.user_id, None)
    assert {g.role for g in _user(invited.user_id).grants} == {"receptionist", "clinician"}
    assert [e.detail for e in _events(AuditAction.INVITE_USER)] == [
        {"link": True},
        {"link": False},
    ]


def test_inviting_by_id_refuses_what_is_not_the_organisations(
    clinics: World, clock: FixedClock
) -> None:
    north, east = clinics.clinics["north"], clinics.clinics["east"]
    with pytest.raises(Invalid):
        accounts.invite_member(
            "n@x.nhs.uk", north.organisation_id, Role.CLINICIAN, [east.id], clock, SYSTEM
        )
    with pytest.raises(Invalid):
        accounts.invite_member("nobody", north.organisation_id, Role.CLINICIAN, [], clock, SYSTEM)
    with pytest.raises(NotFound):
        accounts.invite_member("n@x.nhs.uk", 999, Role.CLINICIAN, [], clock, SYSTEM)
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_reads_for_the_admin_pages(clinics: World, clock: FixedClock) -> None:
    north, south, east = (clinics.clinics[s] for s in ("north", "south", "east"))
    trust, other = north.organisation_id, east.organisation_id
    assert [o.id for o in covered_organisations([trust, other], [north.id, south.id])] == [trust]
    assert covered_organisations([trust], [north.id]) == []
    rita = _member(clock, "rita@x.nhs.uk", Role.RECEPTIONIST)
    olga = _member(clock, "olga@x.nhs.uk", Role.ADMIN, org="other")
    assert [u.id for u in staff_of([trust])] == [rita]
    assert find_staff_member(olga, [trust]) is None
    assert find_staff_member(rita, [trust]) is not None
    [grant] = _user(rita).grants
    assert find_grant(grant.id, rita, [trust]) is not None
    assert find_grant(grant.id, rita, [other]) is None
    assert find_grant(grant.id, olga, [trust]) is None
    assert last_sign_ins([rita]) == {}
    staff_sessions.open_session(rita, verified=True, clock=clock, actor=SYSTEM)
    assert last_sign_ins([rita, olga]) == {rita: clock.now()}


def test_tokens_within_reach_and_their_states(clinics: World, clock: FixedClock) -> None:
    north, south, east = (clinics.clinics[s] for s in ("north", "south", "east"))
    mine = create_token(label="n", clock=clock, clinic_id=north.id)
    theirs = create_token(label="s", clock=clock, clinic_id=south.id)
    whole = create_token(
        label="t",
        clock=clock,
        organisation_id=north.organisation_id,
        expires_at=clock.now() + timedelta(hours=1),
    )
    create_token(label="e", clock=clock, clinic_id=east.id)
    found = tokens_within([north.id], [north.organisation_id])
    assert sorted(t.id for t in found) == sorted([mine.id, whole.id])
    assert find_token(theirs.id, [north.id], [north.organisation_id]) is None
    assert find_token(whole.id, [north.id], []) is None
    assert find_token(999, [north.id], []) is None
    token = find_token(whole.id, [], [north.organisation_id])
    assert token is not None
    assert state_of(token, clock.now()) is TokenState.LIVE
    assert state_of(token, clock.now() + timedelta(hours=1)) is TokenState.EXPIRED
    revoke_token(whole.id, clock)
    assert state_of(token, clock.now()) is TokenState.REVOKED
