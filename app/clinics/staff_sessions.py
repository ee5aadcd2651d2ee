"""Staff sessions: a random token in the cookie, stored hashed (`digests`), a new one at
every sign-in, ended after 30 idle minutes, 12 hours in all, at sign-out, or when an
admin disables the account. Signing in and out is written to the audit log.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.digests import token_digest
from app.clinics.models import StaffSession
from app.core.clock import Clock
from app.core.errors import NotFound
from app.extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
#: The session's last-seen time is written at most this often.
TOUCH_EVERY = timedelta(minutes=1)


def open_session(user_id: int, verified: bool, clock: Clock, actor: Actor) -> str:
    """A new session for the user (a new id at every sign-in); returns its secret.
    Commits. A verified session records the sign-in."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        StaffSession(
            token_hash=token_digest(secret),
            user_id=user_id,
            verified=verified,
            created_at=now,
            last_seen_at=now,
        )
    )
    if verified:
        record(AuditAction.SIGN_IN, actor, now, record_type="staff_user", record_ids=[user_id])
    db.session.commit()
    return secret


def verify_session(secret: str, clock: Clock, actor: Actor) -> None:
    """Mark a session verified once its second factor was given. Commits."""
    session = find_session(secret, clock, verified_only=False)
    if session is None:
        raise NotFound("the session has ended")
    session.verified = True
    record(
        AuditAction.SIGN_IN,
        actor,
        clock.now(),
        record_type="staff_user",
        record_ids=[session.user_id],
    )
    db.session.commit()


def find_session(secret: str, clock: Clock, *, verified_only: bool = True) -> StaffSession | None:
    """The live session with this secret, its last-seen time brought up to date; None if
    it has ended, been idle 30 minutes or lasted 12 hours. Commits a touch."""
    session = db.session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_digest(secret))
    )
    now = clock.now()
    if session is None or session.ended_at is not None:
        return None
    if now - session.last_seen_at >= IDLE_TIMEOUT or now - session.created_at >= ABSOLUTE_TIMEOUT:
        session.ended_at = now
        db.session.commit()
        return None
    if verified_only and not session.verified:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        db.session.commit()
    return session


def end_session(secret: str, clock: Clock, actor: Actor) -> None:
    """Sign out: the session ends now. Commits."""
    session = db.session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_digest(secret))
    )
    if session is None or session.ended_at is not None:
        return
    now = clock.now()
    session.ended_at = now
    record(AuditAction.SIGN_OUT, actor, now, record_type="staff_user", record_ids=[session.user_id])
    db.session.commit()


def end_sessions_of(user_id: int, now: datetime) -> None:
    """End every live session of the user (an account disabled or its second factor
    reset). Does not commit."""
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
