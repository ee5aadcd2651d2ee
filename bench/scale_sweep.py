"""The clock's sweep at scale, for `data_scale`: with a million reminders pending and
none due, one batch when they are due, and a whole sweep of what is due.

Each figure is a JSON line (`figure`: name, n, seconds, the machine's load average over
the last minute, and what else it needs). What the sweep claims is put back to pending
afterwards, as the seed left it, so that a reused database gives the same figures.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from plans import Recorder, print_plans
from seed_scale import NOW, line
from sqlalchemy import func, select, text

from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.dispatcher import claim_due_messages, expire_overdue
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.messaging.sweeps import send_job_size, sweep
from app.queueing import JobName, JobQueue, QueueName

BATCH = 1000
#: Claimed reminders back to pending, as the seed left them.
PUT_BACK = """UPDATE outbound_messages
   SET state = 'pending', claimed_at = NULL, updated_at = LEAST(due_at, created_at)
   WHERE state = 'claimed'"""
#: The expiry of open messages as bounded statements, each the :batch that expire
#: first, as the claim takes what is due: an ordered scan of the open messages' expiry
#: index that stops at once when none has expired, whatever the planner expects.
EXPIRE_IN_BATCHES = """UPDATE outbound_messages SET state = 'expired', updated_at = :now
   WHERE id IN (SELECT id FROM outbound_messages
                WHERE state IN ('pending', 'claimed') AND expires_at <= :now
                ORDER BY expires_at LIMIT :batch FOR UPDATE SKIP LOCKED)"""


def figure(name: str, n: int, seconds: float, **extra: Any) -> None:
    """One measurement as a JSON line, with the load average it was taken under."""
    line(name, n, seconds, load=round(os.getloadavg()[0], 1), **extra)


def median_seconds(
    run: Callable[[], Any], runs: int, between: Callable[[], Any] = lambda: None
) -> float:
    """The median wall time of `runs` calls of `run` after one to warm up; `between`
    runs untimed after each."""
    times: list[float] = []
    for index in range(runs + 1):
        started = time.perf_counter()
        run()
        if index:
            times.append(time.perf_counter() - started)
        between()
    return statistics.median(times)


def _put_back() -> None:
    """Every claimed reminder back to pending as the seed left it. Commits."""
    db.session.execute(text(PUT_BACK))
    db.session.commit()


def _expire_in_batches(now: Any) -> int:
    """EXPIRE_IN_BATCHES until a batch comes back short; rolled back (at the instant it
    is timed, nothing has expired). Returns how many it would have expired."""
    expired = 0
    while True:
        found = db.session.execute(text(EXPIRE_IN_BATCHES), {"now": now, "batch": BATCH})
        count = int(getattr(found, "rowcount", 0) or 0)
        expired += count
        if count < BATCH:
            break
    db.session.rollback()
    return expired


def _did(report: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(report).items() if value}


def measure_sweep(queue: JobQueue, runs: int, plans: bool) -> None:
    pending_state = OutboundMessage.state == MessageState.PENDING
    pending = db.session.scalar(select(func.count()).where(pending_state)) or 0
    first_due = db.session.scalar(select(func.min(OutboundMessage.due_at)).where(pending_state))
    db.session.commit()
    if first_due is None:
        figure("sweep_skipped", 0, 0.0, reason="no pending reminders: seed with --pending")
        return
    queue.lost_its_jobs()  # a first sweep would otherwise take Redis for freshly emptied
    before = FixedClock(first_due - timedelta(minutes=1))
    reports: list[Any] = []
    seconds = median_seconds(lambda: reports.append(sweep(before, queue, BATCH)), runs)
    at = before.now().isoformat()
    figure("sweep_idle", pending, seconds, did=_did(reports[-1]), at=at)
    seconds = median_seconds(lambda: expire_overdue(before.now()), runs)
    figure("sweep_expiry", pending, seconds, at=at)
    seconds = median_seconds(lambda: _expire_in_batches(before.now()), runs)
    figure("sweep_expiry_in_batches", pending, seconds, at=at)
    if plans:
        with Recorder(db.engine) as recorded:
            sweep(before, queue, BATCH)
            _expire_in_batches(before.now())
        print_plans(db.engine, "sweep_idle", recorded.statements)
    _claim(queue, runs, plans, pending)


def _claim(queue: JobQueue, runs: int, plans: bool, pending: int) -> None:
    at_now = FixedClock(NOW)
    claimed: list[list[int]] = []

    def one_batch() -> None:
        ids = claim_due_messages(at_now.now(), BATCH)
        queue.enqueue_batches(JobName.SEND_MESSAGES, ids, send_job_size(len(ids)))
        claimed.append(ids)

    # Each run claims the next batch (new rows, as a sweep does), then all go back.
    seconds = median_seconds(one_batch, runs)
    at = at_now.now().isoformat()
    figure("sweep_batch", len(claimed[-1]), seconds, pending=pending, at=at)
    if plans:
        with Recorder(db.engine) as recorded:
            one_batch()
        print_plans(db.engine, "sweep_batch", recorded.statements)
    _put_back()
    queue.queue(QueueName.SEND).empty()

    started = time.perf_counter()
    report = sweep(at_now, queue, BATCH)
    seconds = time.perf_counter() - started
    batches = -(-report.claimed // BATCH)
    figure("sweep_due", report.claimed, seconds, batches=batches, pending=pending)
    _put_back()
    queue.queue(QueueName.SEND).empty()
