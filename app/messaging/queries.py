"""Reads about messages: the WhatsApp session window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.channels import Channel
from app.extensions import db
from app.messaging.models import InboundMessage

#: WhatsApp allows free text only this long after the patient's last message.
WHATSAPP_WINDOW = timedelta(hours=24)


def in_whatsapp_window(patient_id: int, now: datetime) -> bool:
    """Whether the patient wrote to us on WhatsApp in the last 24 hours."""
    last = db.session.scalar(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.patient_id == patient_id, InboundMessage.channel == Channel.WHATSAPP
        )
    )
    return last is not None and last > now - WHATSAPP_WINDOW
