"""The outbox (every message that should go out) and the inbox (every reply)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.channels import Channel
from app.db import Base, state_enum
from app.messaging.kinds import MessageKind
from app.messaging.states import InboundState, MessageState


class OutboundMessage(Base):
    """One message to one patient. The database, not Redis, is the record of it."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        # One reminder per rule, plan version and channel: planning twice is a no-op
        # (a fallback to another channel is a second row).
        Index(
            "uq_outbound_messages_reminder_plan",
            "appointment_id",
            "rule",
            "plan_version",
            "channel",
            unique=True,
            postgresql_where=text("kind = 'reminder'"),
            sqlite_where=text("kind = 'reminder'"),
        ),
        # One survey invitation per appointment and channel (a fallback uses another).
        Index(
            "uq_outbound_messages_survey_invite",
            "appointment_id",
            "channel",
            unique=True,
            postgresql_where=text("kind = 'survey_invite'"),
            sqlite_where=text("kind = 'survey_invite'"),
        ),
        # One automatic answer per inbound message and kind. Partial: most messages
        # answer nothing, and a full index would hold (and rewrite at every change of
        # state) an entry for each of them.
        Index(
            "uq_outbound_messages_reply_to_kind",
            "reply_to_id",
            "kind",
            unique=True,
            postgresql_where=text("reply_to_id IS NOT NULL"),
            sqlite_where=text("reply_to_id IS NOT NULL"),
        ),
        Index("ix_outbound_messages_state_due_at", "state", "due_at"),
        # The provider's sid is the message's own once it is sent (none before).
        Index(
            "uq_outbound_messages_sent_provider_sid",
            "provider_sid",
            unique=True,
            postgresql_where=text("provider_sid IS NOT NULL"),
            sqlite_where=text("provider_sid IS NOT NULL"),
        ),
        # A conversation's messages; reminders (most rows) have none.
        Index(
            "ix_outbound_messages_survey_session_id",
            "survey_session_id",
            postgresql_where=text("survey_session_id IS NOT NULL"),
            sqlite_where=text("survey_session_id IS NOT NULL"),
        ),
        # Open messages by expiry, for the clock's sweep to find the few past their time
        # without reading every pending row (README, "Data at scale").
        Index(
            "ix_outbound_messages_open_expires_at",
            "expires_at",
            postgresql_where=text("state IN ('pending', 'claimed')"),
            sqlite_where=text("state IN ('pending', 'claimed')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    #: The survey conversation this message belongs to (invitation, question, thanks).
    survey_session_id: Mapped[int | None] = mapped_column(ForeignKey("survey_sessions.id"))
    #: The message this one replaces on another channel after a provider error.
    fallback_for_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    #: "reminder", "confirmation", "opt_out_ack", "opt_in_ack", "help", "menu_reask", ...
    kind: Mapped[MessageKind] = mapped_column(state_enum(MessageKind, 24))
    #: The reminder rule name ("7d", "1d"), or "" for other kinds.
    rule: Mapped[str] = mapped_column(String(24), default="")
    plan_version: Mapped[int] = mapped_column(default=1)
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16), default=Channel.SMS)
    state: Mapped[MessageState] = mapped_column(
        state_enum(MessageState, 16),
        default=MessageState.PENDING,
    )
    due_at: Mapped[datetime]
    #: Past this instant the message cannot help: it is dropped, never sent late.
    expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sending_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    #: The first provider error code seen; later ones never overwrite it.
    error_code: Mapped[int | None]
    locale: Mapped[str | None] = mapped_column(String(16))
    #: Composed at send time; purged after the retention period.
    body: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InboundMessage(Base):
    """One message a patient sent us, stored before anything else happens to it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_state_received_at", "state", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Twilio's MessageSid; a duplicate webhook finds it taken and does nothing.
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    #: Found from the number the message was sent to; None if no clinic owns it.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16), default=Channel.SMS)
    from_number: Mapped[str] = mapped_column(String(40))
    to_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str | None] = mapped_column(Text)
    state: Mapped[InboundState] = mapped_column(
        state_enum(InboundState, 16),
        default=InboundState.RECEIVED,
    )
    #: What the reply was understood as (app.core.parsing.Intent), once processed.
    intent: Mapped[str | None] = mapped_column(String(16))
    #: Why it was flagged for staff, if it was.
    flag_reason: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    #: When the clock last queued it again (its first job seemed lost).
    requeued_at: Mapped[datetime | None]


class TemplateOverride(Base):
    """A clinic's own wording of one template in one locale."""

    __tablename__ = "template_overrides"
    __table_args__ = (UniqueConstraint("clinic_id", "kind", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: A key of compose.TEMPLATES or texts.SURVEY_TEXTS.
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
