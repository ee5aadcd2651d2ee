"""Reads about messages: clinic wording overrides and the WhatsApp session window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.messaging import compose
from app.messaging.models import InboundMessage, TemplateOverride

#: WhatsApp allows free text only this long after the patient's last message.
WHATSAPP_WINDOW = timedelta(hours=24)


def overrides_for(clinic_id: int) -> compose.Overrides:
    """The clinic's own wording of templates: message id → locale → text."""
    from app.surveys.texts import SURVEY_TEXTS

    by_kind = {**compose.TEMPLATES, **SURVEY_TEXTS}
    result: dict[str, dict[str, str]] = {}
    for row in db.session.scalars(
        select(TemplateOverride).where(TemplateOverride.clinic_id == clinic_id)
    ):
        msgid = by_kind.get(row.kind)
        if msgid is not None:
            result.setdefault(msgid, {})[row.locale] = row.body
    return result


def in_whatsapp_window(patient_id: int, now: datetime) -> bool:
    """Whether the patient wrote to us on WhatsApp in the last 24 hours."""
    last = db.session.scalar(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.patient_id == patient_id, InboundMessage.channel == "whatsapp"
        )
    )
    return last is not None and last > now - WHATSAPP_WINDOW
