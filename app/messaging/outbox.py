"""The outbox: planning messages and withdrawing those not yet handed to a sender.

Planning (reminders, survey invitations) writes rows here; the clock's sweep claims them
when they fall due. Only rows still open (pending or claimed) are ever withdrawn:
nothing already handed to the provider is touched. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update

from app.core.channels import Channel
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import OPEN_STATES, MessageState


def plan_message(
    *,
    clinic_id: int,
    patient_id: int,
    appointment_id: int | None,
    kind: MessageKind,
    channel: Channel,
    due_at: datetime,
    expires_at: datetime,
    now: datetime,
    rule: str = "",
    plan_version: int = 1,
    flush: bool = True,
) -> OutboundMessage:
    """Add a pending message, composed when it is sent. Flushes, so it has an id, unless
    told not to (`flush=False`: a caller planning many flushes once)."""
    message = OutboundMessage(
        clinic_id=clinic_id,
        patient_id=patient_id,
        appointment_id=appointment_id,
        kind=kind,
        rule=rule,
        plan_version=plan_version,
        channel=channel,
        state=MessageState.PENDING,
        due_at=due_at,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    db.session.add(message)
    if flush:
        db.session.flush()
    return message


def planned_rules(appointment_id: int, kind: MessageKind, plan_version: int) -> set[str]:
    """The rules already planned for this appointment, kind and plan version."""
    return set(
        db.session.scalars(
            select(OutboundMessage.rule).where(
                OutboundMessage.appointment_id == appointment_id,
                OutboundMessage.kind == kind,
                OutboundMessage.plan_version == plan_version,
            )
        )
    )


def withdraw_open(
    appointment_ids: Collection[int], kinds: Collection[MessageKind], now: datetime
) -> int:
    """Cancel the appointments' messages of `kinds` not yet handed to a sender, in one
    statement; returns how many."""
    if not appointment_ids:
        return 0
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.appointment_id.in_(list(appointment_ids)),
            OutboundMessage.kind.in_(list(kinds)),
            OutboundMessage.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def has_message(appointment_id: int, kind: MessageKind) -> bool:
    """Whether the appointment has (or had) a message of `kind` in any state."""
    return (
        db.session.scalar(
            select(OutboundMessage.id)
            .where(OutboundMessage.appointment_id == appointment_id, OutboundMessage.kind == kind)
            .limit(1)
        )
        is not None
    )
