"""The clock's periodic work: expire, claim and queue; recover what Redis lost.

Each sweep reads the database, which is the record; Redis only wakes workers. A lost
Redis therefore loses nothing: claimed rows with no job and received replies with no
job are queued again once they look stale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from app.core.clock import Clock
from app.extensions import db
from app.messaging import dispatcher
from app.messaging.inbox import reply_group
from app.messaging.models import InboundMessage
from app.messaging.states import InboundState
from app.queueing import JobName, JobQueue

log = logging.getLogger(__name__)
INBOUND_STALE = timedelta(seconds=30)
#: Batches claimed in one sweep at most: 20,000 messages with the default batch, more
#: than the workers send before the next sweep, so that a million falling due at once
#: leaves the clock free to expire, recover and log in between.
MAX_CLAIM_BATCHES = 20
#: A claimed message whose send job has not started after this long is queued again.
CLAIM_STALE = timedelta(minutes=2)
#: A message in `sending` this long (its worker died mid-call: a live one gives up on
#: the provider within its read timeout) becomes UNKNOWN, for the reconciler to settle.
SENDING_STALE = timedelta(minutes=2)


def send_job_size(count: int) -> int:
    """Messages per send job, for `count` queued at once: 100 when much is due, so that
    each job's fixed cost (in Redis and the database) is shared by many messages; 25
    otherwise, so that every worker gets a share of a small sweep."""
    return 100 if count >= 800 else 25


@dataclass(frozen=True)
class SweepReport:
    expired: int
    claimed: int
    requeued: int
    inbound_requeued: int
    unknown: int
    #: Redis had lost its jobs: everything in flight was queued again.
    redis_reset: bool = False


def sweep(
    clock: Clock,
    queue: JobQueue,
    batch: int = 1000,
    *,
    claim_stale: timedelta = CLAIM_STALE,
    sending_stale: timedelta = SENDING_STALE,
    inbound_stale: timedelta = INBOUND_STALE,
) -> SweepReport:
    """One pass of the clock. Safe to run at any time, any number of times.

    When Redis has lost its jobs (`JobQueue.lost_its_jobs`: restarted without
    persistence, flushed), every claimed message and every received reply is queued
    again at once rather than after the stale thresholds: sending resumes with the
    first sweep after Redis is back.
    """
    now = clock.now()
    lost = queue.lost_its_jobs()
    expired = dispatcher.expire_overdue(now)
    if lost:
        stale = dispatcher.stale_claims(now, timedelta(0))
    else:
        waiting = queue.oldest_waiting(JobName.SEND_MESSAGES)
        stale = dispatcher.stale_claims(now, claim_stale, still_queued_from=waiting)
    db.session.commit()
    requeued = queue.enqueue_batches(
        JobName.SEND_MESSAGES, stale, send_job_size(len(stale)), queued_at=now
    )
    claimed = 0
    for _ in range(MAX_CLAIM_BATCHES):  # the rest waits for the next sweep
        ids = dispatcher.claim_due_messages(now, batch)
        claimed += queue.enqueue_batches(
            JobName.SEND_MESSAGES, ids, send_job_size(len(ids)), queued_at=now
        )
        if len(ids) < batch:
            break
    unknown = dispatcher.mark_stuck_sending(now, sending_stale)
    waiting = None if lost else queue.oldest_waiting(JobName.PROCESS_INBOUND)
    stale_inbound = _stale_inbound(now, lost, inbound_stale, still_queued_from=waiting)
    db.session.commit()
    if lost:
        # Every reply waits: each group's routing job takes all of its group's at once.
        for group in sorted({reply_group(patient_id) for _, patient_id in stale_inbound}):
            queue.wake(JobName.ROUTE_REPLIES, group, queued_at=now)
        inbound = len(stale_inbound)
    else:
        # A few, whose job was lost (or whose group's job was killed): a job of their own.
        ids = [inbound_id for inbound_id, _ in stale_inbound]
        inbound = queue.enqueue_batches(JobName.PROCESS_INBOUND, ids, queued_at=now)
    report = SweepReport(expired, claimed, requeued, inbound, unknown, lost)
    if any(vars(report).values()):
        log.info("sweep: %s", report)
    return report


def _stale_inbound(
    now: datetime,
    lost: bool,
    stale: timedelta = INBOUND_STALE,
    still_queued_from: datetime | None = None,
) -> list[tuple[int, int | None]]:
    """Received replies (id, patient) whose job seems lost, to be queued again: older than
    `stale` and not queued again in the last `stale` (every one, when Redis
    lost its jobs). A reply last queued at or after `still_queued_from` (when the job at
    the head of the inbound queue was queued) may still have its job waiting, and is
    left alone. Marks them queued again now. Does not commit."""
    query = select(InboundMessage.id, InboundMessage.patient_id).where(
        InboundMessage.state == InboundState.RECEIVED
    )
    if not lost:
        query = query.where(
            InboundMessage.received_at <= now - stale,
            or_(
                InboundMessage.requeued_at.is_(None),
                InboundMessage.requeued_at <= now - stale,
            ),
        )
    if not lost and still_queued_from is not None:
        last_queued = func.coalesce(InboundMessage.requeued_at, InboundMessage.received_at)
        query = query.where(last_queued < still_queued_from)
    rows = [(row.id, row.patient_id) for row in db.session.execute(query)]
    ids = [inbound_id for inbound_id, _ in rows]
    if ids:
        db.session.execute(
            update(InboundMessage)
            .where(InboundMessage.id.in_(ids))
            .values(requeued_at=now)
            .execution_options(synchronize_session=False)
        )
    return rows
