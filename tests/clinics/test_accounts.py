"""Staff accounts: invitations, passwords, lockout, the second factor and sessions."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM, Actor
from app.clinics import accounts, passwords, second_factor, signing_in, staff_sessions
from app.clinics.models import StaffGrant, StaffUser
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from tests.world import World

PASSWORD = "correct horse battery staple"


def _actions() -> list[AuditAction]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def invited(app: Flask, world: World, clock: FixedClock) -> accounts.Invitation:
    world.clinic("north")
    world.clinic("south")
    return accounts.invite(
        " Rita@Example.NHS.uk ", "trust", Role.RECEPTIONIST, ["north"], clock, SYSTEM
    )


def test_an_invitation_sets_the_password_once(
    invited: accounts.Invitation, clock: FixedClock
) -> None:
    user = db.session.get(StaffUser, invited.user_id)
    assert user is not None
    assert user.email == "rita@example.nhs.uk"
    assert user.password_hash is None
    grant = db.session.scalar(select(StaffGrant))
    assert grant is not None
    assert grant.role == "receptionist"
    assert len(grant.clinic_ids or []) == 1

    accounts.set_password(invited.secret, PASSWORD, clock, SYSTEM)
    assert db.session.get(StaffUser, invited.user_id).password_hash.startswith("$argon2id$")
    with pytest.raises(NotFound):
        accounts.set_password(invited.secret, PASSWORD + "!", clock, SYSTEM)
    assert signing_in.sign_in("RITA@example.nhs.uk", PASSWORD, clock, "10.0.0.1").id == user.id


def test_a_link_expires_after_seven_days(invited: accounts.Invitation, clock: FixedClock) -> None:
    clock.advance(accounts.INVITATION_LIFETIME)
    with pytest.raises(NotFound):
        accounts.set_password(invited.secret, PASSWORD, clock, SYSTEM)


@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaaaa", "x" * 300])
def test_weak_passwords_are_refused_and_the_link_still_works(
    invited: accounts.Invitation, clock: FixedClock, weak: str
) -> None:
    with pytest.raises(Invalid):
        accounts.set_password(invited.secret, weak, clock, SYSTEM)
    accounts.set_password(invited.secret, PASSWORD, clock, SYSTEM)


def test_invitations_refuse_bad_emails_and_clinics_of_other_organisations(
    app: Flask, world: World, clock: FixedClock
) -> None:
    world.clinic("north", org="trust")
    world.clinic("elsewhere", org="other")
    with pytest.raises(Invalid):
        accounts.invite("not an email", "trust", Role.ADMIN, [], clock, SYSTEM)
    with pytest.raises(Invalid):
        accounts.invite("a@b.nhs.uk", "trust", Role.CLINICIAN, ["elsewhere"], clock, SYSTEM)
    with pytest.raises(NotFound):
        accounts.invite("a@b.nhs.uk", "nowhere", Role.CLINICIAN, [], clock, SYSTEM)
    with pytest.raises(NotFound):
        accounts.invite("a@b.nhs.uk", "trust", Role.CLINICIAN, ["missing"], clock, SYSTEM)
    assert db.session.scalar(select(StaffUser)) is None


def test_ten_failures_lock_the_account_for_fifteen_minutes(
    invited: accounts.Invitation, clock: FixedClock
) -> None:
    accounts.set_password(invited.secret, PASSWORD, clock, SYSTEM)
    for _ in range(signing_in.MAX_FAILED_SIGN_INS):
        with pytest.raises(signing_in.SignInRefused):
            signing_in.sign_in("rita@example.nhs.uk", "wrong password!", clock, None)
    with pytest.raises(signing_in.SignInRefused):  # the right password, but locked
        signing_in.sign_in("rita@example.nhs.uk", PASSWORD, clock, None)
    clock.advance(signing_in.LOCK_TIME)
    assert signing_in.sign_in("rita@example.nhs.uk", PASSWORD, clock, None).id == invited.user_id
    actions = _actions()
    assert actions.count(AuditAction.SIGN_IN_FAILED) == signing_in.MAX_FAILED_SIGN_INS + 1
    assert actions.count(AuditAction.ACCOUNT_LOCKED) == 1


def test_an_unknown_email_is_refused_like_a_wrong_password(app: Flask, clock: FixedClock) -> None:
    with pytest.raises(signing_in.SignInRefused):
        signing_in.sign_in("nobody@example.nhs.uk", PASSWORD, clock, "10.0.0.9")
    event = db.session.scalar(select(AuditEvent))
    assert event is not None
    assert event.action == AuditAction.SIGN_IN_FAILED
    assert event.address == "10.0.0.9"
    assert event.record_ids == []


def test_admins_and_managers_need_a_second_factor(
    app: Flask, world: World, clock: FixedClock
) -> None:
    world.clinic("north")
    admin = accounts.invite("a@x.nhs.uk", "trust", Role.ADMIN, [], clock, SYSTEM)
    manager = accounts.invite("m@x.nhs.uk", "trust", Role.CLINIC_MANAGER, [], clock, SYSTEM)
    clinician = accounts.invite("c@x.nhs.uk", "trust", Role.CLINICIAN, [], clock, SYSTEM)
    assert signing_in.needs_second_factor(admin.user_id)
    assert signing_in.needs_second_factor(manager.user_id)
    assert not signing_in.needs_second_factor(clinician.user_id)


def test_totp_enrolment_codes_are_good_once_and_recovery_codes_once(
    invited: accounts.Invitation, clock: FixedClock
) -> None:
    user_id = invited.user_id
    secret = second_factor.new_totp_secret()
    totp = pyotp.TOTP(secret)
    with pytest.raises(Invalid):
        second_factor.enrol_second_factor(user_id, secret, "000000", clock, SYSTEM)
    codes = second_factor.enrol_second_factor(user_id, secret, totp.at(clock.now()), clock, SYSTEM)
    assert len(codes) == second_factor.RECOVERY_CODES == len(set(codes))
    actor = Actor(user_id=user_id)
    # The code used to enrol cannot sign in again; the next one can, once.
    assert not second_factor.check_second_factor(user_id, totp.at(clock.now()), clock, actor)
    clock.advance(timedelta(seconds=30))
    assert second_factor.check_second_factor(user_id, totp.at(clock.now()), clock, actor)
    assert not second_factor.check_second_factor(user_id, totp.at(clock.now()), clock, actor)
    # A recovery code works once.
    assert second_factor.check_second_factor(user_id, codes[0].upper(), clock, actor)
    assert not second_factor.check_second_factor(user_id, codes[0], clock, actor)
    assert AuditAction.RECOVERY_CODE_USED in _actions()


def test_sessions_end_after_thirty_idle_minutes_or_twelve_hours(
    invited: accounts.Invitation, clock: FixedClock
) -> None:
    actor = Actor(user_id=invited.user_id)
    idle = staff_sessions.open_session(invited.user_id, True, clock, actor)
    clock.advance(staff_sessions.IDLE_TIMEOUT)
    assert staff_sessions.find_session(idle, clock) is None

    busy = staff_sessions.open_session(invited.user_id, True, clock, actor)
    for _ in range(12 * 4):
        assert staff_sessions.find_session(busy, clock) is not None
        clock.advance(timedelta(minutes=15))
    assert staff_sessions.find_session(busy, clock) is None  # 12 hours, however busy

    unverified = staff_sessions.open_session(invited.user_id, False, clock, actor)
    assert staff_sessions.find_session(unverified, clock) is None
    assert staff_sessions.find_session(unverified, clock, verified_only=False) is not None

    ended = staff_sessions.open_session(invited.user_id, True, clock, actor)
    staff_sessions.end_session(ended, clock, actor)
    assert staff_sessions.find_session(ended, clock) is None


def test_each_sign_in_is_a_new_session(invited: accounts.Invitation, clock: FixedClock) -> None:
    actor = Actor(user_id=invited.user_id)
    first = staff_sessions.open_session(invited.user_id, True, clock, actor)
    second = staff_sessions.open_session(invited.user_id, True, clock, actor)
    assert first != second
    assert (
        staff_sessions.find_session(first, clock).id
        != staff_sessions.find_session(second, clock).id
    )


def test_granting_again_replaces_the_clinics_and_revoking_is_audited(
    invited: accounts.Invitation, clock: FixedClock, world: World
) -> None:
    grant = db.session.scalar(select(StaffGrant))
    assert grant is not None
    accounts.grant(invited.user_id, grant.organisation_id, Role.RECEPTIONIST, None, clock, SYSTEM)
    assert db.session.scalar(select(StaffGrant)).clinic_ids is None
    accounts.revoke_grant(grant.id, clock, SYSTEM)
    assert db.session.scalar(select(StaffGrant)) is None
    assert _actions().count(AuditAction.GRANT_ROLE) == 2
    assert AuditAction.REVOKE_ROLE in _actions()


def test_production_hashes_are_argon2id_at_its_defaults() -> None:
    # What the module hashes with unless told otherwise (the tests use cheap parameters).
    hashed = passwords.PasswordHasher().hash(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_hash_made_with_other_parameters_is_renewed_at_sign_in(
    invited: accounts.Invitation, clock: FixedClock
) -> None:
    accounts.set_password(invited.secret, PASSWORD, clock, SYSTEM)
    user = db.session.get(StaffUser, invited.user_id)
    user.password_hash = passwords.PasswordHasher(time_cost=2, memory_cost=32).hash(PASSWORD)
    db.session.commit()
    signing_in.sign_in(user.email, PASSWORD, clock, None)
    assert "m=32," not in db.session.get(StaffUser, invited.user_id).password_hash
