"""The staff's second factor: TOTP, enrolled with a QR code and ten one-time recovery
codes (stored hashed, `digests`). Admins and clinic managers must give a code before a
session is verified (`signing_in.needs_second_factor`). A code is accepted once; a wrong
one counts as a failed sign-in (`signing_in.record_failed_sign_in`). Enrolment and every
recovery code used are written to the audit log.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.digests import token_digest
from app.clinics.models import RecoveryCode, StaffUser
from app.clinics.signing_in import record_failed_sign_in
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db

RECOVERY_CODES = 10
TOTP_ISSUER = "WeSaid"


def new_totp_secret() -> str:
    """A fresh base32 secret for enrolment; stored only once a code from it is given."""
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def enrol_second_factor(
    user_id: int, secret: str, code: str, clock: Clock, actor: Actor
) -> list[str]:
    """Store the TOTP secret once `code` shows the app has it; returns the recovery codes
    (shown once). Commits. Raises Invalid for a wrong code."""
    step = _totp_step(secret, code, clock.now(), after=None)
    if step is None:
        raise Invalid("that code does not match: try the newest one your app shows")
    user = db.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound("no such user")
    user.totp_secret = secret
    user.totp_last_step = step
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
        db.session.delete(old)
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=token_digest(c)) for c in codes)
    record(
        AuditAction.SECOND_FACTOR_ENROLLED,
        actor,
        clock.now(),
        record_type="staff_user",
        record_ids=[user_id],
    )
    db.session.commit()
    return codes


def _totp_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step (this one or either neighbour, for clocks a little apart) whose
    code is `code`, if later than `after`: a code seen once is not accepted again."""
    totp = pyotp.TOTP(secret)
    cleaned = code.strip().replace(" ", "")
    if not cleaned.isdigit() or len(cleaned) != totp.digits:
        return None
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and secrets.compare_digest(
            totp.generate_otp(step), cleaned
        ):
            return step
    return None


def check_second_factor(user_id: int, code: str, clock: Clock, actor: Actor) -> bool:
    """Whether `code` is the user's current TOTP code or an unused recovery code (which
    it then uses up). Commits what it records."""
    user = db.session.get(StaffUser, user_id)
    if user is None or user.totp_secret is None:
        return False
    now = clock.now()
    cleaned = code.strip().replace(" ", "")
    step = _totp_step(user.totp_secret, cleaned, now, after=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        db.session.commit()
        return True
    recovery = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == token_digest(cleaned.lower()),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        record_failed_sign_in(user, now, actor.address)
        return False
    recovery.used_at = now
    record(
        AuditAction.RECOVERY_CODE_USED,
        actor,
        now,
        record_type="staff_user",
        record_ids=[user_id],
    )
    db.session.commit()
    return True
