"""Writing the audit log. Every view of a patient's personal data, every change, export,
erasure, sign-in and failed sign-in is recorded, with ids and counts only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.audit.models import AuditAction, AuditEvent
from app.extensions import db


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where: a staff member, an API token, or neither (the
    system: the clock, a command run by an operator)."""

    user_id: int | None = None
    token_id: int | None = None
    address: str | None = None


SYSTEM = Actor()


def record(
    action: AuditAction,
    actor: Actor,
    now: datetime,
    *,
    record_type: str = "",
    record_ids: Sequence[int] = (),
    clinic_id: int | None = None,
    organisation_id: int | None = None,
    detail: Mapping[str, str | int | bool | None] | None = None,
) -> None:
    """Add an event to the audit log. Does not commit: it lands with what it records."""
    db.session.add(
        AuditEvent(
            at=now,
            action=action,
            actor_user_id=actor.user_id,
            actor_token_id=actor.token_id,
            organisation_id=organisation_id,
            clinic_id=clinic_id,
            record_type=record_type,
            record_ids=[int(value) for value in record_ids],
            address=(actor.address or "")[:64] or None,
            detail=dict(detail or {}),
        )
    )


def record_download(
    actor: Actor,
    now: datetime,
    *,
    record_type: str,
    record_ids: Sequence[int],
    organisation_id: int | None,
    detail: Mapping[str, str | int | bool | None],
) -> None:
    """Record a download (EXPORT) on its own and commit: a download changes nothing
    else, so its record lands whether or not the caller writes anything afterwards."""
    record(
        AuditAction.EXPORT,
        actor,
        now,
        record_type=record_type,
        record_ids=record_ids,
        organisation_id=organisation_id,
        detail=detail,
    )
    db.session.commit()
