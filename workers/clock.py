"""The clock process: periodic work declared as data, run by exactly one process.

Its state is all in the database, so it can be restarted anywhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from flask import Flask

from app import logs
from app.attendance.service import refresh_counts
from app.audit.service import SYSTEM
from app.clinics.idempotency import purge_expired
from app.db import refresh_statistics
from app.events.outbox import sweep_deliveries
from app.extensions import db
from app.goals.rounds import expire_rounds
from app.messaging.sweeps import CLAIM_STALE, INBOUND_STALE, SENDING_STALE, sweep
from app.privacy import service as privacy
from app.queueing import JobName
from app.results.service import recompute_recent
from app.runtime import Runtime, get_runtime
from app.surveys.service import expire_sessions
from app.uploads.service import recover_runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    every_seconds: float
    run: Callable[[Runtime], object]


def _enqueue_reconcile(runtime: Runtime) -> None:
    runtime.queue.enqueue(JobName.RECONCILE)


def _recompute_results(runtime: Runtime) -> None:
    written = recompute_recent(runtime.clock.now())
    if written:
        log.info("results: %s new snapshot version(s)", written)


def _refresh_attendance(runtime: Runtime) -> None:
    refresh_counts({}, runtime.clock)


def _sweep(
    runtime: Runtime,
    claim_stale: timedelta,
    sending_stale: timedelta,
    inbound_stale: timedelta,
) -> None:
    sweep(
        runtime.clock,
        runtime.queue,
        claim_stale=claim_stale,
        sending_stale=sending_stale,
        inbound_stale=inbound_stale,
    )


def _sweep_deliveries(runtime: Runtime) -> None:
    sweep_deliveries(runtime.clock, runtime.queue)


def _expire_conversations(runtime: Runtime) -> None:
    expired = expire_sessions(runtime.clock.now())
    if expired:
        log.info("surveys: %s conversation(s) expired", expired)
    ended = expire_rounds(runtime.clock.now())
    if ended:
        log.info("goals: %s round(s) of questions ended", ended)


def _purge_old_text(runtime: Runtime) -> None:
    # Each organisation is locked while it is purged and what is blank stays blank, so
    # a second clock (or a second run) finds nothing left to do.
    for report in privacy.purge_old_text(runtime.clock, SYSTEM):
        if report.total:
            log.info("retention: organisation %s: %s", report.organisation_id, report.counts)


def _refresh_statistics(_runtime: Runtime) -> None:
    refresh_statistics(db.session)


def _purge_idempotency_keys(runtime: Runtime) -> None:
    purge_expired(runtime.clock.now())


def _erase_at_provider(runtime: Runtime) -> None:
    now = runtime.clock.now()
    privacy.settle_recent_erasures(now)
    runtime.queue.enqueue_batches(JobName.ERASE_AT_PROVIDER, privacy.due_erasures(now))


def _recover_imports(runtime: Runtime) -> None:
    found = recover_runs(runtime.clock, runtime.queue)
    if found.queued_again or found.stopped:
        log.info(
            "imports: %s run(s) queued again (their jobs were lost), %s stopped (past the "
            "time limit)",
            found.queued_again,
            found.stopped,
        )


def schedule(
    sweep_seconds: float,
    *,
    reconcile_seconds: float = 60.0,
    claim_stale: timedelta = CLAIM_STALE,
    sending_stale: timedelta = SENDING_STALE,
    inbound_stale: timedelta = INBOUND_STALE,
) -> tuple[Periodic, ...]:
    """The periodic work; the sweep's thresholds say when a claimed or a sending
    message is taken for lost (`app.messaging.sweeps`)."""
    return (
        Periodic(
            "sweep",
            sweep_seconds,
            partial(
                _sweep,
                claim_stale=claim_stale,
                sending_stale=sending_stale,
                inbound_stale=inbound_stale,
            ),
        ),
        # Event webhooks and the FHIR write-back due (first tries and retries).
        Periodic("event deliveries", sweep_seconds, _sweep_deliveries),
        Periodic("conversations", sweep_seconds, _expire_conversations),
        Periodic("reconcile", reconcile_seconds, _enqueue_reconcile),
        # Nightly in effect: a snapshot is rewritten only when its inputs changed.
        Periodic("results", 24 * 3600.0, _recompute_results),
        # Keeps the DNA reports' stored counts close to current, so a report rarely has
        # many late changes to catch up on.
        Periodic("attendance", 300.0, _refresh_attendance),
        # Nightly: message texts and free-text answers past their retention period.
        Periodic("retention", 24 * 3600.0, _purge_old_text),
        # The planner's statistics (SQLite keeps none by itself); at start, then hourly.
        Periodic("statistics", 3600.0, _refresh_statistics),
        # API idempotency keys past their 24 hours (a retry after that runs again anyway).
        Periodic("idempotency keys", 3600.0, _purge_idempotency_keys),
        # Provider copies of erased patients still to erase (a lost job is queued again).
        Periodic("provider erasures", 300.0, _erase_at_provider),
        # Uploads whose import job was lost, or whose worker died under them.
        Periodic("imports", 60.0, _recover_imports),
    )


def _thresholds(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "reconcile_seconds": float(config.get("RECONCILE_INTERVAL_SECONDS", 60.0)),
        "claim_stale": timedelta(seconds=float(config.get("CLAIM_STALE_SECONDS", 120.0))),
        "sending_stale": timedelta(seconds=float(config.get("SENDING_STALE_SECONDS", 120.0))),
        "inbound_stale": timedelta(seconds=float(config.get("INBOUND_STALE_SECONDS", 30.0))),
    }


def run_clock(app: Flask, *, once: bool = False) -> None:
    """Run the periodic work until interrupted (or one round with `once`)."""
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    runtime = get_runtime(app)
    plan = schedule(float(app.config["CLOCK_INTERVAL_SECONDS"]), **_thresholds(app.config))
    log.info("clock started: %s", ", ".join(f"{t.name} every {t.every_seconds:g} s" for t in plan))
    last_run: dict[str, float] = {}
    while True:
        started = time.monotonic()
        for task in plan:
            if once or started - last_run.get(task.name, float("-inf")) >= task.every_seconds:
                _run_one(app, runtime, task)
                last_run[task.name] = started
        if once:
            return
        time.sleep(max(0.2, min(t.every_seconds for t in plan) - (time.monotonic() - started)))


def _run_one(app: Flask, runtime: Runtime, task: Periodic) -> None:
    with app.app_context():
        try:
            task.run(runtime)
        except Exception:  # one failed round must not stop the clock
            log.exception("periodic task %s failed", task.name)
            db.session.rollback()
        finally:
            db.session.remove()
