"""Reading the audit log: searching it, and exporting what a search found.

A search made for a staff member carries what they may see (`organisation_ids`,
`clinic_ids`, `member_ids`), and the query itself keeps to it: no caller filters rows
afterwards, so a page always holds what it says and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, cast, exists, false, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from app.audit.models import AuditAction, AuditEvent
from app.extensions import db

#: A page of search results.
PAGE_SIZE = 100
#: The record type of events about staff accounts (sign-ins, passwords, second factors).
STAFF_USER = "staff_user"


@dataclass(frozen=True)
class AuditSearch:
    """What to look for, and whose events may be seen; every filter is optional.

    With `organisation_ids` None every event may be found (an operator at the command
    line). Given, only these are:
    - events of those organisations that name no clinic;
    - events of the clinics in `clinic_ids` (which must be clinics of those
      organisations), unless they name another organisation;
    - events that name neither (sign-ins, passwords, second factors) only when they
      concern a staff member in `member_ids`: done by them, or about their account.
    Never another organisation's events.
    """

    organisation_ids: Sequence[int] | None = None
    clinic_ids: Sequence[int] = ()
    member_ids: Sequence[int] = ()
    user_id: int | None = None
    action: AuditAction | None = None
    record_type: str | None = None
    record_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of a search, newest first."""

    events: list[AuditEvent]
    page: int
    has_next: bool


def _in(column: Any, values: Sequence[int]) -> ColumnElement[bool]:
    return column.in_(sorted(set(values))) if values else false()


def _visible(search: AuditSearch) -> ColumnElement[bool]:
    organisations = list(search.organisation_ids or ())
    own_organisation = _in(AuditEvent.organisation_id, organisations)
    concerns_member = or_(
        _in(AuditEvent.actor_user_id, search.member_ids),
        and_(
            AuditEvent.record_type == STAFF_USER,
            _in(AuditEvent.record_ids[0].as_integer(), search.member_ids),
        ),
    )
    return or_(
        and_(AuditEvent.clinic_id.is_(None), own_organisation),
        and_(
            _in(AuditEvent.clinic_id, search.clinic_ids),
            or_(AuditEvent.organisation_id.is_(None), own_organisation),
        ),
        and_(
            AuditEvent.organisation_id.is_(None),
            AuditEvent.clinic_id.is_(None),
            concerns_member,
        ),
    )


def _names_record(record_id: int) -> ColumnElement[bool]:
    """Whether an event's record ids include `record_id` (JSON containment)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(AuditEvent.record_ids, JSONB).contains([record_id])
    values = func.json_each(AuditEvent.record_ids).table_valued("value")
    return exists(select(values.c.value).where(values.c.value == record_id))


def _query(search: AuditSearch) -> Select[Any]:
    query = select(AuditEvent)
    if search.organisation_ids is not None:
        query = query.where(_visible(search))
    if search.user_id is not None:
        query = query.where(AuditEvent.actor_user_id == search.user_id)
    if search.action is not None:
        query = query.where(AuditEvent.action == search.action)
    if search.record_type:
        query = query.where(AuditEvent.record_type == search.record_type)
    if search.record_id is not None:
        query = query.where(_names_record(search.record_id))
    if search.since is not None:
        query = query.where(AuditEvent.at >= search.since)
    if search.until is not None:
        query = query.where(AuditEvent.at < search.until)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def search_page(search: AuditSearch, page: int = 0, size: int = PAGE_SIZE) -> AuditPage:
    """Page `page` (from 0) of the events matching `search`, newest first."""
    page = max(page, 0)
    found: list[AuditEvent] = list(
        db.session.scalars(_query(search).offset(page * size).limit(size + 1))
    )
    return AuditPage(found[:size], page, len(found) > size)


def search_events(search: AuditSearch, page: int = 0) -> list[AuditEvent]:
    """One page of the events matching `search`, newest first."""
    return search_page(search, page).events


def all_events(search: AuditSearch) -> Iterator[AuditEvent]:
    """Every event matching `search`, newest first, read in batches (for an export)."""
    found: Iterator[AuditEvent] = iter(
        db.session.scalars(_query(search).execution_options(yield_per=500))
    )
    yield from found


def record_types() -> list[str]:
    """Every record type the log has named, in order (for a search form)."""
    found = db.session.scalars(
        select(AuditEvent.record_type)
        .where(AuditEvent.record_type != "")
        .group_by(AuditEvent.record_type)
        .order_by(AuditEvent.record_type)
    )
    return list(found)


def count_events(search: AuditSearch) -> int:
    """How many events match `search`."""
    counted = select(func.count()).select_from(_query(search).order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)
