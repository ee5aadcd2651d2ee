"""The clock's periodic work: expire, claim and queue; recover what Redis lost.

Each sweep reads the database, which is the record; Redis only wakes workers. A lost
Redis therefore loses nothing: claimed rows with no job and received replies with no
job are queued again once they look stale.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

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
    inbound = _wake_waiting_replies(now, queue, lost, inbound_stale)
    report = SweepReport(expired, claimed, requeued, inbound, unknown, lost)
    if any(vars(report).values()):
        log.info("sweep: %s", report)
    return report


def _wake_waiting_replies(now: datetime, queue: JobQueue, lost: bool, stale: timedelta) -> int:
    """Wake the routing job of each group of patients (`JobQueue.wake`) whose replies
    seem forgotten: when Redis lost its jobs, every group with a reply waiting;
    otherwise each group with a reply older than `stale` (and not woken for it in the
    last `stale`) and no job queued or at work, its mark lapsed (the job's worker died,
    or the job was lost). A group whose job is queued or at work is left alone, however
    long its replies wait. Marks the woken groups' replies as queued again now, and
    commits; returns how many replies they hold."""
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
    groups: dict[int, list[int]] = defaultdict(list)
    for row in db.session.execute(query):
        groups[reply_group(row.patient_id)].append(row.id)
    db.session.commit()
    woken = [
        inbound_id
        for group, ids in sorted(groups.items())
        if queue.wake(JobName.ROUTE_REPLIES, group)
        for inbound_id in ids
    ]
    if woken:
        db.session.execute(
            update(InboundMessage)
            .where(InboundMessage.id.in_(woken))
            .values(requeued_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return len(woken)
