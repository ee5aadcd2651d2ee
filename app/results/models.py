"""The results store: invitations (the cohort), pseudonymous responses, snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.channels import Channel
from app.db import Base, state_enum


class SurveyInvitation(Base):
    """One patient invited to one survey wave, with their weighting categories then.

    `respondent_key` is a keyed hash of the patient: the same person gets the same key
    within a clinic, and no one can turn it back into a patient without the key.
    """

    __tablename__ = "survey_invitations"
    __table_args__ = (
        # A snapshot's cohort: a clinic's, or an organisation's (or one of its services').
        Index("ix_survey_invitations_scope", "survey_slug", "clinic_id", "period"),
        Index(
            "ix_survey_invitations_organisation_scope",
            "survey_slug",
            "organisation_id",
            "period",
            "language",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Internal link for recording the response; never shown to analysts.
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id"), unique=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    survey_slug: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    pathway: Mapped[str | None] = mapped_column(String(64))
    #: "YYYY-MM" of the invitation, in the clinic's zone.
    period: Mapped[str] = mapped_column(String(7))
    respondent_key: Mapped[str] = mapped_column(String(64), index=True)
    age_band: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(8))
    ethnic: Mapped[str] = mapped_column(String(8))
    imd: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16))
    invited_at: Mapped[datetime]
    responded: Mapped[bool] = mapped_column(default=False)


class SurveyResponse(Base):
    """The answers of one invitation, keyed by question, without the patient's identity."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitations.id"), unique=True)
    respondent_key: Mapped[str] = mapped_column(String(64), index=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    #: question id → {"status": ..., "value": ...}; free text keeps its words and language.
    #: Binary JSON on PostgreSQL: a snapshot reads every question's status and value of
    #: every respondent in SQL, and text JSON would be parsed again for each of them.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    #: The Friends and Family Test answer's option key, when the survey has one.
    fft: Mapped[str | None] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(state_enum(Channel, 16))
    responded_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ResultSnapshot(Base):
    """Weighted results of one survey × scope × period. Never updated: a recomputation
    is a new version."""

    __tablename__ = "result_snapshots"
    __table_args__ = (
        # One version number per survey, place (a service's pathway included) and month.
        UniqueConstraint(
            "survey_slug",
            "scope",
            "scope_id",
            "scope_key",
            "period",
            "version",
            name="uq_result_snapshots_place_period_version",
        ),
        # The results pages ask what a place (a clinic, organisation or service) has.
        Index("ix_result_snapshots_place", "scope", "scope_id", "scope_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_slug: Mapped[str] = mapped_column(String(64))
    #: "clinic", "service" (a pathway within an organisation) or "organisation".
    scope: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[int]
    #: The pathway for a "service" scope; "" otherwise.
    scope_key: Mapped[str] = mapped_column(String(64), default="")
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int]
    method: Mapped[str] = mapped_column(String(64))
    #: Sizes, convergence, design effects, margins used and collapsed levels.
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Weighted and unweighted estimates, intervals, suppression marks.
    estimates: Mapped[dict[str, Any]] = mapped_column(JSON)
    nonresponse: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Every question's figures with the same weights (app.results.questions), in the
    #: survey's order; None in versions computed before questions were estimated.
    questions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: Each respondent's weight, for audit and re-use: {"invitations": [id, ...],
    #: "weights": [w, ...]} in the same order ({} without respondents). Versions written
    #: before 7 December 2026 hold {"inv-<id>": w}; `queries.respondent_weights` reads both.
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime]
