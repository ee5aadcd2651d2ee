"""`wesaid worker` as the Procfile runs it: warm before the first job (every language's
catalogue and dates, the SDK's resources), jobs run in its own process, a due reminder
sent once through the real SDK to the simulator, and the forking mode still works."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from app.core.clock import FixedClock
from app.messaging import compose
from app.messaging.states import MessageState
from app.queueing import WORKER_QUEUES, QueueName
from tests.integration import PATIENT_A, REMINDER_DUE, TOMORROW, Harness, running_harness
from workers.worker import WarmWorker, run_worker, warm_up


@pytest.fixture(autouse=True)
def _loggers_as_they_were() -> Iterator[None]:
    """The worker configures the process's logging; the next test gets it back."""
    yield
    for name in ("app", "workers"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [found for found in logger.handlers if found.get_name() != "wesaid"]
        logger.propagate = True


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def test_warm_up_loads_every_language_and_the_sdk(h: Harness) -> None:
    compose.catalogue.cache_clear()
    warm_up(h.app)
    languages = compose.catalogue_locales()
    assert len(languages) >= 14
    assert compose.catalogue.cache_info().currsize == len(languages)
    assert SimpleWorker in WarmWorker.__mro__  # jobs in this process


@pytest.mark.parametrize("fork", [False, True])
def test_the_worker_sends_a_due_reminder_once(h: Harness, fork: bool) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    h.clock.set(REMINDER_DUE)
    assert h.sweep().claimed == 1
    run_worker(h.app, burst=True, fork=fork)
    assert h.sim.flush()
    [reminder] = h.outbox(kind="reminder")
    assert reminder.state in (MessageState.ACCEPTED, MessageState.DELIVERED)
    assert (h.creates(PATIENT_A), h.sim.duplicate_sends()) == (1, 0)
    h.clock.set(REMINDER_DUE + timedelta(minutes=5))
    assert h.sweep().requeued == 0


TAKEN: list[str] = []


def take(tag: str) -> None:
    """A job that notes when it ran."""
    TAKEN.append(tag)


class _Unsubscribed(WarmWorker):
    """The production worker without its command channel, which a burst does not need."""

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


def test_replies_and_sends_take_turns_and_the_reconciler_waits_for_both(
    redis_conn: Redis,
) -> None:
    queues = {name: Queue(name.value, connection=redis_conn) for name in QueueName}
    queues[QueueName.MAINTENANCE].enqueue(take, "reconcile")
    for n in range(3):
        queues[QueueName.INBOUND].enqueue(take, f"reply {n}")
    for n in range(2):
        queues[QueueName.SEND].enqueue(take, f"send {n}")
    TAKEN.clear()
    worker = _Unsubscribed([queues[name] for name in WORKER_QUEUES], connection=redis_conn)
    worker.work(burst=True)
    assert TAKEN == ["reply 0", "send 0", "reply 1", "send 1", "reply 2", "reconcile"]
