"""Sending a batch of claimed messages: take them together, call the provider outside
any transaction, record the outcomes together. Never twice, never lost.

A job hands over a batch of message ids. The batch moves claimed → sending (each row's
own compare-and-set: a row another worker took, or that was cancelled, is simply not
taken), is composed, and has its bodies written and committed at once
(`app.messaging.preparing`). The connection goes back to the pool while the provider is
called, message by message over one kept-alive HTTP connection, and the outcomes are
stored in one statement more.

A worker that dies between the provider call and that statement leaves its rows in
`sending`: the clock's sweep marks them unknown and the reconciler settles each from
the provider's own records, never by sending blindly (`app.messaging.reconcile`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from app import metrics
from app.core.channels import ChannelPlugin, OutboundRequest, SendOutcome, SendResult
from app.core.clock import Clock
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.dispatcher import SendSettings
from app.messaging.fallback import fall_back
from app.messaging.models import OutboundMessage
from app.messaging.preparing import Claim, on_postgresql, prepare
from app.messaging.registry import tell_failed
from app.messaging.states import MessageState
from app.patients.consent import record_opt_out

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
#: A message whose sender has no token for longer than this goes back to wait for a
#: later sweep; a shorter wait is waited out by the worker.
MAX_PACING_WAIT = 1.0


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
        batch = prepare(list(message_ids), clock, settings)
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


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _record_moved(rows: list[dict[str, Any]], now: datetime) -> set[int]:
    """Store the outcomes of a batch in one statement; the ids that moved."""
    if not on_postgresql():  # in-process: a statement a message costs no round trip
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
