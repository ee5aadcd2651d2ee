"""Provider status callbacks: a message's state moves forward only.

Callbacks arrive out of order, twice, or not at all. One conditional UPDATE applies
each, so callbacks that race each other are safe; the first error code is kept. A
failure that has a fallback channel queues the message again there (`fallback`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.core.channels import StatusUpdate
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.fallback import fall_back
from app.messaging.models import OutboundMessage
from app.messaging.registry import tell_failed
from app.messaging.states import MessageState, advanceable_from, state_for_provider_status

_UNREACHED = frozenset({MessageState.FAILED, MessageState.UNDELIVERED})


def status_callback_url(public_base_url: str, message_id: int) -> str:
    """Where the provider reports status; it carries our id, so a late callback finds
    the message even if the provider's sid was never saved."""
    return f"{public_base_url.rstrip('/')}/webhooks/twilio/status?m={message_id}"


def record_status(message_id: int | None, update: StatusUpdate, now: datetime) -> bool:
    """Apply a provider status. Moves only forward; keeps the first error code.

    Returns True if the state moved. One conditional UPDATE does it, so callbacks that
    arrive twice, late or out of order can race each other safely. A callback whose sid
    contradicts the one we stored is ignored.
    """
    new_state = state_for_provider_status(update.status)
    if new_state is None:
        return False
    by_id = message_id is not None
    params: dict[str, object] = {
        "message_id": message_id,
        "sid": update.provider_sid,
        "code": update.error_code,
        "new_state": new_state,
        "allowed": sorted(advanceable_from(update.status)),
        "now": now,
        "new_delivered_at": now if new_state is MessageState.DELIVERED else None,
    }
    moved = db.session.execute(sql.advance_status(by_id), params)
    changed = bool(getattr(moved, "rowcount", 0))
    if not changed and update.error_code:
        # A stale status may still carry the first error code we have not seen yet.
        db.session.execute(sql.keep_first_error(by_id), params)
    if changed and new_state in _UNREACHED:
        target = message_id
        if target is None:
            target = db.session.scalar(
                select(OutboundMessage.id).where(
                    OutboundMessage.provider_sid == update.provider_sid
                )
            )
        copy = fall_back(target, update.error_code, now) if target is not None else None
        if target is not None and copy is None:
            tell_failed(target, now)
    db.session.commit()
    return changed
