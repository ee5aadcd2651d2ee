"""Reads about organisations and clinics."""

from __future__ import annotations

import hashlib

from sqlalchemy import or_, select

from app.clinics.models import Clinic, Organisation
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


def find_clinic_by_sender(
    to_number: str, messaging_service_sid: str | None = None
) -> Clinic | None:
    """The clinic that owns the number (or Messaging Service) a message was sent to."""
    candidates = [to_number] + ([messaging_service_sid] if messaging_service_sid else [])
    return db.session.scalar(
        select(Clinic).where(or_(*(Clinic.sender == c for c in candidates))).limit(1)
    )


def find_organisation(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
