"""Webhook deliveries end to end: a reply makes an event, the clock's sweep claims its
delivery, a worker posts it, signed, to a real receiver on 127.0.0.1; failures are
retried with backoff, and nothing is sent twice by the outbox's own accounting."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from app.core.clock import FixedClock
from app.events import outbox
from app.events.models import DeliveryState, EventType
from app.events.payloads import MAX_ATTEMPTS, Answer, Reason, retry_delay
from app.events.sender import Transport
from app.events.signing import SIGNATURE_HEADER, verify
from app.extensions import db
from tests.events.conftest import (
    Booked,
    Courier,
    deliveries,
    events,
    json_of,
    reply,
    subscribe,
)
from tests.events.receiver import HOLD, Receiver

CONFIRMED = EventType.APPOINTMENT_CONFIRMED.value
CANCELLED = EventType.APPOINTMENT_CANCELLED_BY_PATIENT.value


def test_a_confirmation_by_text_reaches_the_receiver_signed(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    _id, secret = subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    reply(booked, "1", clock)
    [event] = events()
    [delivery] = deliveries()
    assert (event.type, delivery.state) == (EventType.APPOINTMENT_CONFIRMED, DeliveryState.PENDING)

    assert courier.round().claimed == 1
    [request] = receiver.received
    body = json_of(request.body)
    assert body == {
        "id": event.public_id,
        "type": CONFIRMED,
        "occurred_at": "2026-03-02T09:00:00Z",
        "clinic": "north",
        "data": {
            "appointment": {"external_id": "APPT-1", "starts_at": "2026-03-09T10:00:00Z"},
            "patient": {"external_id": "P-1"},
            "channel": "sms",
        },
    }
    unix_now = int(clock.now().timestamp())
    assert verify(secret, request.headers[SIGNATURE_HEADER], request.body, unix_now)
    assert not verify(secret, request.headers[SIGNATURE_HEADER], request.body + b" ", unix_now)
    assert not verify("whsec_other", request.headers[SIGNATURE_HEADER], request.body, unix_now)
    # Names and numbers never leave.
    for secret_text in (b"Gwenllian", b"Prys", booked.patient.phone.encode()):
        assert secret_text not in request.body
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DELIVERED,
        1,
        200,
    )
    # Another sweep finds nothing to send; a second "1" changes nothing and is no event.
    assert courier.round().claimed == 0
    reply(booked, "1", clock, sid="SM" + "2" * 32)
    assert len(events()) == 1
    assert len(receiver.received) == 1


def test_a_failing_receiver_is_retried_with_growing_delays(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CANCELLED, now=clock.now())
    receiver.answer(500, 503, 500)
    reply(booked, "2", clock)
    started = clock.now()
    courier.round()
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.PENDING,
        1,
        500,
    )
    assert delivery.due_at == started + timedelta(seconds=30)
    # Not due yet: nothing goes.
    clock.set(started + timedelta(seconds=29))
    assert courier.round().claimed == 0
    waited = timedelta(0)
    for attempt in (1, 2, 3):
        waited += retry_delay(attempt)
        clock.set(started + waited)
        assert courier.round().claimed == 1
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DELIVERED,
        4,
        200,
    )
    assert [r.event_id for r in receiver.received] == [receiver.deduplicated[0]] * 4
    assert retry_delay(1) < retry_delay(2) < retry_delay(3) < retry_delay(20)


def test_a_timeout_is_retried_and_the_receiver_deduplicates_on_the_event_id(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    """The first attempt arrives but its answer never comes back: the retry brings the
    same event (same id, same body) a second time, and the outbox counts one delivery."""
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    receiver.answer(HOLD)
    reply(booked, "1", clock)
    courier.round()
    [delivery] = deliveries()
    assert (delivery.state, delivery.last_status, delivery.last_error) == (
        DeliveryState.PENDING,
        None,
        "timeout",
    )
    clock.set(delivery.due_at)
    courier.round()
    first, second = receiver.received
    assert first.body == second.body
    assert first.event_id == second.event_id
    assert receiver.deduplicated == [first.event_id]
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)


def test_a_replayed_job_sends_nothing_twice(
    app: Flask, booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    reply(booked, "1", clock)
    [delivery_id] = outbox.claim_due_deliveries(clock.now())
    transport = Transport(2.0, 2.0)
    first = outbox.deliver(delivery_id, clock, transport, allow_loopback_http=True)
    again = outbox.deliver(delivery_id, clock, transport, allow_loopback_http=True)
    assert (first, again) == (DeliveryState.DELIVERED, None)
    assert len(receiver.received) == 1
    # A late answer of an older attempt cannot overwrite the row either.
    assert outbox.record_answer(delivery_id, 0, Answer(500, Reason.REFUSED), clock.now()) is None
    [delivery] = deliveries()
    assert delivery.state is DeliveryState.DELIVERED


def test_a_lost_job_and_a_dead_worker_lose_nothing(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    reply(booked, "1", clock)
    courier.sweep()
    courier.runtime.queue.connection.flushdb()  # Redis lost everything
    clock.set(clock.now() + outbox.STALE_CLAIM)
    assert courier.round().requeued == 1
    assert len(receiver.received) == 1
    [delivery] = deliveries()
    assert delivery.state is DeliveryState.DELIVERED


def test_410_gives_up_at_once(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    receiver.answer(410)
    reply(booked, "1", clock)
    courier.round()
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.FAILED,
        1,
        410,
    )


def test_a_receiver_that_never_recovers_fails_after_the_last_attempt(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    receiver.answer(*[500] * MAX_ATTEMPTS)
    reply(booked, "1", clock)
    for _attempt in range(MAX_ATTEMPTS):
        [delivery] = deliveries()
        assert delivery.state is DeliveryState.PENDING
        clock.set(delivery.due_at)
        courier.round()
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    assert len(receiver.received) == MAX_ATTEMPTS
    clock.set(clock.now() + timedelta(days=7))
    assert courier.round().claimed == 0


def test_a_worker_that_died_mid_call_is_released_and_retried(
    booked: Booked, receiver: Receiver, courier: Courier, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    reply(booked, "1", clock)
    [delivery_id] = outbox.claim_due_deliveries(clock.now())
    assert outbox._take(delivery_id, clock.now()) == 1  # the worker took it, then died
    db.session.commit()
    clock.set(clock.now() + outbox.STUCK_SENDING)
    report = courier.round()
    assert (report.released, report.claimed) == (1, 1)
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)
    assert len(receiver.received) == 1


def test_a_loopback_address_is_not_called_outside_development_and_tests(
    booked: Booked, receiver: Receiver, clock: FixedClock
) -> None:
    subscribe(booked.clinic, receiver.url, CONFIRMED, now=clock.now())
    reply(booked, "1", clock)
    [delivery_id] = outbox.claim_due_deliveries(clock.now())
    state = outbox.deliver(delivery_id, clock, Transport(), allow_loopback_http=False)
    assert state is DeliveryState.FAILED
    assert receiver.received == []
    [delivery] = deliveries()
    assert delivery.last_error == Reason.ADDRESS_REFUSED
