"""RQ worker entry point, and the app the jobs run in.

The app is built once by the process that starts the worker (never at import time)
and bound here. `wesaid worker` runs the jobs in its own process (`WarmWorker`), so
what a job needs is loaded once per worker rather than once per job: the catalogues
and CLDR data of every language, the provider SDK's resources, a database connection
and a kept-alive HTTP connection to the provider. With `--fork` each job runs in a
child process instead (RQ's forking worker), for isolation at the cost of that warmth.

A worker outlives Redis going away: it waits and reconnects, and the clock's next sweep
queues again whatever Redis lost (`app.messaging.sweeps`). RQ's own loop gives up on
any error it meets outside a job (a Redis that came back empty no longer knows the job
it was finishing); the worker then starts that loop again rather than exit, so only a
stop request (SIGTERM, SIGINT) ends it. A worker that dies (SIGKILL,
out of memory) leaves its message in `claimed` or `sending`, which the sweep and the
reconciler settle; the process manager restarts it (see the README).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from flask import Flask
from redis.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker, Worker

from app import create_app, logs
from app.extensions import db
from app.messaging import compose
from app.runtime import Runtime, get_runtime
from workers.queues import WORKER_QUEUES, QueueName

_bound: dict[str, object] = {}


def bind(app: Flask) -> None:
    """Make `app` the app that jobs in this process run in."""
    _bound["app"] = app
    _bound["pid"] = os.getpid()


def bound_app() -> Flask:
    app = _bound.get("app")
    if app is None:
        app = create_app()
        bind(app)
    assert isinstance(app, Flask)
    return app


@contextmanager
def job_context() -> Iterator[Runtime]:
    """An app context for one job; a forked child gets its own database connections."""
    app = bound_app()
    with app.app_context():
        if _bound.get("pid") != os.getpid():
            db.engine.dispose(close=False)
            _bound["pid"] = os.getpid()
        try:
            yield get_runtime(app)
        finally:
            db.session.remove()


class InProcessWorker(SimpleWorker):
    """RQ's worker that runs jobs in its own process, without the command channel.

    A worker normally listens on a Redis pub/sub channel for commands (shutdown, kill a
    job) in a thread of its own, and stopping that thread waits, with no timeout, for a
    read that may block for up to a minute. Code that runs a worker in short bursts (the
    demo, the tests) sends it no commands, so it does without the channel.
    """

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


log = logging.getLogger(__name__)
#: The queues whose jobs a worker takes in turn, ahead of the others (`TakingTurns`).
TAKING_TURNS = frozenset({QueueName.INBOUND.value, QueueName.SEND.value})
#: Seconds between attempts to reach Redis again after it went away.
RECONNECT_SECONDS = 1.0


class TakingTurns:
    """Replies and sends take turns: after a job from one of TAKING_TURNS a worker looks
    first at the other, so that neither waits behind the other's backlog (a burst of
    replies, or the reminders a Redis restart queued again). The queues after them
    (reconcilers, imports) are still taken only when both are empty."""

    _ordered_queues: list[Queue]

    def reorder_queues(self, reference_queue: Queue) -> None:
        if reference_queue.name not in TAKING_TURNS:
            return
        turns = [q for q in self._ordered_queues if q.name in TAKING_TURNS]
        rest = [q for q in self._ordered_queues if q.name not in TAKING_TURNS]
        others = [q for q in turns if q.name != reference_queue.name]
        mine = [q for q in turns if q.name == reference_queue.name]
        self._ordered_queues = others + mine + rest


#: Seconds a stopping worker waits for its command listener to end: it ends as soon as
#: Redis answers the unsubscribe, so only an unreachable Redis makes this wait at all.
LISTENER_STOP_SECONDS = 5.0


class QuickToStop:
    """The command channel stopped without waiting out the listener's read.

    RQ listens for commands (shutdown, kill a job) in a thread that reads the channel
    with a 60-second timeout, and stops it by unsubscribing, then asking the thread to
    end and waiting for it: a thread already back in its read finishes only when the
    read times out, so a worker could take a minute to stop (at every shutdown, and at
    the end of every burst). Here the thread is asked to end first; Redis's answer to
    the unsubscribe then ends its read at once, and the thread closes the channel.
    """

    pubsub: PubSub | None
    pubsub_thread: Any  # typed None in RQ; a PubSubWorkerThread while subscribed

    def unsubscribe(self) -> None:
        thread, pubsub = self.pubsub_thread, self.pubsub
        if thread is None or pubsub is None:
            return
        try:
            thread.stop(timeout=0)  # redis 8.2 and later: stop() would wait
        except TypeError:  # before 8.2, stop() only asks the thread to end
            thread.stop()
        try:
            if thread.is_alive():  # its answer ends the listener's read
                pubsub.unsubscribe()  # type: ignore[no-untyped-call]  # untyped in redis
        finally:
            thread.join(LISTENER_STOP_SECONDS)
            if not thread.is_alive():
                # The listener closed the channel as it ended; closing again releases a
                # connection the unsubscribe opened if the listener had ended before it.
                pubsub.close()
            self.pubsub_thread = None


class WarmWorker(QuickToStop, TakingTurns, SimpleWorker):
    """RQ's worker that runs each job in its own process, which stays warm."""

    #: A stop was asked for (SIGTERM, SIGINT), as opposed to RQ's loop ending on an error.
    stop_asked = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # untyped in RQ


class ForkingWorker(QuickToStop, TakingTurns, Worker):
    """RQ's worker that runs each job in a child process (`wesaid worker --fork`)."""

    stop_asked = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # untyped in RQ


def warm_up(app: Flask) -> None:
    """Load now what every job would otherwise load: the catalogues and dates of every
    language, each channel's SDK resources, and a database connection."""
    started = time.monotonic()
    locales = compose.warm_up()
    runtime = get_runtime(app)
    for channel in runtime.channels.values():
        warm = getattr(channel, "warm_up", None)
        if callable(warm):
            warm()
    with app.app_context():
        db.session.execute(db.select(1))
        db.session.remove()
    log.info("worker warm: %s languages in %.2f s", locales, time.monotonic() - started)


def run_worker(app: Flask, *, burst: bool = False, fork: bool = False) -> None:
    """Run an RQ worker on the WeSaid queues until stopped (or empty, with burst),
    warm and in this process unless `fork`; through Redis going away and coming back."""
    if not app.config.get("REDIS_URL"):
        raise SystemExit(
            "REDIS_URL is not set: the embedded queue lives inside one process. "
            "Set REDIS_URL to run separate workers (the demo runs its own)."
        )
    bind(app)
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    runtime = get_runtime(app)
    if not fork:
        warm_up(app)
    kind: type[WarmWorker | ForkingWorker] = ForkingWorker if fork else WarmWorker
    while True:
        queues = [runtime.queue.queue(name) for name in WORKER_QUEUES]
        worker = kind(queues, connection=runtime.queue.connection)
        try:
            worker.work(burst=burst)
            if burst or worker.stop_asked:
                return
            log.warning(
                "the worker stopped on an error; starting again in %.0f s", RECONNECT_SECONDS
            )
        except (RedisConnectionError, RedisTimeoutError):
            log.warning("Redis is not answering; trying again in %.0f s", RECONNECT_SECONDS)
        time.sleep(RECONNECT_SECONDS)
