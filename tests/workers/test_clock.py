"""The clock process: its periodic work as data, and one round of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis

from app.core.clock import FixedClock
from app.messaging.states import MessageState
from app.queueing import QueueName
from tests.integration import PATIENT_A, REMINDER_DUE, TOMORROW, Harness, running_harness
from workers.clock import run_clock, schedule


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def test_the_schedule_names_every_periodic_task_once() -> None:
    tasks = schedule(5.0)
    names = [task.name for task in tasks]
    assert len(names) == len(set(names))
    assert {
        "sweep",
        "conversations",
        "reconcile",
        "results",
        "attendance",
        "retention",
        "provider erasures",
        "event deliveries",
        "idempotency keys",
        "statistics",
        "imports",
    } == set(names)
    by_name = {task.name: task.every_seconds for task in tasks}
    assert by_name["sweep"] == by_name["conversations"] == 5.0


def test_one_round_claims_due_reminders_and_queues_their_jobs(h: Harness) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    h.clock.set(REMINDER_DUE)
    run_clock(h.app, once=True)
    [reminder] = h.outbox(kind="reminder")
    assert reminder.state is MessageState.CLAIMED
    assert h.runtime.queue.queue(QueueName.SEND).count == 1
    h.drain()
    [reminder] = h.outbox(kind="reminder")
    assert reminder.state is MessageState.DELIVERED
