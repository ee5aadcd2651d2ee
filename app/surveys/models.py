"""Survey versions, conversations (sessions) and answers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.channels import Channel
from app.db import Base, state_enum
from app.surveys.flow import AnswerStatus


class SurveyVersion(Base):
    """One version of a survey definition. A changed definition is a new version;
    every answer points at the version it answered."""

    __tablename__ = "survey_versions"
    __table_args__ = (
        UniqueConstraint("owner", "slug", "version"),
        UniqueConstraint("owner", "slug", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "builtin" for the Friends and Family Test, else "clinic:<id>".
    owner: Mapped[str] = mapped_column(String(40))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    #: SHA-256 of the canonical JSON of `definition`.
    digest: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class SessionState(enum.StrEnum):
    OPEN = "open"  # a question is waiting for an answer
    COMPLETED = "completed"  # every question on the patient's path was asked
    EXPIRED = "expired"  # no answer within the session lifetime
    OPTED_OUT = "opted_out"  # the patient replied STOP mid-survey
    UNDELIVERED = "undelivered"  # the invitation never reached the patient
    ERASED = "erased"  # the patient was erased: nothing more is asked


class SurveySession(Base):
    """One patient's conversation with one survey on one channel."""

    __tablename__ = "survey_sessions"
    __table_args__ = (
        Index("ix_survey_sessions_patient_state", "patient_id", "state"),
        Index("ix_survey_sessions_state_expires_at", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16))
    locale: Mapped[str] = mapped_column(String(16))
    state: Mapped[SessionState] = mapped_column(
        state_enum(SessionState, 16), default=SessionState.OPEN
    )
    #: The question waiting for an answer; None before the first is asked and at the end.
    current_question: Mapped[str | None] = mapped_column(String(40))
    #: How many times the current question has been asked again.
    reasks: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class SurveyAnswer(Base):
    """One answer (or skip, don't know, or unreadable reply) to one question."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("session_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id"), index=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    #: app.surveys.flow.AnswerStatus: answered, skipped, dont_know, unparsed.
    status: Mapped[AnswerStatus] = mapped_column(state_enum(AnswerStatus, 16))
    #: Option key, "yes"/"no", a number, or free text.
    value: Mapped[str | None] = mapped_column(Text)
    #: The patient's own words as sent, and the language they were asked in.
    raw_text: Mapped[str | None] = mapped_column(Text)
    raw_locale: Mapped[str] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16))
    answered_at: Mapped[datetime]
