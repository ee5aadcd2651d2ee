"""Reads about import runs, through the staff member's query scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from app.clinics.models import Clinic, StaffUser
from app.clinics.roles import Permission
from app.clinics.scope import StaffScope
from app.extensions import db
from app.uploads.models import ImportRun

#: The runs the list shows, newest first.
RECENT_RUNS = 50
#: The report lines a run's page shows; the download has them all.
SHOWN_LINES = 100
_CLINIC_ID = ImportRun.__table__.c.clinic_id
Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class ListedRun:
    """A run as the list shows it: with its clinic and who uploaded it."""

    run: ImportRun
    clinic: Clinic
    uploaded_by: str


def recent_runs(scope: StaffScope, limit: int = RECENT_RUNS) -> list[ListedRun]:
    """The latest runs of the clinics where `scope` may import, newest first."""
    query: Rows = (
        select(ImportRun, Clinic, StaffUser)
        .join(Clinic, Clinic.id == ImportRun.clinic_id)
        .join(StaffUser, StaffUser.id == ImportRun.user_id)
    )
    query = scope.restrict(query, _CLINIC_ID, Permission.IMPORT)
    rows = db.session.execute(
        query.order_by(ImportRun.created_at.desc(), ImportRun.id.desc()).limit(limit)
    )
    return [ListedRun(run, clinic, user.display_name) for run, clinic, user in rows]


def get_run(scope: StaffScope, run_id: int) -> ListedRun:
    """The run `run_id`, if it is of a clinic where `scope` may import; NotFound
    otherwise, whether or not it exists."""
    run = scope.get(ImportRun, run_id, Permission.IMPORT)
    clinic = db.session.get(Clinic, run.clinic_id)
    user = db.session.get(StaffUser, run.user_id)
    assert clinic is not None  # a foreign key
    assert user is not None  # a foreign key
    return ListedRun(run, clinic, user.display_name)


def report_lines(run: ImportRun, limit: int | None = SHOWN_LINES) -> list[str]:
    """The first `limit` lines of the run's report (all of them for None)."""
    if not run.report:
        return []
    lines = run.report.split("\n")
    return lines if limit is None else lines[:limit]
