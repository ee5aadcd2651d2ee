"""Sending a batch of claimed messages: take them together, call the provider outside
any transaction, record the outcomes together. Never twice, never lost.

A job hands over a batch of message ids. In one statement the batch moves claimed →
sending (each row's own compare-and-set: a row another worker took, or that was
cancelled, is simply not returned) and brings back everything sending needs,
including the consent in force; the kinds' prefetches read what their composers need
for the whole batch; the bodies are written and committed at once. The connection goes
back to the pool while the provider is called, message by message over one kept-alive
HTTP connection, and the outcomes are stored in one statement more.

A worker that dies between the provider call and that statement leaves its rows in
`sending`: the clock's sweep marks them unknown and the reconciler settles each from
the provider's own records, never by sending blindly (`app.messaging.reconcile`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from app import metrics
from app.core.channels import Channel, ChannelPlugin, OutboundRequest, SendOutcome, SendResult
from app.core.clock import Clock
from app.core.sms import measure
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.dispatcher import SendSettings, outgoing_from
from app.messaging.fallback import WHATSAPP_OUTSIDE_WINDOW, fall_back
from app.messaging.kinds import SENT_DESPITE_OPT_OUT, MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.queries import WHATSAPP_WINDOW
from app.messaging.registry import (
    ComposeContext,
    Draft,
    Outgoing,
    Withheld,
    composer_for,
    prefetch_for,
    tell_failed,
)
from app.messaging.states import MessageState
from app.messaging.status import status_callback_url
from app.patients.consent import record_opt_out
from app.patients.models import ConsentAction

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
#: A message whose sender has no token for longer than this goes back to wait for a
#: later sweep; a shorter wait is waited out by the worker.
MAX_PACING_WAIT = 1.0


@dataclass(frozen=True)
class Claim:
    """What the worker knows about a message it is sending, between the phases."""

    message_id: int
    patient_id: int
    clinic_id: int
    attempts: int
    expires_at: datetime
    kind: str
    channel: str


@dataclass
class _Batch:
    """What the first phase made of a batch: the requests to send, and the state of each
    message that ended there (None: it was not ours to send)."""

    requests: list[tuple[OutboundRequest, Claim]]
    ended: dict[int, MessageState | None]


def send_message(
    message_id: int, clock: Clock, channels: Mapping[str, ChannelPlugin], settings: SendSettings
) -> MessageState | None:
    """Send one claimed message at most once (`send_batch` of one)."""
    return send_batch([message_id], clock, channels, settings)[0]


def send_batch(
    message_ids: Sequence[int],
    clock: Clock,
    channels: Mapping[str, ChannelPlugin],
    settings: SendSettings,
) -> list[MessageState | None]:
    """Send each claimed message of the batch at most once. Returns each one's new
    state, in the order given, or None for a row that was not ours to send (already
    taken, cancelled, expired or suppressed).

    If the batch cannot be prepared together (a composer fails on one message), each
    message is tried on its own, so that one bad message holds up only itself; the
    first failure is raised once the others have gone.
    """
    try:
        batch = _prepare(list(message_ids), clock, settings)
    except Exception:
        db.session.rollback()
        if len(message_ids) == 1:
            raise
        log.exception("a batch of %d messages failed; sending them one by one", len(message_ids))
        return _one_by_one(message_ids, clock, channels, settings)
    db.session.close()
    states = dict(batch.ended) | _send_and_record(batch.requests, clock, channels, settings)
    return [states.get(message_id) for message_id in message_ids]


def _one_by_one(
    message_ids: Sequence[int],
    clock: Clock,
    channels: Mapping[str, ChannelPlugin],
    settings: SendSettings,
) -> list[MessageState | None]:
    states: list[MessageState | None] = []
    failure: Exception | None = None
    for message_id in message_ids:
        try:
            states.append(send_message(message_id, clock, channels, settings))
        except Exception as error:  # the others still go; the first error is raised after
            db.session.rollback()
            log.exception("message %s could not be sent", message_id)
            failure = failure or error
            states.append(None)
    if failure is not None:
        raise failure
    return states


# -- phase 1: take, check, compose ---------------------------------------------------


def _take_and_load(message_ids: list[int], now: datetime) -> list[Any]:
    """Take the rows (claimed → sending) and read what sending needs: one round trip on
    PostgreSQL, two elsewhere. Rows that were not ours to take are not returned."""
    params = {"message_ids": message_ids, "now": now}
    if _postgresql():
        return list(db.session.execute(sql.take_and_load_many(), params))
    taken = list(db.session.scalars(sql.take_many(), params))
    if not taken:
        return []
    return list(db.session.execute(sql.load_many(), {"message_ids": taken}))


def _load_claimed(message_ids: list[int]) -> list[Any]:
    """What sending needs of the rows still claimed, read without taking them."""
    return list(db.session.execute(sql.load_claimed(), {"message_ids": message_ids}))


def _prefetch(rows: list[Any], context: ComposeContext) -> None:
    """Let each kind read ahead for the messages of the batch it will compose."""
    by_kind: dict[MessageKind, list[Outgoing]] = {}
    for row in rows:
        if row.body is None:
            by_kind.setdefault(MessageKind(row.kind), []).append(outgoing_from(row))
    for kind, outgoing in by_kind.items():
        prefetch = prefetch_for(kind)
        if prefetch is not None:
            prefetch(outgoing, context)


def _whatsapp_template(row: Any, now: datetime) -> str | None:
    """Outside the 24-hour window WhatsApp takes only an approved template (its Content
    SID); None inside it.

    With no approved template for this kind the message cannot go on WhatsApp: it fails
    as Twilio would (63016), and the fallback sends it by SMS.
    """
    last = row.whatsapp_last
    if last is not None and last > now - WHATSAPP_WINDOW:
        return None
    content_sid = (row.whatsapp_templates or {}).get(row.kind)
    if not content_sid:
        raise Withheld(MessageState.FAILED, WHATSAPP_OUTSIDE_WINDOW)
    return str(content_sid)


def _compose(row: Any, context: ComposeContext) -> Draft:
    """The message composed by its kind's composer. Raises Withheld."""
    composer = composer_for(MessageKind(row.kind))
    if composer is None:
        raise ValueError(f"message {row.id}: no composer for {row.kind}")
    return composer(outgoing_from(row), context)


