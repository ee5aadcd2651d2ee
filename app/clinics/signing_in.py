"""Signing in with an email and a password. Ten failed sign-ins in a row lock the account
for 15 minutes; an unknown email costs the same time as a known one and gets the same
refusal. Every sign-in failure and lock is written to the audit log. Admins and clinic
managers then give their second factor (`second_factor`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.accounts import normalise_email
from app.clinics.models import StaffGrant, StaffUser
from app.clinics.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from app.clinics.roles import SECOND_FACTOR_REQUIRED, Role
from app.core.clock import Clock
from app.core.errors import Invalid
from app.extensions import db

MAX_FAILED_SIGN_INS = 10
LOCK_TIME = timedelta(minutes=15)


class SignInRefused(Exception):
    """Wrong email or password, or the account is locked or disabled: the message is the
    same for every reason that could tell an attacker which emails exist."""


def sign_in(email: str, password: str, clock: Clock, address: str | None) -> StaffUser:
    """The staff member with this email and password. Commits what it records.

    Raises SignInRefused after recording the failure; locks the account at the
    MAX_FAILED_SIGN_INS-th failure in a row.
    """
    now = clock.now()
    try:
        cleaned = normalise_email(email)
    except Invalid:
        cleaned = ""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == cleaned))
    if user is None or user.password_hash is None:
        verify_dummy(password)
        record(AuditAction.SIGN_IN_FAILED, Actor(address=address), now, record_type="staff_user")
        db.session.commit()
        raise SignInRefused
    if user.disabled_at is not None or (user.locked_until and user.locked_until > now):
        verify_dummy(password)
        record_failed_sign_in(user, now, address, locked=True)
        raise SignInRefused
    if not verify_password(user.password_hash, password):
        record_failed_sign_in(user, now, address)
        raise SignInRefused
    user.failed_logins, user.locked_until = 0, None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.commit()
    return user


def record_failed_sign_in(
    user: StaffUser, now: datetime, address: str | None, locked: bool = False
) -> None:
    actor = Actor(address=address)
    record(
        AuditAction.SIGN_IN_FAILED,
        actor,
        now,
        record_type="staff_user",
        record_ids=[user.id],
        detail={"locked": locked},
    )
    if not locked:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCK_TIME
            user.failed_logins = 0
            record(
                AuditAction.ACCOUNT_LOCKED,
                actor,
                now,
                record_type="staff_user",
                record_ids=[user.id],
            )
    db.session.commit()


def roles_of(user_id: int) -> frozenset[Role]:
    """Every role the user holds, in any organisation."""
    rows = db.session.scalars(select(StaffGrant.role).where(StaffGrant.user_id == user_id))
    return frozenset(Role(value) for value in rows)


def needs_second_factor(user_id: int) -> bool:
    """Whether the user's roles require TOTP (admins and clinic managers)."""
    return bool(roles_of(user_id) & SECOND_FACTOR_REQUIRED)
