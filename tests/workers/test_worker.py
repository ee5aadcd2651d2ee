"""`wesaid worker` as the Procfile runs it: warm before the first job (every language's
catalogue and dates, the SDK's resources), jobs run in its own process, a due reminder
sent once through the real SDK to the simulator, and the forking mode still works."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from app.core.clock import FixedClock
from app.messaging import compose
from app.messaging.states import MessageState
from app.queueing import WORKER_QUEUES, QueueName
from tests.integration import PATIENT_A, REMINDER_DUE, TOMORROW, Harness, running_harness
from workers.worker import ForkingWorker, WarmWorker, run_worker, warm_up


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


@pytest.mark.parametrize("kind", [WarmWorker, ForkingWorker])
def test_a_worker_stops_listening_for_commands_at_once(
    redis_conn: Redis, kind: type[WarmWorker | ForkingWorker]
) -> None:
    # RQ's listener reads its channel with a 60-second timeout, and once unsubscribed it
    # waits up to 60 s to be subscribed again. Here the listener takes Redis's answer
    # to the unsubscribe before the worker goes on (a busy machine's order, which left
    # RQ alone waiting out the minute): the worker must still stop at once.
    worker = kind([Queue("default", connection=redis_conn)], connection=redis_conn)
    worker.subscribe()  # type: ignore[no-untyped-call]  # untyped in RQ
    pubsub, thread = worker.pubsub, worker.pubsub_thread
    assert pubsub is not None
    # Set when the listener has taken Redis's answer, or has ended without needing it.
    answered = threading.Event()
    handle: Any = pubsub.handle_message  # untyped in redis
    unsubscribe: Any = pubsub.unsubscribe
    close: Any = pubsub.close

    def handle_and_tell(response: Any, ignore_subscribe_messages: bool = False) -> Any:
        handled = handle(response, ignore_subscribe_messages)
        if not pubsub.subscribed:
            answered.set()
        return handled

    def close_and_tell() -> None:  # the listener closes the channel as it ends
        close()
        answered.set()

    def unsubscribe_and_wait(*channels: Any) -> None:
        unsubscribe(*channels)
        assert answered.wait(5), "the listener neither took the answer nor ended"

    pubsub.handle_message = handle_and_tell  # type: ignore[method-assign]
    pubsub.close = close_and_tell  # type: ignore[method-assign]
    pubsub.unsubscribe = unsubscribe_and_wait  # type: ignore[method-assign]
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 5
    assert not thread.is_alive()


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