@dataclass
class _Plan:
    """What composing a batch decided, to be written once its rows are taken."""

    finished: list[dict[str, Any]]
    withheld: list[tuple[int, Withheld]]
    bodies: list[dict[str, Any]]
    requests: list[tuple[OutboundRequest, Claim]]


def _prepare(message_ids: list[int], clock: Clock, settings: SendSettings) -> _Batch:
    """Phase 1: take the rows (claimed → sending), check each may still go, compose
    them, write their bodies. Commits.

    On SQLite, whose one writer waits for every other, the rows are read and composed
    first and taken afterwards, so that the write lock is held for the writing alone;
    if any of them was taken meanwhile, or cancelled, the batch starts again the usual
    way (what composing wrote is rolled back with it).
    """
    now = clock.now()
    context = ComposeContext(now, clock, settings.public_base_url, settings.secret_key)
    plan: _Plan | None = None
    if not _postgresql():
        rows = _load_claimed(message_ids)
        plan = _plan(rows, now, context, settings, taking=True)
        params = {"message_ids": [row.id for row in rows], "now": now}
        taken = set(db.session.scalars(sql.take_many(), params)) if rows else set()
        if taken != {row.id for row in rows}:
            db.session.rollback()
            plan = None
    if plan is None:
        plan = _plan(_take_and_load(message_ids, now), now, context, settings, taking=False)
    batch = _Batch([], dict.fromkeys(message_ids))
    for finish in plan.finished:
        batch.ended[finish["message_id"]] = None
    if plan.finished:
        db.session.execute(sql.finish_sending(), plan.finished)
    for message_id, withheld in plan.withheld:
        _withhold(message_id, withheld, now)
        batch.ended[message_id] = None
    if plan.bodies:
        _write_bodies(plan.bodies)
    db.session.commit()
    batch.requests = plan.requests
    return batch


