"""Reads about organisations, clinics, their staff and their API tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select

from app.clinics.models import (
    ApiToken,
    Clinic,
    Organisation,
    StaffGrant,
    StaffSession,
    StaffUser,
)
from app.core.errors import NotFound
from app.extensions import db


def find_clinic_by_slug(slug: str) -> Clinic | None:
    return db.session.scalar(select(Clinic).where(Clinic.slug == slug))


def get_clinic_by_slug(slug: str) -> Clinic:
    clinic = find_clinic_by_slug(slug)
    if clinic is None:
        raise NotFound(f"no clinic with slug {slug!r}")
    return clinic


def get_clinic(clinic_id: int) -> Clinic:
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic with id {clinic_id}")
    return clinic


def clinic_id_by_sender(to_number: str, messaging_service_sid: str | None = None) -> int | None:
    """The id of the clinic that owns the number (or Messaging Service) a message was
    sent to (only the id: a webhook needs no more, and a whole clinic costs more to load
    than to find)."""
    return db.session.scalar(sender_clinic(to_number, messaging_service_sid))


def sender_clinic(to_number: str, messaging_service_sid: str | None = None) -> Select[int]:
    """The query for `clinic_id_by_sender`, to use inside another statement."""
    candidates = [to_number] + ([messaging_service_sid] if messaging_service_sid else [])
    return select(Clinic.id).where(or_(*(Clinic.sender == c for c in candidates))).limit(1)


def get_organisation(organisation_id: int) -> Organisation:
    found = db.session.get(Organisation, organisation_id)
    if found is None:
        raise NotFound(f"no organisation {organisation_id}")
    return found


def find_organisation(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def covered_organisations(
    organisation_ids: Collection[int], clinic_ids: Collection[int]
) -> list[Organisation]:
    """Those of `organisation_ids` every clinic of which is among `clinic_ids` (whose
    whole organisation a staff member's role reaches), by name."""
    if not organisation_ids:
        return []
    outside = select(Clinic.organisation_id).where(Clinic.id.not_in(sorted(clinic_ids)))
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(sorted(organisation_ids)), Organisation.id.not_in(outside))
            .order_by(Organisation.name, Organisation.id)
        )
    )


def clinics_of(organisation_ids: Collection[int]) -> list[Clinic]:
    """The clinics of these organisations, by name."""
    return list(
        db.session.scalars(
            select(Clinic)
            .where(Clinic.organisation_id.in_(sorted(organisation_ids)))
            .order_by(Clinic.name, Clinic.id)
        )
    )


def staff_of(organisation_ids: Collection[int]) -> list[StaffUser]:
    """Staff members holding a role in any of these organisations, by name and email."""
    holding = select(StaffGrant.user_id).where(
        StaffGrant.organisation_id.in_(sorted(organisation_ids))
    )
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.id.in_(holding))
            .order_by(func.lower(StaffUser.name), StaffUser.email)
        )
    )


def find_staff_member(user_id: int, organisation_ids: Collection[int]) -> StaffUser | None:
    """The staff member `user_id` if they hold a role in one of these organisations."""
    holding = select(StaffGrant.id).where(
        StaffGrant.user_id == user_id, StaffGrant.organisation_id.in_(sorted(organisation_ids))
    )
    if db.session.scalar(holding.limit(1)) is None:
        return None
    return db.session.get(StaffUser, user_id)


def last_sign_ins(user_ids: Collection[int]) -> dict[int, datetime]:
    """When each of these staff members last signed in (a verified session began)."""
    rows = db.session.execute(
        select(StaffSession.user_id, func.max(StaffSession.created_at))
        .where(StaffSession.user_id.in_(sorted(user_ids)), StaffSession.verified.is_(True))
        .group_by(StaffSession.user_id)
    )
    return {row[0]: row[1] for row in rows}


def tokens_within(clinic_ids: Collection[int], organisation_ids: Collection[int]) -> list[ApiToken]:
    """API tokens of these clinics, and of these whole organisations, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(
                or_(
                    ApiToken.clinic_id.in_(sorted(clinic_ids)),
                    and_(
                        ApiToken.clinic_id.is_(None),
                        ApiToken.organisation_id.in_(sorted(organisation_ids)),
                    ),
                )
            )
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def find_grant(grant_id: int, user_id: int, organisation_ids: Collection[int]) -> StaffGrant | None:
    """The grant `grant_id` of the staff member `user_id`, if it is in one of these
    organisations."""
    return db.session.scalar(
        select(StaffGrant).where(
            StaffGrant.id == grant_id,
            StaffGrant.user_id == user_id,
            StaffGrant.organisation_id.in_(sorted(organisation_ids)),
        )
    )


def find_token(
    token_id: int, clinic_ids: Collection[int], organisation_ids: Collection[int]
) -> ApiToken | None:
    """The API token `token_id` if it is one of `tokens_within` these clinics and
    organisations."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.clinic_id is not None:
        return token if token.clinic_id in clinic_ids else None
    return token if token.organisation_id in organisation_ids else None
