"""Reconcilers: settle what the provider may or may not have, from its own records.

Nothing here resends blindly. A message in UNKNOWN is looked up at the provider; only
if the provider has no such message after a grace period is it put back to pending.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select

from app.clinics.models import Clinic
from app.core.channels import Channel, ChannelPlugin, ProviderMessage, StatusUpdate
from app.extensions import db
from app.messaging.inbox import store_inbound
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import MessageState, state_for_provider_status
from app.messaging.status import record_status
from app.patients.models import Patient

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=1)
LOOKBACK = timedelta(minutes=5)


def _match(
    message: OutboundMessage, candidates: list[ProviderMessage], taken: set[str]
) -> ProviderMessage | None:
    """The provider's record of `message`: same body for a text; for a call (which has
    no body) the first call to the same number in the window that is no one else's."""
    for candidate in candidates:
        if candidate.sid in taken or candidate.direction == "inbound":
            continue
        if message.channel == Channel.VOICE or candidate.body == message.body:
            return candidate
    return None


#: Outbox channels whose messages each provider channel can look up.
RECONCILED: dict[Channel, tuple[Channel, ...]] = {
    Channel.SMS: (Channel.SMS, Channel.WEB),
    Channel.WHATSAPP: (Channel.WHATSAPP,),
    Channel.VOICE: (Channel.VOICE,),
}


def _known_sids(candidates: list[ProviderMessage]) -> set[str]:
    """Which of the provider's sids already belong to one of our messages."""
    sids = [c.sid for c in candidates]
    if not sids:
        return set()
    known = db.session.scalars(
        select(OutboundMessage.provider_sid).where(OutboundMessage.provider_sid.in_(sids))
    )
    return {sid for sid in known if sid is not None}


def reconcile_unknown(
    now: datetime,
    channel: ChannelPlugin,
    limit: int = 200,
    channels: Collection[Channel] = (Channel.SMS, Channel.WEB),
) -> dict[str, int]:
    """Settle UNKNOWN messages on `channels` older than the grace period. Commits.

    Found at the provider → adopt its sid and status. Not found → the request never
    arrived, so the row goes back to pending (or expires if it is too late).
    """
    counts = {"adopted": 0, "requeued": 0, "expired": 0}
    rows = db.session.execute(
        select(OutboundMessage, Patient.phone)
        .join(Patient, Patient.id == OutboundMessage.patient_id)
        .where(
            OutboundMessage.state == MessageState.UNKNOWN,
            OutboundMessage.provider_sid.is_(None),
            OutboundMessage.updated_at <= now - GRACE,
            OutboundMessage.channel.in_(list(channels)),
        )
        .limit(limit)
    ).all()
    adopted: set[str] = set()
    for message, phone in rows:
        since = (message.sending_at or message.updated_at) - LOOKBACK
        candidates = channel.list_messages(to=phone, since=since)
        found = _match(message, candidates, adopted | _known_sids(candidates))
        if found is not None:
            adopted.add(found.sid)
            message.provider_sid = found.sid
            message.state = state_for_provider_status(found.status) or MessageState.ACCEPTED
            message.error_code = message.error_code or found.error_code
            counts["adopted"] += 1
        elif message.expires_at > now:
            message.state, message.due_at = MessageState.PENDING, now
            counts["requeued"] += 1
        else:
            message.state = MessageState.EXPIRED
            counts["expired"] += 1
        message.updated_at = now
    db.session.commit()
    return counts


def poll_statuses(
    now: datetime,
    channel: ChannelPlugin,
    older_than: timedelta = timedelta(minutes=30),
    limit: int = 200,
    channels: Collection[Channel] = (Channel.SMS, Channel.WEB),
) -> int:
    """Fetch the status of messages whose final callback never came. Commits."""
    rows = db.session.execute(
        select(
            OutboundMessage.id,
            OutboundMessage.provider_sid,
            Patient.phone,
            OutboundMessage.accepted_at,
        )
        .join(Patient, Patient.id == OutboundMessage.patient_id)
        .where(
            OutboundMessage.state.in_(
                [MessageState.ACCEPTED, MessageState.SENT, MessageState.UNKNOWN]
            ),
            OutboundMessage.provider_sid.is_not(None),
            OutboundMessage.updated_at <= now - older_than,
            OutboundMessage.channel.in_(list(channels)),
        )
        .limit(limit)
    ).all()
    changed = 0
    for message_id, sid, phone, accepted_at in rows:
        since = (accepted_at or now) - LOOKBACK
        for found in channel.list_messages(to=phone, since=since):
            if found.sid == sid:
                update = StatusUpdate(found.sid, found.status, found.error_code)
                changed += record_status(message_id, update, now)
                break
    return changed


def reconcile_inbound(
    now: datetime, channel: ChannelPlugin, since: datetime, channel_name: Channel = Channel.SMS
) -> list[int]:
    """Import inbound messages the provider has but our inbox does not (a webhook the
    app failed to take). Returns the new inbox ids, to be processed."""
    created: list[int] = []
    senders = [s for s in db.session.scalars(select(Clinic.sender)) if s.startswith("+")]
    for sender in senders:
        for found in channel.list_messages(to=sender, since=since):
            if found.direction != "inbound":
                continue
            known = db.session.scalar(
                select(InboundMessage.id).where(InboundMessage.provider_sid == found.sid)
            )
            if known is not None:
                continue
            inbound_id, was_new = store_inbound(
                provider_sid=found.sid,
                from_number=found.from_number,
                to_number=found.to,
                body=found.body,
                messaging_service_sid=None,
                channel=channel_name,
                now=found.created_at or now,
            )
            if was_new:
                created.append(inbound_id)
    return created
