"""A board report asked for in the workspace: what it covers, how far it has got, and the
PDF once it is made."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clinics.models import Organisation
from app.db import Base, state_enum


class ReportState(enum.StrEnum):
    QUEUED = "queued"  # asked for; waiting for a worker
    RUNNING = "running"  # a worker is laying it out
    READY = "ready"  # made: the PDF is stored
    FAILED = "failed"  # could not be made: `error` says why, in words for staff


#: States a run never leaves.
FINISHED = frozenset({ReportState.READY, ReportState.FAILED})


class BoardReportRun(Base):
    """One board report asked for by one staff member, for one organisation and month.

    `reach` holds the ids of the clinics each area may show, fixed when it was asked for
    (from the staff member's roles then): {"attendance": [...], "results": [...],
    "experiments": [...], "whole_organisation_results": bool}. Only who asked for it may
    see it or download it.
    """

    __tablename__ = "board_report_runs"
    __table_args__ = (Index("ix_board_report_runs_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    #: The first day of the month reported.
    month: Mapped[date] = mapped_column(Date)
    #: The language it is written in ("en" or "cy").
    locale: Mapped[str] = mapped_column(String(8))
    reach: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[ReportState] = mapped_column(
        state_enum(ReportState, 16), default=ReportState.QUEUED
    )
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_bytes: Mapped[int | None]
    #: Why it could not be made (never personal data: the figures have none).
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
