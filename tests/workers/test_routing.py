"""Replies are routed by one job for all that wait, not a job each: the webhooks queue a
routing job only when none is queued or at work, and a reply that cannot be routed
stops only itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from app.core.clock import FixedClock
from app.messaging import inbox
from app.messaging.states import InboundState
from app.queueing import ROUTING_KEY, JobName, QueueName
from tests.integration import CLINIC_SENDER, PATIENT_A, TOMORROW, Harness, running_harness
from workers import jobs

PATIENTS = [f"+4474009{n:05d}" for n in range(12)]


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _inbound_jobs(h: Harness) -> list[str]:
    queue = h.runtime.queue.queue(QueueName.INBOUND)
    return [job.func_name for job in queue.get_jobs()]


def test_replies_that_arrive_together_share_one_routing_job(h: Harness) -> None:
    clinic_id = h.add_clinic()
    for phone in PATIENTS:
        h.add_patient(clinic_id, phone)
    for phone in PATIENTS:
        h.sim.inject_inbound(phone, CLINIC_SENDER, "hello")
    assert h.sim.flush()
    assert _inbound_jobs(h) == [JobName.ROUTE_WAITING.value]
    h.drain()
    assert {i.state for i in h.inbox()} == {InboundState.FLAGGED}  # routed, for staff
    assert len(h.inbox()) == len(PATIENTS)
    # The job cleared its mark: the next reply queues a job of its own.
    assert not h.runtime.queue.connection.exists(ROUTING_KEY)
    h.sim.inject_inbound(PATIENTS[0], CLINIC_SENDER, "again")
    assert h.sim.flush()
    assert _inbound_jobs(h) == [JobName.ROUTE_WAITING.value]


def test_a_job_reads_the_inbox_in_batches_and_answers_each_batch(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "ROUTE_BATCH", 5)
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = h.book(person, TOMORROW)
    for phone in PATIENTS[:11]:
        h.sim.inject_inbound(phone, CLINIC_SENDER, "who is this")
    h.sim.inject_inbound(PATIENT_A, CLINIC_SENDER, "1")
    assert h.sim.flush()
    h.drain()
    states = [i.state for i in h.inbox()]
    assert states.count(InboundState.FLAGGED) == 11  # unknown senders, for staff
    assert states.count(InboundState.PROCESSED) == 1
    assert h.appointment(appointment_id).confirmed_at is not None
    assert [m.kind for m in h.outbox(kind="confirmed")] == ["confirmed"]


def test_a_reply_that_cannot_be_routed_stops_only_itself(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic_id = h.add_clinic()
    for phone in PATIENTS[:3]:
        h.add_patient(clinic_id, phone)
    for phone in PATIENTS[:3]:
        h.sim.inject_inbound(phone, CLINIC_SENDER, "hello")
    assert h.sim.flush()
    [first, *_] = h.inbox()
    real = inbox.process_inbound

    def failing(inbound_id: int, clock: Any) -> Any:
        if inbound_id == first.id:
            raise RuntimeError("a routing fault")
        return real(inbound_id, clock)

    monkeypatch.setattr(jobs, "route_reply", failing)
    with h.app.app_context():
        assert jobs.route_waiting() == 2
    states = {i.id: i.state for i in h.inbox()}
    assert states.pop(first.id) is InboundState.RECEIVED  # left for the sweep
    assert set(states.values()) == {InboundState.FLAGGED}
