"""Reconcilers: settle what the provider may or may not have, from its own records.

Nothing here resends blindly. A message in UNKNOWN is looked up at the provider; only
if the provider has no such message after a grace period is it put back to pending.
How long each reconciler waits for the provider to catch up is the channel's
(`ProviderTiming`, set from the configuration).

Reconcilers may run at the same time (jobs queued behind a backlog run side by side on
several workers), so each settles a message with a compare-and-set: only a message
still unknown and without a sid is changed. Otherwise one could put back to pending a
message another had just found at the provider (its sid now "known", so no longer a
match), and it would be sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.clinics.models import Clinic
from app.core.channels import Channel, ChannelPlugin, ProviderMessage, StatusUpdate
from app.extensions import db
from app.messaging.inbox import store_inbound
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import MessageState, state_for_provider_status
from app.messaging.status import record_status
from app.patients.models import Patient

log = logging.getLogger(__name__)
LOOKBACK = timedelta(minutes=5)


def _match(
    channel: str, body: str | None, candidates: list[ProviderMessage], taken: set[str]
) -> ProviderMessage | None:
    """The provider's record of a message: same body for a text; for a call (which has
    no body) the first call to the same number in the window that is no one else's."""
    for candidate in candidates:
        if candidate.sid in taken or candidate.direction == "inbound":
            continue
        if channel == Channel.VOICE or candidate.body == body:
            return candidate
    return None


def _settle_unknown(message_id: int, values: dict[str, Any]) -> bool:
    """Apply `values` to the message if it is still unknown and without a sid (no other
    reconciler and no callback settled it meanwhile); True if it was. Commits."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == message_id,
            OutboundMessage.state == MessageState.UNKNOWN,
            OutboundMessage.provider_sid.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


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
    """Settle UNKNOWN messages on `channels` unknown for longer than the provider's list
    may lag (`channel.timing.list_lag`). Commits.

    Found at the provider → adopt its sid and status. Not found → the request never
    arrived, so the row goes back to pending (or expires if it is too late).
    """
    counts = {"adopted": 0, "requeued": 0, "expired": 0}
    rows = db.session.execute(
        select(
            OutboundMessage.id,
            OutboundMessage.channel,
            OutboundMessage.body,
            OutboundMessage.sending_at,
            OutboundMessage.updated_at,
            OutboundMessage.expires_at,
            Patient.phone,
        )
        .join(Patient, Patient.id == OutboundMessage.patient_id)
        .where(
            OutboundMessage.state == MessageState.UNKNOWN,
            OutboundMessage.provider_sid.is_(None),
            OutboundMessage.updated_at <= now - channel.timing.list_lag,
            OutboundMessage.channel.in_(list(channels)),
        )
        .limit(limit)
    ).all()
    db.session.commit()
    adopted: set[str] = set()
    for message_id, outbox_channel, body, sending_at, updated_at, expires_at, phone in rows:
        candidates = channel.list_messages(to=phone, since=(sending_at or updated_at) - LOOKBACK)
        found = _match(outbox_channel, body, candidates, adopted | _known_sids(candidates))
        values: dict[str, Any] = {"updated_at": now}
        if found is not None:
            adopted.add(found.sid)
            outcome = "adopted"
            values |= {
                "provider_sid": found.sid,
                "state": state_for_provider_status(found.status) or MessageState.ACCEPTED,
                "error_code": func.coalesce(OutboundMessage.error_code, found.error_code),
            }
        elif expires_at > now:
            outcome = "requeued"
            values |= {"state": MessageState.PENDING, "due_at": now}
        else:
            outcome = "expired"
            values |= {"state": MessageState.EXPIRED}
        if _settle_unknown(message_id, values):
            counts[outcome] += 1
    return counts


def poll_statuses(
    now: datetime,
    channel: ChannelPlugin,
    older_than: timedelta | None = None,
    limit: int = 200,
    channels: Collection[Channel] = (Channel.SMS, Channel.WEB),
) -> int:
    """Fetch the status of messages whose final callback never came: unchanged for
    `older_than` (default: the channel's `timing.callback_wait`). Commits.

    An erased patient's messages are left as they are: their number is gone (a list
    without it would be of every message on the account) and erasure deletes them at
    the provider."""
    if older_than is None:
        older_than = channel.timing.callback_wait
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
            Patient.phone != "",
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


def _stored_inbound(sids: Iterable[str], chunk: int = 1000) -> set[str]:
    """Which of `sids` the inbox holds: one query per `chunk` sids, not one per sid (a
    busy number lists thousands of replies in the lookback window)."""
    wanted = list(sids)
    stored: set[str] = set()
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        stored.update(
            db.session.scalars(
                select(InboundMessage.provider_sid).where(InboundMessage.provider_sid.in_(part))
            )
        )
    return stored


def reconcile_inbound(
    now: datetime, channel: ChannelPlugin, since: datetime, channel_name: Channel = Channel.SMS
) -> list[int]:
    """Import inbound messages the provider has but our inbox does not (a webhook the
    app failed to take). Returns the new inbox ids, to be processed."""
    created: list[int] = []
    senders = [s for s in db.session.scalars(select(Clinic.sender)) if s.startswith("+")]
    for sender in senders:
        listed = channel.list_messages(to=sender, since=since)
        received = [m for m in listed if m.direction == "inbound"]
        known = _stored_inbound(m.sid for m in received)
        for found in received:
            if found.sid in known:
                continue
            inbound_id, was_new, _patient = store_inbound(
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
