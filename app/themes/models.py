"""Themes: the code-book, the comments to code and their codes, each organisation's model,
and PALS contacts, complaints and compliments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum
from app.themes.pals import PalsKind


class CommentSource(enum.StrEnum):
    SURVEY = "survey"  # a free-text answer of a survey response
    PALS = "pals"  # the text of a PALS contact, complaint or compliment


class Theme(Base):
    """A code of the code-book: a subcategory of the framework (no organisation), or a
    code an organisation added for itself."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for the framework's own codes, shared by every organisation.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    #: As the framework publishes it, or as the organisation named its code.
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(120))
    #: The framework version a framework code comes from; None for an organisation's code.
    framework_version: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)


class ThemeModelVersion(Base):
    """An organisation's trained model, as plain arrays (app.themes.model), by version."""

    __tablename__ = "theme_models"
    __table_args__ = (UniqueConstraint("organisation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    version: Mapped[int]
    trained_at: Mapped[datetime]
    #: How many coded comments it learned from.
    comments: Mapped[int]
    #: Held-out macro-F1, sentiment accuracy, sizes (app.themes.model.train).
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class PalsContact(Base):
    """A PALS contact, complaint or compliment, imported from the organisation's records,
    with the contact's demographics (no identity)."""

    __tablename__ = "pals_contacts"
    __table_args__ = (
        UniqueConstraint("organisation_id", "row_key"),
        Index("ix_pals_contacts_org_date", "organisation_id", "contact_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: None when the contact is about the organisation as a whole.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    contact_date: Mapped[date]
    kind: Mapped[PalsKind] = mapped_column(state_enum(PalsKind, 16))
    text: Mapped[str | None] = mapped_column(Text)
    birth_year: Mapped[int | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    ethnic_category: Mapped[str | None] = mapped_column(String(1))
    imd_quintile: Mapped[int | None]
    #: A digest of the row's values and its occurrence in the file: importing the same
    #: file again changes nothing.
    row_key: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]


class ThemeComment(Base):
    """A comment to code (a free-text survey answer or a PALS text), what was suggested
    for it and, once a person has confirmed them, its codes and sentiment.

    The text itself stays where it was written (the survey response or the PALS
    contact), so retention and erasure reach it there.
    """

    __tablename__ = "theme_comments"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        UniqueConstraint("pals_contact_id"),
        Index("ix_theme_comments_queue", "organisation_id", "confirmed_at", "id"),
        CheckConstraint("sentiment IS NULL OR sentiment BETWEEN 1 AND 5", name="sentiment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    source: Mapped[CommentSource] = mapped_column(state_enum(CommentSource, 16))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"))
    question_id: Mapped[str | None] = mapped_column(String(40))
    pals_contact_id: Mapped[int | None] = mapped_column(ForeignKey("pals_contacts.id"))
    #: "YYYY-MM" the comment belongs to (the survey's period, the contact's month).
    period: Mapped[str] = mapped_column(String(7))
    #: The language it was written in (a project locale).
    locale: Mapped[str] = mapped_column(String(16))
    collected_at: Mapped[datetime]
    #: [{"theme_id": ..., "score": ...}], best first: the themes to pre-tick.
    suggested: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    suggested_sentiment: Mapped[int | None]
    #: "keywords" or "model:<version>".
    suggested_by: Mapped[str | None] = mapped_column(String(32))
    #: 1 (very positive) to 5 (very negative), as confirmed.
    sentiment: Mapped[int | None]
    #: The staff member who confirmed the codes; None for codes that came with an import.
    confirmed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    confirmed_at: Mapped[datetime | None]


class ThemeCode(Base):
    """One confirmed theme of one comment."""

    __tablename__ = "theme_codes"

    comment_id: Mapped[int] = mapped_column(ForeignKey("theme_comments.id"), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), primary_key=True, index=True)
