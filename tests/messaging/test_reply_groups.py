"""Replies are routed by groups of patients: a burst of webhooks queues one job a group,
and that job routes everything its group has waiting, answering a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from redis import Redis

from app.core.clock import FixedClock
from app.messaging.inbox import REPLY_GROUPS, reply_group
from app.messaging.states import InboundState
from app.queueing import JobName, JobQueue, QueueName
from tests.integration import (
    CLINIC_SENDER,
    PAST_STALE,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    Person,
    running_harness,
)
from workers import jobs

PHONES = [f"+4474001234{n:02d}" for n in range(10)]


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _reminded(h: Harness) -> list[Person]:
    """Ten patients booked for tomorrow, each sent their reminder."""
    clinic_id = h.add_clinic()
    people = [h.add_patient(clinic_id, phone) for phone in PHONES]
    for person in people:
        h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    return people


def _everyone_confirms(h: Harness) -> list[Person]:
    """The ten reminded patients each text "1"; no job runs yet."""
    people = _reminded(h)
    for person in people:
        _text_in(h, person.phone, "1")
    return people


def _text_in(h: Harness, phone: str, body: str) -> None:
    """The patient texts in and the webhook is posted, but no job runs."""
    h.sim.inject_inbound(phone, CLINIC_SENDER, body)
    assert h.sim.flush()


def test_a_burst_of_replies_queues_one_job_a_group_and_every_reply_is_answered(
    h: Harness,
) -> None:
    people = _everyone_confirms(h)
    inbound = h.runtime.queue.queue(QueueName.INBOUND)
    groups = {reply_group(person.id) for person in people}
    assert len(groups) == REPLY_GROUPS
    assert inbound.count == len(groups)  # ten webhooks, a job for each group
    assert {job.args for job in inbound.jobs} == {(group,) for group in groups}
    h.drain()
    assert [row.state for row in h.inbox()] == [InboundState.PROCESSED] * len(people)
    assert len(h.outbox(kind="confirmed")) == len(people)
    assert all(h.appointment(a.appointment_id).confirmed_at for a in h.outbox(kind="confirmed"))


@pytest.mark.storage
def test_a_job_that_runs_out_of_time_queues_its_group_again_and_keeps_the_order(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    [person, *_] = _reminded(h)
    for body in ("hello", "1", "thanks"):
        h.clock.advance(timedelta(seconds=10))
        _text_in(h, person.phone, body)
    group = reply_group(person.id)
    inbound = h.runtime.queue.queue(QueueName.INBOUND)
    assert [job.args for job in inbound.jobs] == [(group,)]
    inbound.empty()
    monkeypatch.setattr(jobs, "ROUTE_BATCH", 2)
    monkeypatch.setattr(jobs, "ROUTE_SECONDS", 0.0)
    h.clock.advance(timedelta(minutes=1))
    assert jobs.route_replies(group) == 2  # one batch, then the group's next job
    assert [job.args for job in inbound.jobs] == [(group,)]
    # Its reply is past the stale threshold, but the group's job is queued: left alone.
    h.clock.advance(timedelta(minutes=1))
    assert h.sweep().inbound_requeued == 0
    assert [row.state for row in h.inbox()] == [
        InboundState.FLAGGED,  # "hello": for staff
        InboundState.PROCESSED,
        InboundState.RECEIVED,
    ]
    h.drain()
    assert [row.state for row in h.inbox()][2] is not InboundState.RECEIVED
    assert len(h.outbox(kind="confirmed")) == 1


def test_a_reply_that_cannot_be_routed_is_left_for_the_sweep_and_the_rest_go_on(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = _reminded(h)
    same_group = [p for p in people if reply_group(p.id) == reply_group(people[0].id)]
    assert len(same_group) >= 2
    for person in same_group:
        _text_in(h, person.phone, "1")
    [broken, *_] = h.inbox()
    route = jobs.route_reply

    def failing(inbound_id: int, clock: FixedClock) -> object:
        if inbound_id == broken.id:
            raise RuntimeError("a handler failed")
        return route(inbound_id, clock)

    monkeypatch.setattr(jobs, "route_reply", failing)
    h.drain()  # the job itself succeeds
    states = {row.id: row.state for row in h.inbox()}
    assert states.pop(broken.id) is InboundState.RECEIVED
    assert set(states.values()) == {InboundState.PROCESSED}
    monkeypatch.setattr(jobs, "route_reply", route)
    report = h.advance(PAST_STALE)
    assert report.inbound_requeued == 1
    assert {row.state for row in h.inbox()} == {InboundState.PROCESSED}
    assert len(h.outbox(kind="confirmed")) == len(same_group)


def test_a_group_is_woken_once_until_its_job_looks_a_last_time(redis_conn: Redis) -> None:
    queue = JobQueue(redis_conn)
    inbound = queue.queue(QueueName.INBOUND)
    assert queue.wake(JobName.ROUTE_REPLIES, 1) is True
    assert queue.wake(JobName.ROUTE_REPLIES, 1) is False  # queued already
    assert queue.wake(JobName.ROUTE_REPLIES, 2) is True  # another group
    queue.let_sleep(JobName.ROUTE_REPLIES, 1)  # its job is about to look a last time
    assert queue.wake(JobName.ROUTE_REPLIES, 1) is True
    assert [job.args for job in inbound.jobs] == [(1,), (2,), (1,)]
    redis_conn.flushdb()  # Redis lost everything while the job was at work
    queue.keep_awake(JobName.ROUTE_REPLIES, 1)
    assert queue.wake(JobName.ROUTE_REPLIES, 1) is False


def test_once_redis_has_lost_its_jobs_each_group_with_replies_waiting_is_woken_once(
    h: Harness,
) -> None:
    people = _everyone_confirms(h)
    h.runtime.queue.connection.flushdb()  # Redis restarted empty: jobs and marks gone
    report = h.sweep()
    assert (report.redis_reset, report.inbound_requeued) == (True, len(people))
    inbound = h.runtime.queue.queue(QueueName.INBOUND)
    groups = sorted({reply_group(person.id) for person in people})
    assert sorted(job.args for job in inbound.jobs) == [(group,) for group in groups]
    h.drain()
    assert {row.state for row in h.inbox()} == {InboundState.PROCESSED}
    assert len(h.outbox(kind="confirmed")) == len(people)


def test_a_group_whose_job_was_lost_is_woken_again_once_its_mark_lapses(h: Harness) -> None:
    [person, *_] = _reminded(h)
    _text_in(h, person.phone, "1")
    inbound = h.runtime.queue.queue(QueueName.INBOUND)
    assert inbound.pop_job_id() is not None  # taken by a worker that died at once
    h.clock.advance(PAST_STALE)
    assert h.sweep().inbound_requeued == 0  # its mark says a job is at work
    h.runtime.queue.let_sleep(JobName.ROUTE_REPLIES, reply_group(person.id))  # it lapses
    assert h.sweep().inbound_requeued == 1
    assert h.sweep().inbound_requeued == 0  # woken once
    h.drain()
    assert [row.state for row in h.inbox()] == [InboundState.PROCESSED]
    assert len(h.outbox(kind="confirmed")) == 1
