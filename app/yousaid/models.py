""" "You said, we did" entries and the quotes approved for the public page."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum


class EntryStatus(enum.StrEnum):
    PLANNED = "planned"  # the service has decided what to do, and has not started
    IN_PROGRESS = "in_progress"  # the change is being made
    DONE = "done"  # the change is made


class YouSaidEntry(Base):
    """What patients said and what the service did about it, for an organisation as a
    whole or one of its clinics. Shown on the public page as it is written."""

    __tablename__ = "you_said_entries"
    __table_args__ = (Index("ix_you_said_entries_org_clinic", "organisation_id", "clinic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: None for an entry about the organisation as a whole.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    #: "You said": a summary in staff's words, never a patient's own.
    said: Mapped[str] = mapped_column(Text)
    #: "We did": what the service changed or will change.
    did: Mapped[str] = mapped_column(Text)
    status: Mapped[EntryStatus] = mapped_column(state_enum(EntryStatus, 16))
    #: The themes (ids of the code-book) what patients said is about.
    theme_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: Approved quotes (PublishedQuote ids) that show what patients said.
    quote_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    started_on: Mapped[date | None]
    done_on: Mapped[date | None]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PublishedQuote(Base):
    """A free-text survey answer, masked, that a staff member approved for the public
    page. The masked text is kept as it was approved; it is shown only while the
    answer it came from still exists and its clinic's month had 10 or more respondents."""

    __tablename__ = "published_quotes"
    __table_args__ = (
        UniqueConstraint("comment_id"),
        Index("ix_published_quotes_clinic", "clinic_id", "withdrawn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("theme_comments.id"))
    #: The comment's words with personal data masked, as approved.
    text: Mapped[str] = mapped_column(Text)
    #: The language it was written in (a project locale).
    locale: Mapped[str] = mapped_column(String(16))
    #: "YYYY-MM" of the survey it answered.
    period: Mapped[str] = mapped_column(String(7))
    approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_at: Mapped[datetime]
    withdrawn_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    withdrawn_at: Mapped[datetime | None]
