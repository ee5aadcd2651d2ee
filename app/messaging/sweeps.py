"""The clock's periodic work: expire, claim and queue; recover what Redis lost.

Each sweep reads the database, which is the record; Redis only wakes workers. A lost
Redis therefore loses nothing: claimed rows with no job and received replies with no
job are queued again once they look stale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.core.clock import Clock
from app.extensions import db
from app.messaging import dispatcher
from app.messaging.models import InboundMessage
from app.messaging.states import InboundState
from app.queueing import JobName, JobQueue

log = logging.getLogger(__name__)
INBOUND_STALE = timedelta(seconds=30)


@dataclass(frozen=True)
class SweepReport:
    expired: int
    claimed: int
    requeued: int
    inbound_requeued: int
    unknown: int


def sweep(clock: Clock, queue: JobQueue, batch: int = 1000) -> SweepReport:
    """One pass of the clock. Safe to run at any time, any number of times."""
    now = clock.now()
    expired = dispatcher.expire_overdue(now)
    claimed = 0
    while ids := dispatcher.claim_due_messages(now, batch):
        claimed += queue.enqueue_batches(JobName.SEND_MESSAGES, ids)
        if len(ids) < batch:
            break
    requeued = queue.enqueue_batches(JobName.SEND_MESSAGES, dispatcher.stale_claims(now))
    unknown = dispatcher.mark_stuck_sending(now)
    stale_inbound = list(
        db.session.scalars(
            select(InboundMessage.id).where(
                InboundMessage.state == InboundState.RECEIVED,
                InboundMessage.received_at <= now - INBOUND_STALE,
            )
        )
    )
    db.session.commit()
    inbound = queue.enqueue_batches(JobName.PROCESS_INBOUND, stale_inbound)
    report = SweepReport(expired, claimed, requeued, inbound, unknown)
    if any(vars(report).values()):
        log.info("sweep: %s", report)
    return report
