"""The provider's copies still to be erased: one row per message or call that Twilio
keeps for an erased patient. The database is the record; a job only wakes the worker,
so a lost queue loses nothing (the clock queues due rows again)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.channels import Channel
from app.db import Base, state_enum


class ErasureKind(enum.StrEnum):
    MESSAGE = "message"  # delete a message, sent or received, with its numbers
    CALL = "call"  # delete the record of a call


class ErasureState(enum.StrEnum):
    PENDING = "pending"  # still to do, at or after `next_attempt_at`
    DONE = "done"  # the provider holds no text (or no record) any more
    ABANDONED = "abandoned"  # refused too many times: for an operator to look at


class ProviderErasure(Base):
    """One message or call whose copy at the provider must be erased. Holds the
    provider's sid (an id, not personal data) and nothing about the patient but its id."""

    __tablename__ = "provider_erasures"
    __table_args__ = (
        UniqueConstraint("provider_sid", "kind"),
        Index("ix_provider_erasures_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[ErasureKind] = mapped_column(state_enum(ErasureKind, 16))
    #: The channel whose provider plug-in erases it (sms, whatsapp or voice).
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16))
    provider_sid: Mapped[str] = mapped_column(String(64))
    state: Mapped[ErasureState] = mapped_column(
        state_enum(ErasureState, 16), default=ErasureState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    #: The last outcome that was not final ("not_yet", "failed"), for operators.
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
