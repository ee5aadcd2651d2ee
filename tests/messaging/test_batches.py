"""Sending in batches: what a send job costs the database does not grow with its size,
one bad message holds up only itself, and an outcome that a status callback overtook
keeps the callback's state.

End to end through the sweep, an RQ worker, the twilio SDK and the simulator, on the
test database (PostgreSQL in `make test`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import event, update

from app.core.channels import OutboundRequest, SendOutcome, SendResult
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging import preparing, sending
from app.messaging.channels.registry import twilio_settings
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.runtime import get_runtime
from tests.integration import (
    PAST_GRACE,
    PAST_STALE,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    running_harness,
)
from workers.jobs import send_messages
from workers.worker import bound_app

KILLED = 1


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        harness.sim.faults.callback_statuses = frozenset()  # the sending alone
        yield harness


def _reminders(h: Harness, count: int) -> list[int]:
    """`count` patients of one clinic, each booked for tomorrow: one reminder each."""
    clinic = h.add_clinic()
    for index in range(count):
        h.book(h.add_patient(clinic, f"+4474009{index:05d}"), TOMORROW)
    return [m.id for m in h.outbox(kind="reminder")]


def _statements_while(h: Harness, run: Any) -> Counter[str]:
    """Round trips to the database while `run` runs: statements (an executemany is one
    pipelined round trip) and commits."""
    trips: Counter[str] = Counter()

    def on_statement(*_args: Any) -> None:
        trips["statements"] += 1

    def on_commit(*_args: Any) -> None:
        trips["commits"] += 1

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(db.engine, "commit", on_commit)
    return trips


def _send_job_cost(h: Harness, count: int) -> Counter[str]:
    ids = _reminders(h, count)
    h.clock.set(REMINDER_DUE)
    h.sweep()  # claimed and queued: the clock's cost, not the job's
    trips = _statements_while(h, h.drain)
    assert {h.message(i).state for i in ids} == {MessageState.ACCEPTED}
    assert h.sim.duplicate_sends() == 0
    return trips


@pytest.mark.parametrize("count", [3, 20])
def test_a_send_job_costs_the_same_round_trips_whatever_its_size(h: Harness, count: int) -> None:
    """Take and read (with the consent and the composers' read-ahead), write the bodies,
    commit; record the outcomes, commit: the same few statements for 3 reminders or 20."""
    trips = _send_job_cost(h, count)
    # take, appointments, clinic wording, experiment wording, bodies; outcomes
    assert trips["statements"] <= 6
    assert trips["commits"] == 2


@pytest.mark.storage  # the embedded default takes and records differently
def test_one_message_that_cannot_be_composed_holds_up_only_itself(h: Harness) -> None:
    first, broken, last = _reminders(h, 3)
    h.clock.set(REMINDER_DUE)
    h.sweep()
    # The reminder loses its appointment (as a bug or a bad repair might leave it).
    db.session.execute(
        update(OutboundMessage).where(OutboundMessage.id == broken).values(appointment_id=None)
    )
    db.session.commit()
    with pytest.raises(AssertionError, match="has no appointment"):
        h.drain()
    db.session.expire_all()
    assert h.message(first).state is MessageState.ACCEPTED
    assert h.message(last).state is MessageState.ACCEPTED
    # Untouched: still claimed, for the clock to queue again once it is mended.
    assert h.message(broken).state is MessageState.CLAIMED
    assert len(h.sim.ledger) == 2


@pytest.mark.storage  # the embedded default takes and records differently
def test_an_outcome_overtaken_by_its_status_callback_keeps_the_callbacks_state(
    h: Harness,
) -> None:
    """The provider's "delivered" can be stored before the worker records that the
    request was accepted: the worker then only fills in the sid."""
    early, late = _reminders(h, 2)
    now = REMINDER_DUE
    db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_([early, late]))
        .values(state=MessageState.SENDING, sending_at=now, attempts=1)
    )
    db.session.execute(  # the callback came first, by id, before the sid was known
        update(OutboundMessage)
        .where(OutboundMessage.id == early)
        .values(state=MessageState.DELIVERED)
    )
    db.session.commit()
    accepted = [
        SendResult(SendOutcome.ACCEPTED, provider_sid=f"SM{'e' * 31}{n}", detail="queued")
        for n in (1, 2)
    ]
    claims = [
        sending.Claim(m.id, m.patient_id, m.clinic_id, 1, m.expires_at, m.kind, m.channel)
        for m in (h.message(early), h.message(late))
    ]
    states = sending._record(list(zip(claims, accepted, strict=True)), [], now)
    db.session.expire_all()
    assert states == {early: MessageState.DELIVERED, late: MessageState.ACCEPTED}
    assert (h.message(early).state, h.message(early).provider_sid) == (
        MessageState.DELIVERED,
        accepted[0].provider_sid,
    )
    assert (h.message(late).state, h.message(late).provider_sid) == (
        MessageState.ACCEPTED,
        accepted[1].provider_sid,
    )
    assert h.message(late).accepted_at == now


def test_a_batch_out_of_time_puts_the_rest_back_unsent(h: Harness) -> None:
    """A batch past its time budget (a slow provider) stops calling and puts the rest
    back, due now and with the attempt not counted, so that nothing it took grows old
    in `sending` (where the sweep would take it for lost while the worker sends it).
    With no budget at all each job still sends one."""
    ids = _reminders(h, 3)
    h.runtime.send_budget_seconds = 0.0
    h.clock.set(REMINDER_DUE)
    sent: list[int] = []
    for _ in ids:
        assert h.sweep().claimed == len(ids) - len(sent)  # one job takes all that are left
        h.drain()
        db.session.expire_all()
        accepted = [i for i in ids if h.message(i).state is MessageState.ACCEPTED]
        assert len(accepted) == len(sent) + 1
        waiting = [h.message(i) for i in ids if i not in accepted]
        assert {(m.state, m.attempts, m.due_at) for m in waiting} <= {
            (MessageState.PENDING, 0, REMINDER_DUE)
        }
        sent = accepted
    assert {h.message(i).attempts for i in ids} == {1}
    assert (len(h.sim.ledger), h.sim.duplicate_sends()) == (3, 0)


@pytest.mark.storage  # the embedded default composes before it takes
def test_a_message_cancelled_while_its_batch_is_composed_is_not_sent(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a batch is read and composed before its rows are taken, so that the
    one writer is held for the writing alone. A row cancelled in between is not taken:
    the batch starts again, taking first, and sends the others once each."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL takes the rows before it composes them")
    first, cancelled, last = _reminders(h, 3)
    h.clock.set(REMINDER_DUE)
    h.sweep()
    plan = preparing._plan
    composed: list[bool] = []

    def cancel_while_composing(*args: Any, taking: bool, **kwargs: Any) -> Any:
        result = plan(*args, taking=taking, **kwargs)
        composed.append(taking)
        if taking:  # another process cancels the reminder meanwhile
            with db.engine.begin() as other:
                other.execute(
                    update(OutboundMessage)
                    .where(OutboundMessage.id == cancelled)
                    .values(state=MessageState.CANCELLED)
                )
        return result

    monkeypatch.setattr(preparing, "_plan", cancel_while_composing)
    h.drain()
    db.session.expire_all()
    assert composed == [True, False]  # composed before taking, then again after
    assert [h.message(i).state for i in (first, cancelled, last)] == [
        MessageState.ACCEPTED,
        MessageState.CANCELLED,
        MessageState.ACCEPTED,
    ]
    assert [h.message(i).attempts for i in (first, cancelled, last)] == [1, 0, 1]
    assert (len(h.sim.ledger), h.sim.duplicate_sends()) == (2, 0)


class DiesOnSend:
    """The real SMS channel in a worker killed during its `die_on`-th provider call,
    once the provider has taken the request."""

    name = "sms"

    def __init__(self, real: TwilioSMSChannel, die_on: int) -> None:
        self._real = real
        self._left = die_on

    def send(self, request: OutboundRequest) -> SendResult:
        result = self._real.send(request)
        self._left -= 1
        if self._left == 0:
            os._exit(KILLED)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _die_in_batch(message_ids: list[int], die_on: int) -> None:
    app = bound_app()  # in the forked child: its own connections and Twilio client
    runtime = get_runtime(app)
    runtime.channels["sms"] = DiesOnSend(TwilioSMSChannel(twilio_settings(app.config)), die_on)
    send_messages(*message_ids)


@pytest.mark.storage  # the embedded default takes and records differently
def test_a_batch_whose_worker_dies_mid_way_is_settled_without_a_second_send(
    h: Harness,
) -> None:
    """Killed after the provider took the second of three: the batch is left in
    `sending`; the sweep marks it unknown and the reconciler adopts the two the provider
    has and puts back the one it never got, which the next sweep sends."""
    ids = _reminders(h, 3)
    h.clock.set(REMINDER_DUE)
    assert h.sweep().claimed == 3
    h.runtime.queue.connection.flushdb()  # the queued job goes to the dying worker instead
    child = multiprocessing.get_context("fork").Process(target=_die_in_batch, args=(ids, 2))
    child.start()
    child.join(timeout=20)
    assert child.exitcode == KILLED
    assert {h.message(i).state for i in ids} == {MessageState.SENDING}
    assert h.advance(PAST_STALE).unknown == 3
    h.clock.advance(PAST_GRACE)
    found = h.reconcile()
    h.advance(timedelta(seconds=1))  # the one put back goes with the next sweep
    db.session.expire_all()
    assert (found["adopted"], found["requeued"]) == (2, 1)
    # The adopted take the provider's own status; the one sent again was just accepted.
    states = [h.message(i).state for i in ids]
    assert sorted(states) == [MessageState.ACCEPTED, MessageState.DELIVERED, MessageState.DELIVERED]
    assert len({h.message(i).provider_sid for i in ids}) == 3
    assert (len(h.sim.ledger), h.sim.duplicate_sends()) == (3, 0)