def _plan(
    rows: list[Any], now: datetime, context: ComposeContext, settings: SendSettings, taking: bool
) -> _Plan:
    """Compose the batch's `rows`: which end without going, which are withheld, and the
    bodies and requests of the rest. Writes nothing but what composers write. `taking`:
    the rows are yet to be taken, which counts an attempt more."""
    _prefetch(rows, context)
    plan = _Plan([], [], [], [])
    for row in rows:
        early = _early_end(row, now)
        if early is not None:
            plan.finished.append({"message_id": row.id, "new_state": early, "now": now})
            continue
        try:  # nothing is written before a message is withheld
            content_sid = _whatsapp_template(row, now) if row.channel == Channel.WHATSAPP else None
            draft = Draft(row.body, "") if row.body is not None else _compose(row, context)
        except Withheld as withheld:
            plan.withheld.append((row.id, withheld))
            continue
        measured = measure(draft.body)
        plan.bodies.append(
            {
                "message_id": row.id,
                "new_body": draft.body,
                "new_encoding": measured.encoding,
                "new_segments": measured.segments,
                "new_locale": draft.locale or None,
            }
        )
        attempts = row.attempts + 1 if taking else row.attempts
        plan.requests.append(_request(row, draft, content_sid, now, settings, attempts))
    return plan


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _write_bodies(bodies: list[dict[str, Any]]) -> None:
    if not _postgresql():
        db.session.execute(sql.write_body(), bodies)
        return
    db.session.execute(
        sql.write_bodies_unnest(),
        {
            "ids": [b["message_id"] for b in bodies],
            "bodies": [b["new_body"] for b in bodies],
            "encodings": [b["new_encoding"] for b in bodies],
            "segments": [b["new_segments"] for b in bodies],
            "locales": [b["new_locale"] for b in bodies],
        },
    )


def _record_moved(rows: list[dict[str, Any]], now: datetime) -> set[int]:
    """Store the outcomes of a batch in one statement; the ids that moved."""
    if not _postgresql():  # in-process: a statement a message costs no round trip
        return {
            r["message_id"]
            for r in rows
            if _rowcount(db.session.execute(sql.record_result(), r | {"now": now})) == 1
        }
    params = {
        "ids": [r["message_id"] for r in rows],
        "states": [r["new_state"].value for r in rows],
        "sids": [r["sid"] for r in rows],
        "codes": [r["code"] for r in rows],
        "due_ats": [r["new_due_at"] for r in rows],
        "accepted_ats": [r["new_accepted_at"] for r in rows],
        "now": now,
    }
    return set(db.session.scalars(sql.record_results_unnest(), params))


def _early_end(row: Any, now: datetime) -> MessageState | None:
    """The state a message ends in without going: too late, or the patient opted out."""
    if row.expires_at <= now:
        return MessageState.EXPIRED
    if row.kind not in SENT_DESPITE_OPT_OUT and row.consent is ConsentAction.OPT_OUT:
        return MessageState.SUPPRESSED
    return None


def _request(
    row: Any,
    draft: Draft,
    content_sid: str | None,
    now: datetime,
    settings: SendSettings,
    attempts: int,
) -> tuple[OutboundRequest, Claim]:
    validity = int(min(settings.validity_seconds, (row.expires_at - now).total_seconds()))
    base = settings.public_base_url.rstrip("/")
    request = OutboundRequest(
        message_id=row.id,
        to=row.phone,
        body=draft.body,
        sender=row.sender,
        status_callback=status_callback_url(settings.public_base_url, row.id),
        validity_seconds=max(validity, 1),
        channel=row.channel,
        kind=row.kind,
        twiml_url=f"{base}/webhooks/twilio/voice?m={row.id}"
        if row.channel == Channel.VOICE
        else None,
        content_sid=content_sid,
        content_variables={"1": row.clinic_name, **draft.template_values} if content_sid else None,
    )
    claim = Claim(
        row.id, row.patient_id, row.clinic_id, attempts, row.expires_at, row.kind, row.channel
    )
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


# -- phase 2: the provider -------------------------------------------------------------


