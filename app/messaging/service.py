"""Commands on the inbox and on provider status updates."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clinics.queries import find_clinic_by_sender
from app.extensions import db
from app.messaging.channels.base import StatusUpdate
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import InboundState, MessageState, advance
from app.patients.models import Patient

log = logging.getLogger(__name__)


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


def _find_outbound(message_id: int | None, provider_sid: str) -> OutboundMessage | None:
    if message_id is not None:
        found = db.session.get(OutboundMessage, message_id, with_for_update=True)
        if found is not None:
            return found
    return db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid).with_for_update()
    )


def record_status(message_id: int | None, update: StatusUpdate, now: datetime) -> bool:
    """Apply a provider status. Moves only forward; keeps the first error code.

    Returns True if the message changed. Unknown messages and stale or repeated
    statuses are ignored (the provider may send them late, twice or out of order).
    """
    message = _find_outbound(message_id, update.provider_sid)
    if message is None:
        db.session.rollback()
        log.info("status for an unknown message ignored")
        return False
    if message.provider_sid is None:
        message.provider_sid = update.provider_sid
    elif message.provider_sid != update.provider_sid:
        db.session.rollback()
        log.warning("status callback sid does not match message %s; ignored", message.id)
        return False
    new_state = advance(message.state, update.status)
    if message.error_code is None and update.error_code:
        message.error_code = update.error_code
    if new_state is not None:
        message.state = new_state
        if new_state is MessageState.DELIVERED:
            message.delivered_at = now
        if message.accepted_at is None:
            message.accepted_at = now
    message.updated_at = now
    db.session.commit()
    return new_state is not None
