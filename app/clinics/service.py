"""Commands on organisations and clinics."""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.clinics.models import Clinic, Organisation
from app.clinics.queries import find_clinic_by_slug, find_organisation
from app.core import locales, phone
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.errors import Invalid
from app.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEFAULT_REMINDER_RULES: list[dict[str, Any]] = [
    {"name": "7d", "offset_minutes": 7 * 24 * 60, "delivery": "10:00"},
    {"name": "1d", "offset_minutes": 24 * 60, "delivery": "10:00"},
]


def _check_slug(slug: str, what: str) -> None:
    if not SLUG_RE.match(slug):
        raise Invalid(f"{what} slug {slug!r}: use lower-case letters, digits and dashes")


def _check_sender(sender: str) -> str:
    if re.fullmatch(r"MG[0-9a-f]{32}", sender):
        return sender
    try:
        return phone.normalise(sender, Channel.VOICE)
    except phone.PhoneRejected as exc:
        raise Invalid(f"sender: {exc}; give a UK number or a Messaging Service sid") from exc


def ensure_organisation(slug: str, name: str | None, clock: Clock) -> Organisation:
    """The organisation `slug`, created if it does not exist yet."""
    _check_slug(slug, "organisation")
    org = find_organisation(slug)
    if org is None:
        org = Organisation(slug=slug, name=name or slug, created_at=clock.now())
        db.session.add(org)
        db.session.flush()
    return org


def create_clinic(
    slug: str,
    *,
    name: str,
    timezone: str,
    sender: str,
    clock: Clock,
    org_slug: str = "default",
    default_locale: str = "en",
    quiet_start: time = time(21, 0),
    quiet_end: time = time(8, 0),
    reminder_rules: list[dict[str, Any]] | None = None,
) -> Clinic:
    """Create a clinic (and its organisation if new). Refuses a taken slug or sender,
    an unknown time zone or locale, and a sender that is neither a UK number nor MG…."""
    _check_slug(slug, "clinic")
    if find_clinic_by_slug(slug) is not None:
        raise Invalid(f"clinic {slug!r} already exists")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"timezone: {timezone!r} is not an IANA time zone") from exc
    locale = locales.canonical(default_locale)
    if locale is None:
        raise Invalid(f"default locale: {default_locale!r} is not supported")
    clean_sender = _check_sender(sender)
    if db.session.query(Clinic.id).filter_by(sender=clean_sender).first():
        raise Invalid("sender: already used by another clinic")
    org = ensure_organisation(org_slug, None, clock)
    clinic = Clinic(
        organisation_id=org.id,
        slug=slug,
        name=name,
        timezone=timezone,
        sender=clean_sender,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        default_locale=locale,
        reminder_rules=reminder_rules or DEFAULT_REMINDER_RULES,
        expiry_margin_minutes=120,
        allowed_regions=[],
        created_at=clock.now(),
    )
    db.session.add(clinic)
    db.session.commit()
    return clinic
