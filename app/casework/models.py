"""What the worklist stores of its own: which items staff have handled, by whom and when."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum


class WorkKind(enum.StrEnum):
    """What a worklist item asks of staff; each names the table its record is in."""

    FLAGGED_REPLY = "flagged_reply"  # a reply not understood, or from a number no patient has
    REBOOK_REQUEST = "rebook_request"  # the patient asked for a new time; still booked
    CANCELLATION = "cancellation"  # the patient cancelled a slot starting within 72 hours
    OPT_OUT = "opt_out"  # the patient (or their carrier) stopped the clinic's messages
    FAILED_MESSAGE = "failed_message"  # a message that failed or was not delivered


class HandledItem(Base):
    """One worklist item marked handled: it leaves the open list for good.

    `record_id` is the id of the row the item is about: an inbound message, an
    appointment (rebook requests and cancellations), a consent event or an outbound
    message, as `kind` says.
    """

    __tablename__ = "handled_items"
    __table_args__ = (UniqueConstraint("kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    kind: Mapped[WorkKind] = mapped_column(state_enum(WorkKind, 24))
    record_id: Mapped[int]
    #: What the staff member did, in their words (may be empty).
    note: Mapped[str] = mapped_column(String(500), default="")
    handled_by_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    handled_at: Mapped[datetime]
