"""Sending: claim with compare-and-set, call the provider outside any transaction,
record the outcome. Never twice, never lost.

A row moves pending → claimed (by the clock's sweep) → sending (by the worker, just
before the provider call) → accepted/failed/unknown/pending-again. Every move is a
conditional UPDATE on the expected state, so two workers, a replayed job or a late
sweep can never both send the same row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update

from app import metrics
from app.core.channels import Channel, ChannelPlugin, OutboundRequest, SendOutcome, SendResult
from app.core.clock import Clock
from app.core.sms import measure
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.fallback import WHATSAPP_OUTSIDE_WINDOW, fall_back
from app.messaging.kinds import SENT_DESPITE_OPT_OUT, MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.pacing import Pacer
from app.messaging.queries import in_whatsapp_window
from app.messaging.registry import (
    ComposeContext,
    Draft,
    Outgoing,
    Withheld,
    composer_for,
    tell_failed,
)
from app.messaging.states import MessageState
from app.messaging.status import status_callback_url
from app.patients.consent import is_opted_out, record_opt_out

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)


@dataclass(frozen=True)
class SendSettings:
    public_base_url: str
    validity_seconds: int
    #: The app's SECRET_KEY, from which composers derive link signatures and pseudonyms.
    secret_key: str = ""
    #: Paces each sender to its kind's rate (None: nothing is paced).
    pacer: Pacer | None = None


#: A message whose sender has no token for longer than this goes back to wait for a
#: later sweep; a shorter wait is waited out by the worker.
MAX_PACING_WAIT = 1.0


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def expire_overdue(now: datetime) -> int:
    """Drop every open message that can no longer help. Commits; returns how many."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.state.in_([MessageState.PENDING, MessageState.CLAIMED]),
            OutboundMessage.expires_at <= now,
        )
        .values(state=MessageState.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return _rows(result)


def claim_due_messages(now: datetime, limit: int = 1000) -> list[int]:
    """Claim up to `limit` due, unexpired pending messages; returns their ids. Commits.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so two clocks (which
    should not exist, but may during a restart) never claim the same row.
    """
    candidates = (
        select(OutboundMessage.id)
        .where(
            OutboundMessage.state == MessageState.PENDING,
            OutboundMessage.due_at <= now,
            OutboundMessage.expires_at > now,
        )
        .order_by(OutboundMessage.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(candidates))
    if not ids:
        db.session.commit()
        return []
    claimed = db.session.scalars(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(ids), OutboundMessage.state == MessageState.PENDING)
        .values(state=MessageState.CLAIMED, claimed_at=now, updated_at=now)
        .returning(OutboundMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def _take_for_sending(message_id: int, now: datetime) -> bool:
    return (
        _rows(db.session.execute(sql.take_for_sending(), {"message_id": message_id, "now": now}))
        == 1
    )


@dataclass(frozen=True)
class Claim:
    """What the worker knows about a message it is sending, between the phases."""

    message_id: int
    patient_id: int
    clinic_id: int
    attempts: int
    expires_at: datetime


def _finish_early(message_id: int, state: MessageState, now: datetime) -> None:
    db.session.execute(
        sql.finish_sending(), {"message_id": message_id, "new_state": state, "now": now}
    )
    db.session.commit()


def outgoing(message_id: int) -> Outgoing:
    """Message `message_id` as its composer sees it."""
    return _outgoing(message_id, _load(message_id))


def _outgoing(message_id: int, row: Any) -> Outgoing:
    return Outgoing(
        message_id=message_id,
        kind=MessageKind(row.kind),
        channel=Channel(row.channel),
        patient_id=row.patient_id,
        clinic_id=row.clinic_id,
        appointment_id=row.appointment_id,
        patient_locale=row.locale,
        clinic_name=row.clinic_name,
        timezone=row.timezone,
        default_locale=row.default_locale,
    )


def _compose(outgoing: Outgoing, clock: Clock, now: datetime, settings: SendSettings) -> Draft:
    """The message composed by its kind's composer. Raises Withheld."""
    composer = composer_for(outgoing.kind)
    if composer is None:
        raise ValueError(f"message {outgoing.message_id}: no composer for {outgoing.kind}")
    context = ComposeContext(now, clock, settings.public_base_url, settings.secret_key)
    return composer(outgoing, context)


def _whatsapp_template(row: Any, now: datetime) -> str | None:
    """Outside the 24-hour window WhatsApp takes only an approved template (its Content
    SID); None inside it.

    With no approved template for this kind the message cannot go on WhatsApp: it fails
    as Twilio would (63016), and the fallback sends it by SMS.
    """
    if in_whatsapp_window(row.patient_id, now):
        return None
    content_sid = (row.whatsapp_templates or {}).get(row.kind)
    if not content_sid:
        raise Withheld(MessageState.FAILED, WHATSAPP_OUTSIDE_WINDOW)
    return str(content_sid)


def _load(message_id: int) -> Any:
    return db.session.execute(sql.load_for_send(), {"message_id": message_id}).one()


def _take_and_load(message_id: int, now: datetime) -> Any | None:
    """Take the row (claimed → sending) and read what sending needs: one round trip on
    PostgreSQL, two elsewhere. None when the row was not ours to take."""
    params = {"message_id": message_id, "now": now}
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(sql.take_and_load(), params).one_or_none()
    if not _take_for_sending(message_id, now):
        return None
    return _load(message_id)


def _prepare(
    message_id: int, clock: Clock, settings: SendSettings
) -> tuple[OutboundRequest, Claim] | None:
    """Phase 1: take the row (claimed → sending), check it may still go, compose it."""
    now = clock.now()
    row = _take_and_load(message_id, now)
    if row is None:
        db.session.rollback()
        return None
    if row.expires_at <= now:
        _finish_early(message_id, MessageState.EXPIRED, now)
        return None
    if row.kind not in SENT_DESPITE_OPT_OUT and is_opted_out(
        row.patient_id, row.clinic_id, row.channel
    ):
        _finish_early(message_id, MessageState.SUPPRESSED, now)
        return None
    body, locale = row.body, None
    content_sid: str | None = None
    template_values: Mapping[str, str] = {}
    try:  # nothing is written before a message is withheld
        if row.channel == Channel.WHATSAPP:
            content_sid = _whatsapp_template(row, now)
        if body is None:
            draft = _compose(_outgoing(message_id, row), clock, now, settings)
            body, locale, template_values = draft.body, draft.locale, draft.template_values
    except Withheld as withheld:
        _withhold(message_id, withheld, now)
        return None
    measured = measure(body)
    db.session.execute(
        sql.write_body(),
        {
            "message_id": message_id,
            "new_body": body,
            "new_encoding": measured.encoding,
            "new_segments": measured.segments,
            "new_locale": locale,
        },
    )
    validity = int(min(settings.validity_seconds, (row.expires_at - now).total_seconds()))
    base = settings.public_base_url.rstrip("/")
    request = OutboundRequest(
        message_id=message_id,
        to=row.phone,
        body=body,
        sender=row.sender,
        status_callback=status_callback_url(settings.public_base_url, message_id),
        validity_seconds=max(validity, 1),
        channel=row.channel,
        kind=row.kind,
        twiml_url=f"{base}/webhooks/twilio/voice?m={message_id}"
        if row.channel == Channel.VOICE
        else None,
        content_sid=content_sid,
        content_variables={"1": row.clinic_name, **template_values} if content_sid else None,
    )
    claim = Claim(message_id, row.patient_id, row.clinic_id, row.attempts, row.expires_at)
    db.session.commit()
    return request, claim


def _withhold(message_id: int, withheld: Withheld, now: datetime) -> None:
    db.session.execute(
        sql.finish_sending(), {"message_id": message_id, "new_state": withheld.state, "now": now}
    )
    if withheld.error_code is not None:
        message = db.session.get(OutboundMessage, message_id)
        if message is not None and message.error_code is None:
            message.error_code = withheld.error_code
        copy = fall_back(message_id, withheld.error_code, now)
        if withheld.state is MessageState.FAILED and copy is None:
            tell_failed(message_id, now)
    db.session.commit()


def send_message(
    message_id: int, clock: Clock, channels: Mapping[str, ChannelPlugin], settings: SendSettings
) -> MessageState | None:
    """Send one claimed message at most once. Returns its new state, or None if the row
    was not ours to send (already taken, cancelled, expired or suppressed).

    The database session is closed while the provider is called: no transaction or
    connection is held across the network, and a crash there leaves the row in
    `sending`, which the reconciler settles without sending blindly.
    """
    prepared = _prepare(message_id, clock, settings)
    if prepared is None:
        return None
    request, claim = prepared
    db.session.close()
    if settings.pacer is not None:
        wait = settings.pacer.wait_for(request.sender)
        if wait > MAX_PACING_WAIT:
            return _pace_back(claim, request, clock.now() + timedelta(seconds=wait), clock.now())
        if wait > 0:
            time.sleep(wait)
    started = time.perf_counter()
    result = channels[request.channel].send(request)
    metrics.observe_send(request.channel, time.perf_counter() - started)
    state = record_send_result(claim, result, clock.now())
    metrics.count_message(request.kind, request.channel, state.value)
    return state


def _pace_back(
    claim: Claim, request: OutboundRequest, due_at: datetime, now: datetime
) -> MessageState:
    """The sender has no token to spare: the message waits, unsent and with the attempt
    not counted, until `due_at` (a later sweep claims it again). Commits."""
    db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == claim.message_id,
            OutboundMessage.state == MessageState.SENDING,
        )
        .values(
            state=MessageState.PENDING,
            due_at=due_at,
            attempts=OutboundMessage.attempts - 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    metrics.count_message(request.kind, request.channel, "paced")
    return MessageState.PENDING


def _backoff(attempts: int, hint: float | None) -> timedelta:
    if hint:
        return timedelta(seconds=hint)
    delay: timedelta = min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX)
    return delay


def _outcome_values(claim: Claim, result: SendResult, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"new_due_at": None, "new_accepted_at": None}
    if result.outcome is SendOutcome.ACCEPTED:
        return values | {"new_state": MessageState.ACCEPTED, "new_accepted_at": now}
    if result.outcome is SendOutcome.RETRY:
        retry_at = now + _backoff(claim.attempts, result.retry_after)
        if retry_at >= claim.expires_at:
            return values | {"new_state": MessageState.EXPIRED}
        return values | {"new_state": MessageState.PENDING, "new_due_at": retry_at}
    if result.outcome is SendOutcome.UNKNOWN:
        return values | {"new_state": MessageState.UNKNOWN}
    return values | {"new_state": MessageState.FAILED}


def record_send_result(claim: Claim, result: SendResult, now: datetime) -> MessageState:
    """Phase 3: store what the provider said. Commits.

    A status callback may have arrived first and moved the row past `sending`; then
    only the sid is filled in and the state is left as the callback set it.
    """
    values = _outcome_values(claim, result, now)
    # Only a final refusal is the message's error. A 429 or a 5xx says nothing about
    # the message, and the carrier's own code may follow.
    final = result.outcome in (SendOutcome.FAILED, SendOutcome.OPTED_OUT)
    code = result.error_code if final else None
    params = {"message_id": claim.message_id, "sid": result.provider_sid, "code": code}
    moved = db.session.execute(sql.record_result(), params | values | {"now": now})
    state: MessageState = values["new_state"]
    if _rows(moved) == 0:
        db.session.execute(
            sql.adopt_sid(), {"message_id": claim.message_id, "sid": result.provider_sid}
        )
        current = db.session.scalar(
            select(OutboundMessage.state).where(OutboundMessage.id == claim.message_id)
        )
        state = current if current is not None else state
    if result.outcome is SendOutcome.OPTED_OUT:
        record_opt_out(claim.patient_id, claim.clinic_id, "all", "provider", now)
    copy = None
    if state is MessageState.FAILED and code is not None:
        copy = fall_back(claim.message_id, code, now)
    if state is MessageState.FAILED and _rows(moved) == 1 and copy is None:
        tell_failed(claim.message_id, now)
    db.session.commit()
    log.info("message %s: %s (%s)", claim.message_id, state.value, result.detail)
    return state


def stale_claims(now: datetime, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Claimed rows whose send job seems lost (Redis flushed, worker died before it
    started), to be queued again: their claim time moves to `now`, so a row is queued
    again at most once per `older_than` however often the clock sweeps, while its job
    waits in a long queue. The send job's compare-and-set makes a second job for the
    same row harmless. Does not commit."""
    ids = list(
        db.session.scalars(
            select(OutboundMessage.id).where(
                OutboundMessage.state == MessageState.CLAIMED,
                OutboundMessage.claimed_at <= now - older_than,
            )
        )
    )
    if ids:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.state == MessageState.CLAIMED)
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def mark_stuck_sending(now: datetime, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Rows left in `sending` by a worker that died mid-call become UNKNOWN. Commits."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            and_(
                OutboundMessage.state == MessageState.SENDING,
                OutboundMessage.sending_at <= now - older_than,
            )
        )
        .values(state=MessageState.UNKNOWN, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return _rows(result)
