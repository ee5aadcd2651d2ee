"""The delivery outbox: claimed, sent and retried like the SMS outbox, never lost and
never sent twice by our own accounting.

A delivery moves pending → claimed (the clock's `sweep_deliveries`, a conditional
UPDATE, SKIP LOCKED on PostgreSQL) → sending (the worker, another conditional UPDATE
that also counts the attempt) → delivered, failed, or pending again with a later due
time (exponential backoff). The session is closed while the endpoint is called. The
result is written only if the row is still in `sending` for the same attempt, so a
late worker cannot overwrite a newer one.

A receiver may still see an event twice: if an answer is lost (a timeout after the
receiver acted, a worker that died mid-call) the attempt is retried, with the same
event id in the `WeSaid-Event-Id` header for it to deduplicate on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update

from app.appointments.models import Appointment
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.events import payloads, sender
from app.events.endpoints import UrlRefused, check_url
from app.events.models import (
    Delivery,
    DeliveryState,
    Event,
    FhirEndpoint,
    Subscription,
    Target,
)
from app.events.payloads import MAX_ATTEMPTS, Answer, Reason
from app.events.sender import Call, Transport
from app.extensions import db
from app.queueing import JobName, JobQueue

log = logging.getLogger(__name__)

#: A claimed row with no job after this long is queued again.
STALE_CLAIM = timedelta(minutes=2)
#: A row left in `sending` this long (well past both timeouts) lost its worker.
STUCK_SENDING = timedelta(minutes=2)

_TAKE = text(
    "UPDATE event_deliveries SET state = 'sending', attempts = attempts + 1, "
    "sending_at = :now, updated_at = :now WHERE id = :id AND state = 'claimed' "
    "RETURNING attempts"
)
_FINISH = text(
    "UPDATE event_deliveries SET state = :state, due_at = :due_at, last_status = :status, "
    "last_error = :error, delivered_at = :delivered_at, updated_at = :now "
    "WHERE id = :id AND state = 'sending' AND attempts = :attempts"
)


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def claim_due_deliveries(now: datetime, limit: int = 500) -> list[int]:
    """Claim up to `limit` due pending deliveries; returns their ids. Commits."""
    candidates = (
        select(Delivery.id)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.due_at <= now)
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(candidates))
    if not ids:
        db.session.commit()
        return []
    claimed = db.session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.PENDING)
        .values(state=DeliveryState.CLAIMED, claimed_at=now, updated_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def _release_stuck(now: datetime) -> int:
    """Rows whose worker died mid-call are due again (the attempt stays counted), or
    failed if that was the last one. Commits."""
    stuck = list(
        db.session.scalars(
            select(Delivery).where(
                Delivery.state == DeliveryState.SENDING,
                Delivery.sending_at <= now - STUCK_SENDING,
            )
        )
    )
    for delivery in stuck:
        out_of_attempts = delivery.attempts >= MAX_ATTEMPTS
        delivery.state = DeliveryState.FAILED if out_of_attempts else DeliveryState.PENDING
        delivery.due_at = now
        delivery.last_status = None
        delivery.last_error = Reason.NO_ANSWER_RECORDED.value
        delivery.updated_at = now
    db.session.commit()
    return len(stuck)


@dataclass(frozen=True)
class DeliverySweep:
    claimed: int
    requeued: int
    released: int


def sweep_deliveries(clock: Clock, queue: JobQueue, batch: int = 500) -> DeliverySweep:
    """One pass of the clock over the outbox: claim and queue what is due, queue again
    claims whose job was lost, release rows whose worker died. Safe to run any time."""
    now = clock.now()
    released = _release_stuck(now)
    claimed = 0
    while ids := claim_due_deliveries(now, batch):
        claimed += queue.enqueue_batches(JobName.DELIVER_EVENTS, ids)
        if len(ids) < batch:
            break
    stale = list(
        db.session.scalars(
            select(Delivery.id).where(
                Delivery.state == DeliveryState.CLAIMED,
                Delivery.claimed_at <= now - STALE_CLAIM,
            )
        )
    )
    db.session.commit()
    requeued = queue.enqueue_batches(JobName.DELIVER_EVENTS, stale)
    report = DeliverySweep(claimed, requeued, released)
    if claimed or requeued or released:
        log.info("event deliveries: %s", report)
    return report


def _take(delivery_id: int, now: datetime) -> int | None:
    """claimed → sending, counting the attempt; the attempt number, or None if the row
    was not ours to send."""
    attempts = db.session.execute(_TAKE, {"id": delivery_id, "now": now}).scalar()
    if attempts is None:
        db.session.rollback()
        return None
    return int(attempts)


def _call(delivery: Delivery, allow_loopback_http: bool) -> Call | Answer:
    """What the attempt sends; an Answer instead when it cannot be sent at all."""
    event = db.session.get(Event, delivery.event_id)
    clinic = db.session.get(Clinic, delivery.clinic_id)
    assert event is not None
    assert clinic is not None
    body = payloads.event_body(
        event.public_id, event.type, event.occurred_at, clinic.slug, event.data
    )
    if delivery.target is Target.WEBHOOK:
        subscription = db.session.get(Subscription, delivery.subscription_id or 0)
        if subscription is None or subscription.revoked_at is not None:
            return Answer(None, Reason.REVOKED, cancelled=True)
        url = check_url(subscription.url, allow_loopback_http=allow_loopback_http)
        return Call(
            Target.WEBHOOK,
            event.public_id,
            event.type,
            body,
            url,
            subscription.secret,
            allow_loopback=allow_loopback_http,
        )
    endpoint = db.session.get(FhirEndpoint, delivery.clinic_id)
    if endpoint is None:
        return Answer(None, Reason.FHIR_OFF, cancelled=True)
    appointment = _appointment(event)
    if appointment is None:
        return Answer(None, Reason.UNKNOWN_APPOINTMENT, permanent=True)
    base = check_url(endpoint.base_url, allow_loopback_http=allow_loopback_http)
    return Call(
        Target.FHIR,
        event.public_id,
        event.type,
        body,
        base,
        identifier_system=endpoint.identifier_system,
        external_id=appointment,
        allow_loopback=allow_loopback_http,
    )


def _appointment(event: Event) -> str | None:
    reference: Any = (event.data or {}).get("appointment") or {}
    external_id = reference.get("external_id") if isinstance(reference, dict) else None
    if not isinstance(external_id, str):
        return None
    return db.session.scalar(
        select(Appointment.external_id).where(
            Appointment.clinic_id == event.clinic_id, Appointment.external_id == external_id
        )
    )


def deliver(
    delivery_id: int, clock: Clock, transport: Transport, *, allow_loopback_http: bool = False
) -> DeliveryState | None:
    """Make one attempt at a claimed delivery. Returns its new state, or None if the row
    was not ours (already taken, cancelled, delivered). Commits; the database session is
    closed while the endpoint is called."""
    now = clock.now()
    attempts = _take(delivery_id, now)
    if attempts is None:
        return None
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery is not None
    try:
        prepared = _call(delivery, allow_loopback_http)
    except UrlRefused:  # allowed when it was made, no longer (plain HTTP in production)
        prepared = Answer(None, Reason.ADDRESS_REFUSED, permanent=True)
    db.session.commit()
    if isinstance(prepared, Answer):
        return record_answer(delivery_id, attempts, prepared, clock.now())
    db.session.close()
    answer = sender.send(prepared, transport, int(now.timestamp()))
    return record_answer(delivery_id, attempts, answer, clock.now())


def _next(attempts: int, answer: Answer, now: datetime) -> tuple[DeliveryState, datetime]:
    if answer.delivered:
        return DeliveryState.DELIVERED, now
    if answer.cancelled:
        return DeliveryState.CANCELLED, now
    if answer.permanent or attempts >= MAX_ATTEMPTS:
        return DeliveryState.FAILED, now
    return DeliveryState.PENDING, now + payloads.retry_delay(attempts)


def record_answer(
    delivery_id: int, attempts: int, answer: Answer, now: datetime
) -> DeliveryState | None:
    """Store what attempt `attempts` came to, if the row is still that attempt's.
    Commits; returns the new state, or None if a newer attempt owns the row."""
    state, due_at = _next(attempts, answer, now)
    moved = db.session.execute(
        _FINISH,
        {
            "id": delivery_id,
            "attempts": attempts,
            "state": state.value,
            "due_at": due_at,
            "status": answer.status,
            "error": answer.error.value if answer.error is not None else None,
            "delivered_at": now if state is DeliveryState.DELIVERED else None,
            "now": now,
        },
    )
    db.session.commit()
    if _rows(moved) != 1:
        return None
    log.info("event delivery %s: attempt %s, %s", delivery_id, attempts, state.value)
    return state
