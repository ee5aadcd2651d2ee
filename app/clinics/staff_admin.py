"""What admins change on a staff account: disable and enable it, reset a lost second
factor, make a new password link. No change may leave an organisation without an
enabled admin, and no one can disable their own account (`accounts.LastAdmin`,
`accounts.OwnAccount`). Every change is written to the audit log, under the organisation
it was made from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.accounts import (
    Invitation,
    LastAdmin,
    OwnAccount,
    new_link,
    other_admins,
    staff_user,
)
from app.clinics.models import RecoveryCode
from app.clinics.roles import Role
from app.clinics.staff_sessions import end_sessions_of
from app.core.clock import Clock
from app.extensions import db


def _audit(
    action: AuditAction, user_id: int, now: datetime, actor: Actor, organisation_id: int | None
) -> None:
    record(
        action,
        actor,
        now,
        record_type="staff_user",
        record_ids=[user_id],
        organisation_id=organisation_id,
    )


def disable_user(
    user_id: int, clock: Clock, actor: Actor, organisation_id: int | None = None
) -> None:
    """Disable an account: it can no longer sign in, and its sessions end now. Audited
    (under `organisation_id`, the organisation the change was made from); commits.
    Disabling a disabled account changes nothing.

    Raises NotFound for an unknown user, OwnAccount when `actor` is the user, and
    LastAdmin when the user is the last enabled admin of an organisation.
    """
    user = staff_user(user_id)
    if actor.user_id == user_id:
        raise OwnAccount("you cannot disable your own account")
    if user.disabled_at is not None:
        return
    for grant_row in user.grants:
        if grant_row.role == Role.ADMIN.value and not other_admins(
            grant_row.organisation_id, user_id
        ):
            raise LastAdmin("the organisation would have no administrator left")
    now = clock.now()
    user.disabled_at = now
    end_sessions_of(user_id, now)
    _audit(AuditAction.DISABLE_USER, user_id, now, actor, organisation_id)
    db.session.commit()


def enable_user(
    user_id: int, clock: Clock, actor: Actor, organisation_id: int | None = None
) -> None:
    """Let a disabled account sign in again. Audited; commits. NotFound if unknown;
    enabling an enabled account changes nothing."""
    user = staff_user(user_id)
    if user.disabled_at is None:
        return
    now = clock.now()
    user.disabled_at = None
    user.failed_logins, user.locked_until = 0, None
    _audit(AuditAction.ENABLE_USER, user_id, now, actor, organisation_id)
    db.session.commit()


def reset_second_factor(
    user_id: int, clock: Clock, actor: Actor, organisation_id: int | None = None
) -> None:
    """Forget the user's TOTP secret and recovery codes (a lost phone): their sessions
    end, and they set up a new authenticator app at their next sign-in. Audited;
    commits. NotFound if unknown."""
    user = staff_user(user_id)
    now = clock.now()
    user.totp_secret = None
    user.totp_last_step = None
    for code in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
        db.session.delete(code)
    end_sessions_of(user_id, now)
    _audit(AuditAction.RESET_SECOND_FACTOR, user_id, now, actor, organisation_id)
    db.session.commit()


def password_link(
    user_id: int, clock: Clock, actor: Actor, organisation_id: int | None = None
) -> Invitation:
    """A new one-time link that sets the user's password (a forgotten password, or an
    invitation that expired), shown once; their older links stop working, and their
    password works until the link is used. Audited; commits. NotFound if unknown."""
    staff_user(user_id)
    now = clock.now()
    invitation = new_link(user_id, now)
    _audit(AuditAction.PASSWORD_LINK, user_id, now, actor, organisation_id)
    db.session.commit()
    return invitation
