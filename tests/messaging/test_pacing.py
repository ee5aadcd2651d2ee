"""Pacing each sender: a token bucket per sender in Redis that every worker shares; a
message whose sender has no token goes back to wait, unsent and its attempt not counted,
and goes out once the bucket has refilled; a sender of a kind that is not paced waits
for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from redis import Redis

from app.core.clock import FixedClock
from app.core.senders import SenderKind
from app.messaging.pacing import Pacer
from app.messaging.states import MessageState
from tests.integration import (
    CLINIC_SENDER,
    PATIENT_A,
    PATIENT_B,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    running_harness,
)


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _pacer(redis_conn: Redis, clock: FixedClock, rate: float) -> Pacer:
    return Pacer(redis_conn, {SenderKind.LONG_CODE: rate}, now=lambda: clock.now().timestamp())


def test_the_bucket_gives_a_second_s_worth_then_says_how_long_to_wait(
    redis_conn: Redis, clock: FixedClock
) -> None:
    pacer = _pacer(redis_conn, clock, 2.0)
    assert [pacer.wait_for(CLINIC_SENDER) for _ in range(2)] == [0.0, 0.0]
    assert pacer.wait_for(CLINIC_SENDER) == pytest.approx(0.5)
    clock.advance(timedelta(seconds=0.5))
    assert pacer.wait_for(CLINIC_SENDER) == 0.0
    # Another sender has a bucket of its own; a Messaging Service is not paced here.
    assert pacer.wait_for("+442071838751") == 0.0
    assert all(pacer.wait_for("MG" + "b" * 32) == 0.0 for _ in range(10))


def test_a_message_without_a_token_waits_and_goes_out_once_it_has_one(
    h: Harness, redis_conn: Redis, clock: FixedClock
) -> None:
    clinic_id = h.add_clinic()
    for phone in (PATIENT_A, PATIENT_B):
        h.book(h.add_patient(clinic_id, phone), TOMORROW)
    h.runtime.pacer = _pacer(redis_conn, clock, 0.01)  # one message every 100 s
    h.advance_to(REMINDER_DUE)
    first, second = sorted(h.outbox(kind="reminder"), key=lambda m: m.state.value)
    assert (first.state, first.attempts) == (MessageState.DELIVERED, 1)
    assert (second.state, second.attempts) == (MessageState.PENDING, 0)
    assert second.due_at == REMINDER_DUE + timedelta(seconds=100)
    assert len(h.sim.ledger) == 1
    h.advance_to(REMINDER_DUE + timedelta(seconds=100))
    assert {m.state for m in h.outbox(kind="reminder")} == {MessageState.DELIVERED}
    assert (len(h.sim.ledger), h.sim.duplicate_sends()) == (2, 0)
