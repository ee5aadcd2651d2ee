"""RQ worker entry point, and the app the jobs run in.

The app is built once by the process that starts the worker (never at import time)
and bound here; forked work horses inherit it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from rq import SimpleWorker, Worker, get_current_job

from app import create_app
from app.extensions import db
from app.runtime import Runtime, get_runtime
from workers.queues import WORKER_QUEUES

_bound: dict[str, object] = {}


class JobIdFilter(logging.Filter):
    """Stamps each log record with the current RQ job id (or "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job()
        record.job_id = job.id if job is not None else "-"
        return True


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


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [job %(job_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger("app")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """Run a forking RQ worker on the WeSaid queues until stopped (or empty, with burst)."""
    if not app.config.get("REDIS_URL"):
        raise SystemExit(
            "REDIS_URL is not set: the embedded queue lives inside one process. "
            "Set REDIS_URL to run separate workers (the demo runs its own)."
        )
    bind(app)
    _configure_logging()
    runtime = get_runtime(app)
    queues = [runtime.queue.queue(name) for name in WORKER_QUEUES]
    Worker(queues, connection=runtime.queue.connection).work(burst=burst)
