"""Goals that matter to the patient, their scores over time, the rounds of asking for
scores before appointments, and which pathways use goals."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.channels import Channel
from app.db import Base, state_enum


class CloseReason(enum.StrEnum):
    REACHED = "reached"  # the patient reached the goal
    CHANGED = "changed"  # the goal changed: a new one usually replaces it
    DROPPED = "dropped"  # no longer worked on


class ScoreSource(enum.StrEnum):
    REPLY = "reply"  # a text reply to the goal question
    KEYPAD = "keypad"  # a key pressed on a call (star is 10)
    WEB_FORM = "web_form"  # the goal form behind a signed link
    STAFF = "staff"  # recorded by the clinician with the patient


class RoundState(enum.StrEnum):
    OPEN = "open"  # a goal's question is waiting for its answer
    COMPLETED = "completed"  # every open goal was scored
    EXPIRED = "expired"  # the appointment came before every goal was scored
    OPTED_OUT = "opted_out"  # the patient replied STOP during the round
    UNDELIVERED = "undelivered"  # the question never reached them (sent on another channel)
    ERASED = "erased"  # the patient was erased: nothing more is asked


class Goal(Base):
    """One goal in the patient's own words. A patient has at most three open at a time;
    a closed goal keeps its scores."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_patient_closed_at", "patient_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    #: The goal as the patient put it; blanked on erasure.
    text: Mapped[str] = mapped_column(Text)
    #: The language `text` is written in (a project locale).
    text_locale: Mapped[str] = mapped_column(String(16))
    #: The clinician's English translation of a goal written in another language.
    translation_en: Mapped[str | None] = mapped_column(Text)
    #: Who recorded it: a staff member, or an API token.
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    opened_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[CloseReason | None] = mapped_column(state_enum(CloseReason, 16))
    closed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class GoalScore(Base):
    """How close the patient said they were to a goal, 0 (not at all) to 10 (reached)."""

    __tablename__ = "goal_scores"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_0_to_10"),
        # One score per goal and round: a repeated reply or form cannot score twice.
        UniqueConstraint("goal_id", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    score: Mapped[int]
    at: Mapped[datetime]
    #: How the score came: SMS, WhatsApp, voice, web; None when staff recorded it.
    channel: Mapped[Channel | None] = mapped_column(state_enum(Channel, 16))
    source: Mapped[ScoreSource] = mapped_column(state_enum(ScoreSource, 16))
    #: The round of asking before an appointment it answered; None for staff.
    round_id: Mapped[int | None] = mapped_column(ForeignKey("goal_rounds.id"), index=True)


class GoalRound(Base):
    """One round of asking a patient for their goals' scores before an appointment, one
    goal at a time, on one channel."""

    __tablename__ = "goal_rounds"
    __table_args__ = (
        Index("ix_goal_rounds_patient_state", "patient_id", "state"),
        Index("ix_goal_rounds_state_expires_at", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    #: The planned message that opened the round (its first question, link or call).
    message_id: Mapped[int] = mapped_column(ForeignKey("outbound_messages.id"), unique=True)
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16))
    locale: Mapped[str] = mapped_column(String(16))
    state: Mapped[RoundState] = mapped_column(state_enum(RoundState, 16), default=RoundState.OPEN)
    #: The goal whose question waits for an answer; None before the first and at the end.
    current_goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    #: When the current goal's question was asked (a later reminder owns the menu digits).
    asked_at: Mapped[datetime | None]
    #: How many times the current goal's question has been asked again.
    reasks: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime]
    #: Answers are taken until the appointment starts.
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class GoalPathway(Base):
    """A pathway of a clinic whose patients are asked for their goals' scores, and how
    long before each appointment."""

    __tablename__ = "goal_pathways"
    __table_args__ = (UniqueConstraint("clinic_id", "pathway"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    pathway: Mapped[str] = mapped_column(String(64))
    ask_hours_before: Mapped[int]
    created_at: Mapped[datetime]
