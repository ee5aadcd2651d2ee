"""Who is signed in to the workspace, and what they may see.

The session cookie holds only a random session secret (Flask-Login stores it as the
user's "id"), so a new id is made at every sign-in. Loading the user checks the session
is live (30 idle minutes, 12 hours in all) and builds the query scope from the user's
grants as they are now: a role taken away takes effect at the next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_login import UserMixin, current_user

from app.audit.service import Actor
from app.clinics.models import StaffUser
from app.clinics.roles import Permission
from app.clinics.scope import NOBODY, StaffScope, scope_for
from app.clinics.staff_sessions import find_session
from app.extensions import db
from app.runtime import get_runtime


@dataclass
class StaffPrincipal(UserMixin):  # type: ignore[misc]  # flask-login ships no types
    """A signed-in staff member: their session, account and scope."""

    session_secret: str
    user: StaffUser
    scope: StaffScope

    def get_id(self) -> str:
        return self.session_secret

    def may(self, permission: Permission) -> bool:
        return self.scope.may(permission)


def load_principal(session_secret: str) -> StaffPrincipal | None:
    """Flask-Login's user loader: the principal of a live, verified session."""
    session = find_session(session_secret, get_runtime().clock)
    if session is None:
        return None
    user = db.session.get(StaffUser, session.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return StaffPrincipal(session_secret, user, scope_for(user.id))


def client_address() -> str | None:
    """The client's address, as the trusted proxies (if any) reported it."""
    return request.remote_addr


def actor() -> Actor:
    """The signed-in staff member (or nobody) as the audit log names them."""
    user_id = current_user.user.id if current_user.is_authenticated else None
    return Actor(user_id=user_id, address=client_address())


def staff_scope() -> StaffScope:
    """The signed-in staff member's scope; nobody's when no one is signed in."""
    if current_user.is_authenticated:
        scope: StaffScope = current_user.scope
        return scope
    return NOBODY


def second_factor_required() -> bool:
    """Whether roles that need TOTP must give it (off only for the demo)."""
    return bool(current_app.config.get("STAFF_SECOND_FACTOR", True))
