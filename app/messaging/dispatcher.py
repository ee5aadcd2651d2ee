"""Claiming: the clock's side of sending. Never twice, never lost.

A row moves pending → claimed (by the clock's sweep) → sending (by the worker, just
before the provider call: `app.messaging.sending`) → accepted/failed/unknown/
pending-again. Every move is a conditional UPDATE on the expected state, so two
workers, a replayed job or a late sweep can never both send the same row. Here: the
claim, the expiry of what can no longer help, and the recovery of claims whose job was
lost and of sends a worker died in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update

from app.core.channels import Channel
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.pacing import Pacer
from app.messaging.registry import Outgoing
from app.messaging.states import MessageState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendSettings:
    public_base_url: str
    validity_seconds: int
    #: The app's SECRET_KEY, from which composers derive link signatures and pseudonyms.
    secret_key: str = ""
    #: Paces each sender to its kind's rate (None: nothing is paced).
    pacer: Pacer | None = None
    #: How long a batch may keep calling the provider. The whole batch is `sending`
    #: from its take, and the sweep takes a message `sending` for longer than its
    #: threshold for one whose worker died: the budget plus one read timeout must stay
    #: well under that threshold, or a live worker's messages could be resent.
    send_budget_seconds: float = 60.0


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def expire_overdue(now: datetime, batch: int = 1000) -> int:
    """Drop every open message that can no longer help, a batch at a time (each batch
    found through the index on open messages' expiry, so a sweep with nothing to expire
    reads nothing however large the outbox). Commits; returns how many."""
    open_states = [MessageState.PENDING, MessageState.CLAIMED]
    found = select(OutboundMessage.id).where(
        OutboundMessage.state.in_(open_states), OutboundMessage.expires_at <= now
    )
    # Looked for first: a sweep that finds nothing writes nothing (on SQLite it would
    # otherwise take the one write lock every few seconds for no change).
    if db.session.scalar(found.limit(1)) is None:
        db.session.commit()
        return 0
    overdue = (
        found.order_by(OutboundMessage.expires_at).limit(batch).with_for_update(skip_locked=True)
    )
    expired = 0
    while True:
        result = db.session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id.in_(overdue.scalar_subquery()),
                OutboundMessage.state.in_(open_states),
            )
            .values(state=MessageState.EXPIRED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        expired += _rows(result)
        if _rows(result) < batch:
            return expired


def claim_due_messages(now: datetime, limit: int = 1000) -> list[int]:
    """Claim up to `limit` due, unexpired pending messages, earliest due first; returns
    their ids. One statement and a commit.

    The candidates are locked with SKIP LOCKED on PostgreSQL, so two clocks (which
    should not exist, but may during a restart) never claim the same row; the claim
    itself is a compare-and-set on `pending` everywhere.
    """
    candidates = (
        select(OutboundMessage.id)
        .where(
            OutboundMessage.state == MessageState.PENDING,
            OutboundMessage.due_at <= now,
            OutboundMessage.expires_at > now,
        )
        .order_by(OutboundMessage.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = db.session.scalars(
        update(OutboundMessage)
        .where(
            OutboundMessage.id.in_(candidates.scalar_subquery()),
            OutboundMessage.state == MessageState.PENDING,
        )
        .values(state=MessageState.CLAIMED, claimed_at=now, updated_at=now)
        .returning(OutboundMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def outgoing(message_id: int) -> Outgoing:
    """Message `message_id` as its composer sees it."""
    return outgoing_from(db.session.execute(sql.load_for_send(), {"message_id": message_id}).one())


def outgoing_from(row: Any) -> Outgoing:
    """A message as its composer sees it, from a row of the send statements."""
    return Outgoing(
        message_id=row.id,
        kind=MessageKind(row.kind),
        channel=Channel(row.channel),
        patient_id=row.patient_id,
        clinic_id=row.clinic_id,
        appointment_id=row.appointment_id,
        patient_locale=row.locale,
        clinic_name=row.clinic_name,
        timezone=row.timezone,
        default_locale=row.default_locale,
    )


def stale_claims(
    now: datetime,
    older_than: timedelta = timedelta(minutes=2),
    still_queued_from: datetime | None = None,
) -> list[int]:
    """Claimed rows whose send job seems lost (Redis flushed, worker died before it
    started), to be queued again: their claim time moves to `now`, so a row is queued
    again at most once per `older_than` however often the clock sweeps. A row claimed
    at or after `still_queued_from` (when the job at the head of the send queue was
    queued) may still have its job waiting in that queue, and is left alone: a long
    queue is not a lost one. The send job's compare-and-set makes a second job for the
    same row harmless. Does not commit."""
    query = select(OutboundMessage.id).where(
        OutboundMessage.state == MessageState.CLAIMED,
        OutboundMessage.claimed_at <= now - older_than,
    )
    if still_queued_from is not None:
        query = query.where(OutboundMessage.claimed_at < still_queued_from)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.state == MessageState.CLAIMED)
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def mark_stuck_sending(now: datetime, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Rows left in `sending` by a worker that died mid-call become UNKNOWN. Commits."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            and_(
                OutboundMessage.state == MessageState.SENDING,
                OutboundMessage.sending_at <= now - older_than,
            )
        )
        .values(state=MessageState.UNKNOWN, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return _rows(result)
