"""Staff accounts: invitations, the roles granted, and setting a password.

- No mail server is assumed: an invitation is a one-time link (shown once, stored hashed,
  valid for 7 days) that sets the password (`passwords` says how strong it must be and
  hashes it).
- Signing in is `signing_in`; the second factor admins and clinic managers give before a
  session is verified, `second_factor`; sessions, `staff_sessions`.
- What admins change on an account (disable, enable, reset a lost second factor, a new
  password link) is `staff_admin`; no change may leave an organisation without an
  enabled admin (`LastAdmin`), and no one can disable their own account (`OwnAccount`).

Every invitation, grant, revocation and password set is written to the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.digests import token_digest
from app.clinics.models import (
    Clinic,
    Organisation,
    StaffGrant,
    StaffLink,
    StaffUser,
)
from app.clinics.passwords import check_password, hash_password
from app.clinics.queries import find_organisation
from app.clinics.roles import Role
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db

INVITATION_LIFETIME = timedelta(days=7)
#: The languages the staff pages are written in.
STAFF_LOCALES = ("en", "cy")


def normalise_email(email: str) -> str:
    """An email as stored: trimmed and lower-cased. Refuses (Invalid) one that is not
    an address."""
    cleaned = email.strip().lower()
    name, _, domain = cleaned.partition("@")
    if not name or "." not in domain or len(cleaned) > 254 or not cleaned.isprintable():
        raise Invalid("expected an email address")
    return cleaned


class LastAdmin(Invalid):
    """The change would leave an organisation with no enabled administrator."""


class OwnAccount(Invalid):
    """Staff members cannot disable their own account."""


# -- invitations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    user_id: int
    #: The one-time secret of the link (`/staff/welcome/<secret>`); shown once.
    secret: str
    expires_at: datetime


def invite(
    email: str,
    organisation_slug: str,
    role: Role,
    clinic_slugs: Sequence[str],
    clock: Clock,
    actor: Actor,
    name: str = "",
) -> Invitation:
    """Give `role` in the organisation (limited to `clinic_slugs` if any) to the staff
    member with `email`, creating them if new, and make a one-time link that sets their
    password. Commits. Raises NotFound for an unknown organisation or clinic, Invalid
    for a bad email or a clinic of another organisation."""
    organisation = find_organisation(organisation_slug)
    if organisation is None:
        raise NotFound(f"no organisation {organisation_slug!r}")
    clinic_ids = _clinic_ids(organisation, clinic_slugs)
    now = clock.now()
    user = _member(email, name, now)
    grant(user.id, organisation.id, role, clinic_ids, clock, actor, commit=False)
    invitation = new_link(user.id, now)
    record(
        AuditAction.INVITE_USER,
        actor,
        now,
        record_type="staff_user",
        record_ids=[user.id],
        organisation_id=organisation.id,
    )
    db.session.commit()
    return invitation


@dataclass(frozen=True)
class Invited:
    user_id: int
    #: The one-time link; None for someone who has set a password already.
    invitation: Invitation | None


def invite_member(
    email: str,
    organisation_id: int,
    role: Role,
    clinic_ids: Sequence[int],
    clock: Clock,
    actor: Actor,
    name: str = "",
) -> Invited:
    """`invite` from the workspace, by ids: give `role` in the organisation (limited to
    `clinic_ids` if any) to the staff member with `email`, creating them if new. Someone
    who has set a password already gets the role and no link (they sign in as before).
    Commits. Raises NotFound for an unknown organisation, Invalid for a bad email or name
    or a clinic of another organisation."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"no organisation {organisation_id}")
    ids = sorted(set(clinic_ids))
    found = db.session.scalars(
        select(Clinic.id).where(Clinic.id.in_(ids), Clinic.organisation_id == organisation_id)
    )
    if set(found) != set(ids):
        raise Invalid("a clinic is not one of this organisation's")
    now = clock.now()
    user = _member(email, name, now)
    grant(user.id, organisation.id, role, ids or None, clock, actor, commit=False)
    invitation = None if user.password_hash is not None else new_link(user.id, now)
    record(
        AuditAction.INVITE_USER,
        actor,
        now,
        record_type="staff_user",
        record_ids=[user.id],
        organisation_id=organisation.id,
        detail={"link": invitation is not None},
    )
    db.session.commit()
    return Invited(user.id, invitation)


def _member(email: str, name: str, now: datetime) -> StaffUser:
    """The staff member with `email`, made if new, named `name` if they have no name."""
    user = _user(normalise_email(email), now)
    if name.strip() and not user.name:
        user.name = _clean_name(name)
    return user


def new_link(user_id: int, now: datetime) -> Invitation:
    """A one-time link that sets the user's password; their older links stop working."""
    db.session.execute(
        update(StaffLink)
        .where(
            StaffLink.user_id == user_id,
            StaffLink.purpose == "invite",
            StaffLink.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    expires_at = now + INVITATION_LIFETIME
    db.session.add(
        StaffLink(
            token_hash=token_digest(secret),
            user_id=user_id,
            purpose="invite",
            expires_at=expires_at,
            created_at=now,
        )
    )
    return Invitation(user_id, secret, expires_at)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if len(cleaned) > 120 or not cleaned.isprintable():
        raise Invalid("a name is up to 120 printable characters")
    return cleaned


def _clinic_ids(organisation: Organisation, slugs: Sequence[str]) -> list[int] | None:
    if not slugs:
        return None
    ids = []
    for slug in slugs:
        clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug))
        if clinic is None:
            raise NotFound(f"no clinic {slug!r}")
        if clinic.organisation_id != organisation.id:
            raise Invalid(f"clinic {slug!r} is not a clinic of {organisation.slug!r}")
        ids.append(clinic.id)
    return sorted(set(ids))


