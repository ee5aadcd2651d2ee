"""Channel fallback driven by provider error codes.

| channel  | error | meaning                                        | then    |
|----------|-------|------------------------------------------------|---------|
| whatsapp | 63016 | outside the 24-hour window, no approved template | SMS   |
| sms      | 30006 | landline or unreachable carrier                | voice   |
| web      | 30006 | (the link travels by SMS) as above             | voice   |

A message falls back once: the copy points at the original (`fallback_for_id`) and goes
out at once, composed afresh for its channel. The features are told the original was
superseded (a survey closes the conversation the failed invitation opened, so the copy
opens its own).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.core.channels import Channel
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.registry import composer_for, superseded_listeners
from app.messaging.states import MessageState

log = logging.getLogger(__name__)

WHATSAPP_OUTSIDE_WINDOW = 63016
LANDLINE_OR_UNREACHABLE = 30006
FALLBACKS: dict[tuple[Channel, int], Channel] = {
    (Channel.WHATSAPP, WHATSAPP_OUTSIDE_WINDOW): Channel.SMS,
    (Channel.SMS, LANDLINE_OR_UNREACHABLE): Channel.VOICE,
    (Channel.WEB, LANDLINE_OR_UNREACHABLE): Channel.VOICE,
}


def fallback_channel(channel: str, error_code: int | None) -> Channel | None:
    return FALLBACKS.get((Channel(channel), error_code)) if error_code is not None else None


def fall_back(message_id: int, error_code: int | None, now: datetime) -> int | None:
    """Queue the message again on the fallback channel for `error_code`, if there is one.

    Returns the new message's id, or None (no rule, already done, or too late). Does not
    commit.
    """
    message = db.session.get(OutboundMessage, message_id)
    if message is None:
        return None
    target = fallback_channel(message.channel, error_code)
    if target is None or message.expires_at <= now:
        return None
    done = db.session.scalar(
        select(OutboundMessage.id).where(OutboundMessage.fallback_for_id == message.id)
    )
    if done is not None:
        return None
    for listener in superseded_listeners():
        listener(message, now)
    # A kind composed at send time is composed again, for its own channel.
    composed_later = composer_for(MessageKind(message.kind)) is not None
    copy = OutboundMessage(
        clinic_id=message.clinic_id,
        patient_id=message.patient_id,
        appointment_id=message.appointment_id,
        kind=message.kind,
        rule=message.rule,
        plan_version=message.plan_version,
        channel=target,
        state=MessageState.PENDING,
        due_at=now,
        expires_at=message.expires_at,
        locale=message.locale,
        body=None if composed_later else message.body,
        fallback_for_id=message.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(copy)
    db.session.flush()
    log.info(
        "message %s: error %s, falls back to %s as %s", message.id, error_code, target, copy.id
    )
    return copy.id
