"""The retention purge's statements: blanking texts older than a cut-off. Nothing here
commits: `service.purge_old_text` holds each organisation's purge in one transaction,
under its lock. Each statement only touches texts that are still there, so running it
again finds nothing to do."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update

from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.patients import forgetting


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge_texts(clinic_ids: Sequence[int], cutoff: datetime) -> dict[str, int]:
    """Blank, in these clinics, message bodies sent and replies received before
    `cutoff`, and what the features registered as the patients' words (survey answers).
    Returns the counts."""
    return {
        "message_bodies": _blank_sent_before(clinic_ids, cutoff),
        "replies": _blank_received_before(clinic_ids, cutoff),
        **forgetting.purge_everywhere(clinic_ids, cutoff),
    }


def blank_unowned_replies(cutoff: datetime) -> int:
    """Blank replies that reached no clinic, received before `cutoff`."""
    result = db.session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.clinic_id.is_(None),
            InboundMessage.body.is_not(None),
            InboundMessage.received_at < cutoff,
        )
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


def _blank_sent_before(clinic_ids: Sequence[int], cutoff: datetime) -> int:
    if not clinic_ids:
        return 0
    sent_at = func.coalesce(OutboundMessage.sending_at, OutboundMessage.created_at)
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.clinic_id.in_(list(clinic_ids)),
            OutboundMessage.body.is_not(None),
            sent_at < cutoff,
        )
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


def _blank_received_before(clinic_ids: Sequence[int], cutoff: datetime) -> int:
    if not clinic_ids:
        return 0
    result = db.session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.clinic_id.in_(list(clinic_ids)),
            InboundMessage.body.is_not(None),
            InboundMessage.received_at < cutoff,
        )
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)