def _user(email: str, now: datetime) -> StaffUser:
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    if user is None:
        user = StaffUser(email=email, name="", created_at=now, failed_logins=0, locale="en")
        db.session.add(user)
        db.session.flush()
    return user


def grant(
    user_id: int,
    organisation_id: int,
    role: Role,
    clinic_ids: Sequence[int] | None,
    clock: Clock,
    actor: Actor,
    *,
    commit: bool = True,
) -> StaffGrant:
    """Give a role (again: its clinics are replaced). Audited; commits unless told not."""
    found = db.session.scalar(
        select(StaffGrant).where(
            StaffGrant.user_id == user_id,
            StaffGrant.organisation_id == organisation_id,
            StaffGrant.role == role.value,
        )
    )
    now = clock.now()
    if found is None:
        found = StaffGrant(
            user_id=user_id,
            organisation_id=organisation_id,
            role=role.value,
            clinic_ids=list(clinic_ids) if clinic_ids else None,
            created_at=now,
        )
        db.session.add(found)
    else:
        found.clinic_ids = list(clinic_ids) if clinic_ids else None
    db.session.flush()
    record(
        AuditAction.GRANT_ROLE,
        actor,
        now,
        record_type="staff_user",
        record_ids=[user_id],
        organisation_id=organisation_id,
        detail={"role": role.value, "clinics": len(clinic_ids or [])},
    )
    if commit:
        db.session.commit()
    return found


def revoke_grant(grant_id: int, clock: Clock, actor: Actor) -> None:
    """Take a role away. Audited; commits. NotFound if there is no such grant; LastAdmin
    for the admin role of the organisation's last enabled admin."""
    found = db.session.get(StaffGrant, grant_id)
    if found is None:
        raise NotFound(f"no grant {grant_id}")
    if found.role == Role.ADMIN.value and not other_admins(found.organisation_id, found.user_id):
        raise LastAdmin("the organisation would have no administrator left")
    record(
        AuditAction.REVOKE_ROLE,
        actor,
        clock.now(),
        record_type="staff_user",
        record_ids=[found.user_id],
        organisation_id=found.organisation_id,
        detail={"role": found.role},
    )
    db.session.delete(found)
    db.session.commit()


def find_link(secret: str, clock: Clock, purpose: str = "invite") -> StaffLink | None:
    """The unused, unexpired link with this secret; None otherwise."""
    link = db.session.scalar(
        select(StaffLink).where(
            StaffLink.token_hash == token_digest(secret), StaffLink.purpose == purpose
        )
    )
    if link is None or link.used_at is not None or link.expires_at <= clock.now():
        return None
    return link


def set_password(secret: str, password: str, clock: Clock, actor: Actor) -> StaffUser:
    """Use an invitation link to set a password. Commits.

    Raises NotFound for a link that is unknown, used or expired, and Invalid for a weak
    password (the link stays usable).
    """
    link = find_link(secret, clock)
    if link is None:
        raise NotFound("this link has been used or has expired")
    check_password(password)
    user = db.session.get(StaffUser, link.user_id)
    assert user is not None
    now = clock.now()
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    link.used_at = now
    record(
        AuditAction.PASSWORD_SET,
        Actor(user.id, address=actor.address),
        now,
        record_type="staff_user",
        record_ids=[user.id],
    )
    db.session.commit()
    return user


# -- the last admin ------------------------------------------------------------------------


def other_admins(organisation_id: int, user_id: int) -> int:
    """How many enabled staff other than `user_id` are admins of the organisation."""
    return int(
        db.session.scalar(
            select(func.count(func.distinct(StaffGrant.user_id)))
            .join(StaffUser, StaffUser.id == StaffGrant.user_id)
            .where(
                StaffGrant.organisation_id == organisation_id,
                StaffGrant.role == Role.ADMIN.value,
                StaffGrant.user_id != user_id,
                StaffUser.disabled_at.is_(None),
            )
        )
        or 0
    )


def staff_user(user_id: int) -> StaffUser:
    """The staff user with this id; NotFound if there is none."""
    user = db.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"no staff user {user_id}")
    return user


# -- preferences ---------------------------------------------------------------------------


def set_locale(user_id: int, locale: str) -> None:
    """Save `locale` ("en" or "cy") as the language the user's staff pages are shown in
    wherever they sign in. Commits. Not audited: it is their own display preference and
    reveals nothing. Raises NotFound for an unknown user and Invalid for a language the
    staff pages are not written in."""
    if locale not in STAFF_LOCALES:
        raise Invalid(f"the staff pages are not written in {locale!r}")
    user = staff_user(user_id)
    if user.locale != locale:
        user.locale = locale
        db.session.commit()
