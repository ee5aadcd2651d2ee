"""Commands on the inbox and on provider status updates."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clinics.queries import find_clinic_by_sender
from app.core.clock import Clock
from app.core.errors import Invalid
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.channels.base import StatusUpdate
from app.messaging.fallback import fall_back
from app.messaging.models import InboundMessage, OutboundMessage, TemplateOverride
from app.messaging.states import (
    InboundState,
    MessageState,
    advanceable_from,
    state_for_provider_status,
)
from app.patients.models import Patient

if TYPE_CHECKING:
    from app.messaging.templates import Problem

log = logging.getLogger(__name__)
_UNREACHED = frozenset({MessageState.FAILED, MessageState.UNDELIVERED})


def status_callback_url(public_base_url: str, message_id: int) -> str:
    """Where the provider reports status; it carries our id, so a late callback finds
    the message even if the provider's sid was never saved."""
    return f"{public_base_url.rstrip('/')}/webhooks/twilio/status?m={message_id}"


def _bare_number(address: str) -> str:
    return address.split(":", 1)[1] if address.startswith(("whatsapp:", "sms:")) else address


def store_inbound(
    *,
    provider_sid: str,
    from_number: str,
    to_number: str,
    body: str,
    messaging_service_sid: str | None,
    channel: str,
    now: datetime,
) -> tuple[int, bool]:
    """Make an inbound message durable. Returns (id, created); a known sid is a no-op.

    The clinic is found from the number the message was sent to, never from its text.
    """
    existing = db.session.scalar(
        select(InboundMessage.id).where(InboundMessage.provider_sid == provider_sid)
    )
    if existing is not None:
        return existing, False
    sender = _bare_number(from_number)
    clinic = find_clinic_by_sender(_bare_number(to_number), messaging_service_sid)
    patient_id = None
    if clinic is not None:
        patient_id = db.session.scalar(
            select(Patient.id)
            .where(Patient.clinic_id == clinic.id, Patient.phone == sender)
            .order_by(Patient.id)
            .limit(1)
        )
    row = InboundMessage(
        provider_sid=provider_sid,
        clinic_id=clinic.id if clinic else None,
        patient_id=patient_id,
        channel=channel,
        from_number=sender,
        to_number=_bare_number(to_number),
        body=body,
        state=InboundState.RECEIVED,
        received_at=now,
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the same sid arrived twice at once: the other one won
        db.session.rollback()
        winner = db.session.scalar(
            select(InboundMessage.id).where(InboundMessage.provider_sid == provider_sid)
        )
        if winner is None:
            raise
        return winner, False
    return row.id, True


def record_status(message_id: int | None, update: StatusUpdate, now: datetime) -> bool:
    """Apply a provider status. Moves only forward; keeps the first error code.

    Returns True if the state moved. One conditional UPDATE does it, so callbacks that
    arrive twice, late or out of order can race each other safely. A callback whose sid
    contradicts the one we stored is ignored.
    """
    new_state = state_for_provider_status(update.status)
    if new_state is None:
        return False
    by_id = message_id is not None
    params: dict[str, object] = {
        "message_id": message_id,
        "sid": update.provider_sid,
        "code": update.error_code,
        "new_state": new_state,
        "allowed": sorted(advanceable_from(update.status)),
        "now": now,
        "new_delivered_at": now if new_state is MessageState.DELIVERED else None,
    }
    moved = db.session.execute(sql.advance_status(by_id), params)
    changed = bool(getattr(moved, "rowcount", 0))
    if not changed and update.error_code:
        # A stale status may still carry the first error code we have not seen yet.
        db.session.execute(sql.keep_first_error(by_id), params)
    if changed and update.error_code and new_state in _UNREACHED:
        target = message_id
        if target is None:
            target = db.session.scalar(
                select(OutboundMessage.id).where(
                    OutboundMessage.provider_sid == update.provider_sid
                )
            )
        if target is not None:
            fall_back(target, update.error_code, now)
    db.session.commit()
    return changed


def set_template_override(
    clinic_id: int, kind: str, locale: str, text: str | None, clock: Clock
) -> list[Problem]:
    """Set (or, with `text` None, remove) a clinic's wording of one template. Commits.

    Raises Invalid for an unknown kind or locale, or a text the template lint refuses
    (a reply word that opts out, a missing or unknown placeholder, an over-long body);
    returns the warnings it accepted.
    """
    from app.core.locales import SUPPORTED_LOCALES
    from app.messaging.compose import TEMPLATES
    from app.messaging.templates import lint, placeholders
    from app.surveys.texts import SURVEY_TEXTS

    known = {**TEMPLATES, **SURVEY_TEXTS}
    if kind not in known:
        raise Invalid(f"unknown template {kind!r}; one of: {', '.join(sorted(known))}")
    if locale not in SUPPORTED_LOCALES:
        raise Invalid(f"unknown locale {locale!r}")
    row = db.session.scalar(
        select(TemplateOverride).where(
            TemplateOverride.clinic_id == clinic_id,
            TemplateOverride.kind == kind,
            TemplateOverride.locale == locale,
        )
    )
    if text is None:
        if row is not None:
            db.session.delete(row)
        db.session.commit()
        return []
    problems = lint(text, locale=locale, expected_placeholders=placeholders(known[kind]))
    errors = [p.message for p in problems if p.level == "error"]
    if errors:
        raise Invalid(f"{kind} {locale}: " + "; ".join(errors))
    now = clock.now()
    if row is None:
        db.session.add(
            TemplateOverride(
                clinic_id=clinic_id, kind=kind, locale=locale, body=text, updated_at=now
            )
        )
    else:
        row.body, row.updated_at = text, now
    db.session.commit()
    return problems