def _send_and_record(
    requests: list[tuple[OutboundRequest, Claim]],
    clock: Clock,
    channels: Mapping[str, ChannelPlugin],
    settings: SendSettings,
) -> dict[int, MessageState | None]:
    """Call the provider for each request, then record every outcome at once (also
    when a call raises: what was sent before it is recorded, then the error is
    raised; the rest stay in `sending` for the reconciler).

    A batch that outruns its time budget (`settings.send_budget_seconds`: a slow
    provider, long pacing waits) puts the rest back unsent, due now, rather than let
    them grow old in `sending`, where the sweep would take them for lost while this
    worker still sends them. The first call is always made, so every job moves on.
    """
    results: list[tuple[Claim, SendResult]] = []
    paced: list[tuple[Claim, datetime]] = []
    deadline = time.monotonic() + settings.send_budget_seconds
    try:
        for request, claim in requests:
            if (results or paced) and time.monotonic() >= deadline:
                paced.append((claim, clock.now()))
                continue
            if settings.pacer is not None:
                wait = settings.pacer.wait_for(request.sender)
                if wait > MAX_PACING_WAIT:
                    paced.append((claim, clock.now() + timedelta(seconds=wait)))
                    continue
                if wait > 0:
                    time.sleep(wait)
            started = time.perf_counter()
            result = channels[request.channel].send(request)
            metrics.observe_send(request.channel, time.perf_counter() - started)
            results.append((claim, result))
    finally:
        states = _record(results, paced, clock.now())
    return states


# -- phase 3: the outcomes ---------------------------------------------------------------


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


def _error_code(result: SendResult) -> int | None:
    """Only a final refusal is the message's error. A 429 or a 5xx says nothing about
    the message, and the carrier's own code may follow."""
    final = result.outcome in (SendOutcome.FAILED, SendOutcome.OPTED_OUT)
    return result.error_code if final else None


def _record(
    results: list[tuple[Claim, SendResult]], paced: list[tuple[Claim, datetime]], now: datetime
) -> dict[int, MessageState | None]:
    """Store what the provider said of each message, in one statement for the batch.
    Commits.

    A status callback may have arrived first and moved a row past `sending`; then only
    the sid is filled in and the state is left as the callback set it.
    """
    states: dict[int, MessageState | None] = {}
    rows = [
        {"message_id": c.message_id, "sid": r.provider_sid, "code": _error_code(r), "now": now}
        | _outcome_values(c, r, now)
        for c, r in results
    ]
    moved = _record_moved(rows, now) if rows else set()
    for (claim, result), row in zip(results, rows, strict=True):
        states[claim.message_id] = _settle(claim, result, row, claim.message_id in moved, now)
    for claim, due_at in paced:
        states[claim.message_id] = _pace_back(claim, due_at, now)
    db.session.commit()
    for claim, result in results:
        state = states[claim.message_id]
        value = state.value if state is not None else "unknown"
        metrics.count_message(claim.kind, claim.channel, value)
        log.info("message %s: %s (%s)", claim.message_id, value, result.detail)
    return states


def _settle(
    claim: Claim, result: SendResult, row: dict[str, Any], moved: bool, now: datetime
) -> MessageState:
    """What follows one outcome: the sid adopted where a callback came first, an opt-out
    the provider reported, the fallback or the failure listeners. Does not commit."""
    state: MessageState = row["new_state"]
    if not moved:
        db.session.execute(
            sql.adopt_sid(), {"message_id": claim.message_id, "sid": result.provider_sid}
        )
        current = db.session.get(OutboundMessage, claim.message_id)
        state = current.state if current is not None else state
    if result.outcome is SendOutcome.OPTED_OUT:
        record_opt_out(claim.patient_id, claim.clinic_id, "all", "provider", now)
    copy = None
    if state is MessageState.FAILED and row["code"] is not None:
        copy = fall_back(claim.message_id, row["code"], now)
    if state is MessageState.FAILED and moved and copy is None:
        tell_failed(claim.message_id, now)
    return state


def _pace_back(claim: Claim, due_at: datetime, now: datetime) -> MessageState:
    """The sender has no token to spare, or the batch ran out of time: the message
    waits, unsent and with the attempt not counted, until `due_at` (a later sweep claims
    it again). Does not commit."""
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
    metrics.count_message(claim.kind, claim.channel, "paced")
    return MessageState.PENDING
