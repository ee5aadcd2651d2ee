"""Import runs: one uploaded file each, and the file itself until it is imported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum
from app.uploads.kinds import ImportKind, ImportState


class ImportRun(Base):
    """One file a staff member uploaded for one clinic, and what importing it did."""

    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_clinic_id_created_at", "clinic_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    #: The staff member who uploaded it.
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    kind: Mapped[ImportKind] = mapped_column(state_enum(ImportKind, 16))
    #: The file's name as uploaded (without any folder), shown to staff and in the report.
    file_name: Mapped[str] = mapped_column(String(120))
    file_bytes: Mapped[int]
    #: Import nothing if any row has a problem.
    strict: Mapped[bool]
    state: Mapped[ImportState] = mapped_column(
        state_enum(ImportState, 16), default=ImportState.QUEUED
    )
    #: Where the upload came from, for the audit event written when the import ends.
    address: Mapped[str | None] = mapped_column(String(64))
    #: Rows (or bundle entries) read from the file, once it has been read.
    rows_total: Mapped[int | None]
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    bad_rows: Mapped[int] = mapped_column(default=0)
    #: Bundle entries deliberately left out (proposed, waitlisted, ...).
    skipped: Mapped[int] = mapped_column(default=0)
    #: How many lines the report has.
    problems: Mapped[int] = mapped_column(default=0)
    #: The summary line, as the command line prints it.
    summary: Mapped[str] = mapped_column(String(200), default="")
    #: The report: one line per problem, as the command line prints them.
    report: Mapped[str] = mapped_column(Text, default="", deferred=True)
    #: Why a failed import wrote nothing (the file's problem), for staff to read.
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportUpload(Base):
    """An uploaded file waiting for its import; deleted when the import ends, so that
    patients' details are kept no longer than it takes to read them."""

    __tablename__ = "import_uploads"

    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
