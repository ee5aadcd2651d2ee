"""Commands on organisations and clinics."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic, Organisation
from app.clinics.queries import find_clinic_by_slug, find_organisation, get_clinic
from app.clinics.settings import (
    ClinicSettings,
    Problem,
    SettingsInput,
    SettingsRefused,
    normalise_sender,
    read_settings,
)
from app.core import locales, phone
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.errors import Invalid
from app.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
#: Names under /p/<organisation>/ that are the public page's own files, never a clinic.
RESERVED_CLINIC_SLUGS = frozenset(
    {"open-data", "open-data.json", "open-data.csv", "poster", "poster.pdf"}
)
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
    if slug in RESERVED_CLINIC_SLUGS:
        raise Invalid(f"clinic slug {slug!r}: reserved for the public page, choose another")
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


def current_settings(clinic: Clinic) -> ClinicSettings:
    """The clinic's settings as they are stored."""
    return ClinicSettings(
        sender=clinic.sender,
        quiet_start=clinic.quiet_start,
        quiet_end=clinic.quiet_end,
        reminder_rules=[dict(rule) for rule in clinic.reminder_rules],
        survey_slug=clinic.survey_slug,
        survey_delay_minutes=clinic.survey_delay_minutes,
        survey_window_minutes=clinic.survey_window_minutes,
        survey_interval_days=clinic.survey_interval_days,
        survey_suppressed_pathways=list(clinic.survey_suppressed_pathways or []),
        default_locale=clinic.default_locale,
    )


def update_settings(
    clinic_id: int,
    raw: SettingsInput,
    *,
    surveys: Collection[str],
    clock: Clock,
    actor: Actor,
) -> list[str]:
    """Check every field of `raw` and store the clinic's settings; returns the names of
    the fields that changed. Commits, and records the change (field names only, never a
    value) in the audit log.

    `surveys` are the survey slugs the clinic can send. Raises SettingsRefused naming
    every field that is wrong (a sender another clinic uses among them), and then saves
    nothing; NotFound for an unknown clinic. Pending reminders keep the rules they were
    planned with: new rules apply to appointments planned or moved from now on.
    """
    clinic = get_clinic(clinic_id)
    taken: dict[str, Problem] = {}
    sender = normalise_sender(raw.sender)
    if sender is not None and _sender_taken(sender, clinic.id):
        taken["sender"] = Problem.SENDER_TAKEN
    try:
        wanted = read_settings(
            raw, surveys=surveys, expiry_margin_minutes=clinic.expiry_margin_minutes
        )
    except SettingsRefused as refused:
        raise SettingsRefused({**refused.problems, **taken}) from None
    if taken:
        raise SettingsRefused(taken)
    changed = current_settings(clinic).changed(wanted)
    if not changed:
        return []
    for name in changed:
        setattr(clinic, name, getattr(wanted, name))
    record(
        AuditAction.EDIT_SETTINGS,
        actor,
        clock.now(),
        record_type="clinic",
        record_ids=[clinic.id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"fields": ",".join(changed)},
    )
    db.session.commit()
    return changed


def _sender_taken(sender: str, clinic_id: int) -> bool:
    other = db.session.scalar(
        select(Clinic.id).where(Clinic.sender == sender, Clinic.id != clinic_id).limit(1)
    )
    return other is not None
