"""RQ jobs: ids in, one service call each. Nothing here holds personal data."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

from flask import current_app

from app.core.channels import Channel
from app.events import outbox as event_outbox
from app.events.sender import Transport
from app.extensions import db
from app.messaging import reconcile as reconciler
from app.messaging import sending
from app.messaging.inbox import process_inbound as route_reply
from app.messaging.inbox import waiting_replies
from app.privacy import service as privacy
from app.queueing import JobName
from app.runtime import Runtime
from app.themes.training import train_organisation
from app.uploads import service as uploads
from app.uploads.progress import ProgressBoard
from app.web.board_report import make_requested_report
from workers.worker import job_context

log = logging.getLogger(__name__)
INBOUND_LOOKBACK = timedelta(hours=2)


def _send_each(runtime: Runtime, message_ids: tuple[int, ...]) -> list[str | None]:
    if not message_ids:
        return []
    settings = runtime.send_settings
    states = sending.send_batch(message_ids, runtime.clock, runtime.channels, settings)
    return [state.value if state else None for state in states]


def send_messages(*message_ids: int) -> list[str | None]:
    """Send each claimed outbound message at most once; one failure stops only itself."""
    with job_context() as runtime:
        return _send_each(runtime, message_ids)


def process_inbound(*inbound_ids: int) -> int:
    """Route stored replies, then send all their answers as one batch (they are already
    claimed); what was routed before a failure is still answered."""
    with job_context() as runtime:
        answers: list[int] = []
        try:
            for inbound_id in inbound_ids:
                answers += route_reply(inbound_id, runtime.clock).reply_ids
        finally:
            sent = len(_send_each(runtime, tuple(answers)))
        return sent


#: Replies a routing job takes from its group's inbox at a time; their answers go out
#: together once they are routed.
ROUTE_BATCH = 25
#: How long a routing job goes on before it queues its group's next job and ends, so
#: that other groups' jobs take their turn and a killed job loses little.
ROUTE_SECONDS = 5.0
#: Replies in a row whose routing failed after which the job gives up (the database is
#: away, say); the sweep queues what is left.
ROUTE_FAILURES = 3


def route_replies(group: int) -> int:
    """Route the replies waiting in `group` (`app.messaging.inbox.reply_group`), oldest
    first, a batch at a time, sending each batch's answers together; the job webhooks
    queue (`JobQueue.wake`), one for many replies. Returns how many it routed.

    A reply whose routing fails is left for the sweep, which queues it again once it is
    stale; the job goes on with the others, unless several fail in a row."""
    with job_context() as runtime:
        queue, job = runtime.queue, JobName.ROUTE_REPLIES
        seen: set[int] = set()
        failures = routed = 0
        last_look = False
        ends = time.monotonic() + ROUTE_SECONDS
        try:
            queue.keep_awake(job, group)  # at work: a death now holds the group briefly
            while True:
                ids = waiting_replies(group, ROUTE_BATCH, skip=seen)
                if not ids and last_look:
                    return routed
                if not ids:
                    # A reply stored from now on queues a new job; one stored before
                    # is found by this last look.
                    queue.let_sleep(job, group)
                    last_look = True
                    continue
                queue.keep_awake(job, group)
                last_look = False
                answers: list[int] = []
                try:
                    for inbound_id in ids:
                        seen.add(inbound_id)
                        try:
                            answers += route_reply(inbound_id, runtime.clock).reply_ids
                        except Exception:
                            db.session.rollback()
                            failures += 1
                            if failures >= ROUTE_FAILURES:
                                raise
                            log.exception("reply %s not routed; left for the sweep", inbound_id)
                        else:
                            failures = 0
                            routed += 1
                finally:
                    _send_each(runtime, tuple(answers))
                if time.monotonic() > ends:  # the group's next job goes on
                    queue.keep_awake(job, group)
                    queue.enqueue(job, group)
                    return routed
        except Exception:
            with contextlib.suppress(Exception):
                queue.let_sleep(job, group)  # the next reply queues a job again
            raise


def reconcile() -> dict[str, int]:
    """Settle unknown sends, poll missing statuses and import missed replies, per channel."""
    with job_context() as runtime:
        now = runtime.clock.now()
        totals: dict[str, int] = {}
        for name, outbox_channels in reconciler.RECONCILED.items():
            channel = runtime.channels.get(name)
            if channel is None:
                continue
            counts = reconciler.reconcile_unknown(now, channel, channels=outbox_channels)
            counts["polled"] = reconciler.poll_statuses(now, channel, channels=outbox_channels)
            if name is not Channel.VOICE:  # calls are not replies
                missed = reconciler.reconcile_inbound(
                    now, channel, now - INBOUND_LOOKBACK, channel_name=name
                )
                counts["inbound_imported"] = runtime.queue.enqueue_batches(
                    JobName.PROCESS_INBOUND, missed, queued_at=now
                )
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        return totals


def erase_at_provider(*erasure_ids: int) -> dict[str, int]:
    """Blank the provider's copies of an erased patient's messages, delete their calls."""
    with job_context() as runtime:
        return privacy.erase_at_provider(erasure_ids, runtime.channels, runtime.clock)


def import_file(run_id: int) -> str | None:
    """Import a file a staff member uploaded, reporting the rows done as it goes."""
    with job_context() as runtime:
        state = uploads.run_import(run_id, runtime.clock, ProgressBoard(runtime.queue.connection))
        return state.value if state is not None else None


def board_report(run_id: int) -> str | None:
    """Lay out a board report a staff member asked for, and store it."""
    with job_context() as runtime:
        state = make_requested_report(run_id, runtime.clock)
        return state.value if state is not None else None


def deliver_events(*delivery_ids: int) -> list[str | None]:
    """Make one attempt at each claimed event delivery (a webhook or the FHIR write-back)."""
    with job_context() as runtime:
        config = current_app.config
        connect, read = config.get("EVENT_TIMEOUTS", (3.0, 10.0))
        transport = Transport(float(connect), float(read))
        loopback = config.get("WESAID_ENV") in ("development", "test")
        states = [
            event_outbox.deliver(d, runtime.clock, transport, allow_loopback_http=loopback)
            for d in delivery_ids
        ]
        return [state.value if state else None for state in states]


def train_themes(organisation_id: int) -> int:
    """Train the organisation's theme model from its confirmed codes; its new version."""
    with job_context() as runtime:
        return train_organisation(organisation_id, runtime.clock.now()).version
