"""Reading the audit log: searching it, and exporting what a search found."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select

from app.audit.models import AuditAction, AuditEvent
from app.extensions import db

#: A page of search results.
PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditSearch:
    """What to look for; every part is optional."""

    organisation_ids: Sequence[int] | None = None
    user_id: int | None = None
    action: AuditAction | None = None
    record_type: str | None = None
    record_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(search: AuditSearch) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if search.organisation_ids is not None:
        # Sign-ins of staff carry no organisation: auditors of any organisation see those
        # of the users they can see through the user filter, not here.
        query = query.where(
            or_(
                AuditEvent.organisation_id.in_(list(search.organisation_ids)),
                AuditEvent.organisation_id.is_(None),
            )
        )
    if search.user_id is not None:
        query = query.where(AuditEvent.actor_user_id == search.user_id)
    if search.action is not None:
        query = query.where(AuditEvent.action == search.action)
    if search.record_type:
        query = query.where(AuditEvent.record_type == search.record_type)
    if search.since is not None:
        query = query.where(AuditEvent.at >= search.since)
    if search.until is not None:
        query = query.where(AuditEvent.at < search.until)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def search_events(search: AuditSearch, page: int = 0) -> list[AuditEvent]:
    """One page of the events matching `search`, newest first."""
    events = db.session.scalars(_query(search).offset(page * PAGE_SIZE).limit(PAGE_SIZE + 50))
    found = [e for e in events if search.record_id is None or search.record_id in e.record_ids]
    return found[:PAGE_SIZE]


def all_events(search: AuditSearch) -> Iterator[AuditEvent]:
    """Every event matching `search`, newest first, read in batches (for an export)."""
    for event in db.session.scalars(_query(search).execution_options(yield_per=500)):
        if search.record_id is None or search.record_id in event.record_ids:
            yield event
