"""Commands on board reports asked for in the workspace: ask for one (stored, then queued
for a worker), mark it started, store its PDF or why it failed, and record each download.

A report covers many clinics and two years of charts, so it is laid out by a job rather
than in the web request; the job itself is composed above (`workers.jobs.board_report`),
because laying out is the workspace's own presentation. Only the run's id goes on the
queue. Each staff member keeps their latest `KEPT_PER_PERSON` reports: asking for another
removes the oldest finished ones.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from redis.exceptions import RedisError
from sqlalchemy import delete, select, update

from app.audit.service import Actor, record_download
from app.clinics.models import Organisation
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.queueing import JobName, JobQueue
from app.reports.models import FINISHED, BoardReportRun, ReportState

__all__ = [
    "KEPT_PER_PERSON",
    "ReportAreas",
    "fail_run",
    "find_run",
    "finish_run",
    "recent_runs",
    "record_report_download",
    "request_board_report",
    "start_run",
]

#: How many reports each staff member keeps.
KEPT_PER_PERSON = 10
#: Said when the job queue cannot take the report.
NOT_QUEUED = "The report could not be queued: the job queue is not answering. Try again later."


@dataclass(frozen=True)
class ReportAreas:
    """The clinics each area of a report may show, and whether results may be shown for
    the organisation as a whole."""

    attendance: Collection[int]
    results: Collection[int]
    experiments: Collection[int]
    whole_organisation_results: bool
    goals: Collection[int] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "attendance": sorted(self.attendance),
            "results": sorted(self.results),
            "experiments": sorted(self.experiments),
            "whole_organisation_results": self.whole_organisation_results,
            "goals": sorted(self.goals),
        }

    @classmethod
    def of(cls, run: BoardReportRun) -> ReportAreas:
        reach = run.reach
        return cls(
            attendance=[int(i) for i in reach.get("attendance", ())],
            results=[int(i) for i in reach.get("results", ())],
            experiments=[int(i) for i in reach.get("experiments", ())],
            whole_organisation_results=bool(reach.get("whole_organisation_results")),
            goals=[int(i) for i in reach.get("goals", ())],
        )


def request_board_report(
    organisation: Organisation,
    month: date,
    areas: ReportAreas,
    locale: str,
    *,
    actor: Actor,
    clock: Clock,
    queue: JobQueue,
) -> BoardReportRun:
    """Store a request for the organisation's report of the month holding `month` and
    queue it (job arguments: the run's id only); commits. Refuses (Invalid) an actor who
    is not a staff member. When the job cannot be queued, the run fails at once rather
    than wait for ever. What the areas may cover is the caller's check (the staff scope)."""
    if actor.user_id is None:
        raise Invalid("a report needs a staff member")
    _forget_old(actor.user_id)
    run = BoardReportRun(
        organisation_id=organisation.id,
        user_id=actor.user_id,
        month=month.replace(day=1),
        locale=locale,
        reach=areas.as_json(),
        state=ReportState.QUEUED,
        created_at=clock.now(),
    )
    db.session.add(run)
    db.session.commit()
    try:
        queue.enqueue(JobName.BOARD_REPORT, run.id)
    except RedisError:
        fail_run(run.id, NOT_QUEUED, clock)
    return run


def _forget_old(user_id: int) -> None:
    """Remove the staff member's finished reports beyond the newest KEPT_PER_PERSON - 1."""
    kept = select(BoardReportRun.id).where(BoardReportRun.user_id == user_id)
    newest = kept.order_by(BoardReportRun.created_at.desc(), BoardReportRun.id.desc()).limit(
        KEPT_PER_PERSON - 1
    )
    db.session.execute(
        delete(BoardReportRun).where(
            BoardReportRun.user_id == user_id,
            BoardReportRun.state.in_(sorted(FINISHED)),
            BoardReportRun.id.not_in(newest.scalar_subquery()),
        )
    )


def start_run(run_id: int) -> BoardReportRun | None:
    """Mark a queued run as being made and return it; None when it is not queued (another
    worker took it, or it was removed). Commits."""
    taken = db.session.execute(
        update(BoardReportRun)
        .where(BoardReportRun.id == run_id, BoardReportRun.state == ReportState.QUEUED)
        .values(state=ReportState.RUNNING)
    )
    db.session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(BoardReportRun, run_id)


def finish_run(run_id: int, pdf: bytes, clock: Clock) -> None:
    """Store the run's PDF; commits."""
    db.session.execute(
        update(BoardReportRun)
        .where(BoardReportRun.id == run_id)
        .values(state=ReportState.READY, pdf=pdf, pdf_bytes=len(pdf), finished_at=clock.now())
    )
    db.session.commit()


def fail_run(run_id: int, error: str, clock: Clock) -> None:
    """Record that the run could not be made, and why (words for staff); commits."""
    db.session.rollback()
    db.session.execute(
        update(BoardReportRun)
        .where(BoardReportRun.id == run_id)
        .values(state=ReportState.FAILED, error=error[:300], finished_at=clock.now())
    )
    db.session.commit()


def find_run(run_id: int, user_id: int) -> BoardReportRun:
    """The run `run_id` if `user_id` asked for it; NotFound otherwise, whether or not it
    exists."""
    run = db.session.get(BoardReportRun, run_id)
    if run is None or run.user_id != user_id:
        raise NotFound("not found")
    return run


def recent_runs(user_id: int) -> list[BoardReportRun]:
    """The staff member's reports, newest first."""
    return list(
        db.session.scalars(
            select(BoardReportRun)
            .where(BoardReportRun.user_id == user_id)
            .order_by(BoardReportRun.created_at.desc(), BoardReportRun.id.desc())
            .limit(KEPT_PER_PERSON)
        )
    )


def record_report_download(run: BoardReportRun, actor: Actor, clock: Clock) -> None:
    """Record in the audit log (EXPORT) that the run's PDF was downloaded; commits."""
    areas = ReportAreas.of(run)
    covered = {*areas.attendance, *areas.results, *areas.experiments, *areas.goals}
    record_download(
        actor,
        clock.now(),
        record_type="organisation",
        record_ids=[run.organisation_id],
        organisation_id=run.organisation_id,
        detail={
            "what": "board_report",
            "format": "pdf",
            "month": run.month.strftime("%Y-%m"),
            "clinics": len(covered),
        },
    )
