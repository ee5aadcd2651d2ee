"""Commands on staff uploads: store a file and queue its import, and run the import.

Every import goes through the import services the command line uses
(`import_patients_csv`, `import_appointments_csv`, `import_outcomes_csv`,
`import_fhir_file`), with their rules: every row checked first, the good ones written in
one transaction, nothing written under `strict` if any row is bad, and nothing at all
for a file that cannot be read. A run's report holds the same lines the command line
prints, and its summary.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from redis.exceptions import RedisError
from sqlalchemy import delete, select, update

from app.appointments.fhir_imports import import_fhir_file
from app.appointments.imports import (
    import_appointments_csv,
    import_outcomes_csv,
)
from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.queries import get_clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound, WeSaidError
from app.core.imports import ImportReport
from app.extensions import db
from app.patients.service import import_patients_csv
from app.queueing import JOB_TIMEOUTS, JobName, JobQueue
from app.uploads.files import FileRefusal, check_file, clean_name
from app.uploads.kinds import FINISHED, ImportKind, ImportState
from app.uploads.models import ImportRun, ImportUpload
from app.uploads.progress import ProgressBoard

__all__ = [
    "Recovered",
    "Upload",
    "UploadRefused",
    "recover_runs",
    "report_for_download",
    "run_import",
    "start_import",
]

#: What a failed run says when the import stopped for a reason of ours, not the file's.
STOPPED = "the import stopped unexpectedly; nothing was imported"
NOT_QUEUED = "the import could not be started; upload the file again"

_IMPORTERS: dict[ImportKind, Callable[..., ImportReport]] = {
    ImportKind.PATIENTS: import_patients_csv,
    ImportKind.APPOINTMENTS: import_appointments_csv,
    ImportKind.OUTCOMES: import_outcomes_csv,
    ImportKind.FHIR: import_fhir_file,
}


class UploadRefused(Invalid):
    """The file cannot be imported at all; `refusal` says why and where."""

    def __init__(self, refusal: FileRefusal) -> None:
        super().__init__(refusal.problem.value)
        self.refusal = refusal


@dataclass(frozen=True)
class Upload:
    """A file a staff member sent to import into one clinic."""

    clinic_id: int
    kind: ImportKind
    file_name: str | None
    content: bytes
    #: Import nothing if any row has a problem.
    strict: bool


def start_import(upload: Upload, *, actor: Actor, clock: Clock, queue: JobQueue) -> ImportRun:
    """Store the file and queue its import (job arguments: the run's id only); commits.

    Refuses (UploadRefused) a file that cannot be imported at all (empty, too large, not
    UTF-8, not CSV with the kind's columns, not a FHIR bundle): nothing is stored then.
    Refuses (Invalid) an actor who is not a staff member. When the job cannot be queued,
    the run fails at once (its file deleted) rather than wait for ever. Whether the actor
    may import into the clinic is the caller's check (the staff scope).
    """
    if actor.user_id is None:
        raise Invalid("an upload needs a staff member")
    clinic = get_clinic(upload.clinic_id)
    name = clean_name(upload.file_name, upload.kind)
    refusal = check_file(upload.kind, name, upload.content)
    if refusal is not None:
        raise UploadRefused(refusal)
    run = ImportRun(
        clinic_id=clinic.id,
        user_id=actor.user_id,
        kind=upload.kind,
        file_name=name,
        file_bytes=len(upload.content),
        strict=upload.strict,
        state=ImportState.QUEUED,
        address=(actor.address or "")[:64] or None,
        created_at=clock.now(),
    )
    db.session.add(run)
    db.session.flush()
    db.session.add(ImportUpload(run_id=run.id, content=upload.content))
    db.session.commit()
    try:
        queue.enqueue(JobName.IMPORT_FILE, run.id)
    except RedisError:  # the queue is away: the run says so, and keeps no file
        _end(run.id, clock, failure=NOT_QUEUED)
    return run


def run_import(run_id: int, clock: Clock, board: ProgressBoard) -> ImportState | None:
    """Import a queued run's file with its kind's import service, telling `board` the
    rows done as it goes; commits.

    Returns the state the run ended in, or None when the run was not waiting for a
    worker (another took it, or it is unknown): a job delivered twice imports once. The
    uploaded file is deleted whatever happens, and the end is in the audit log (IMPORT,
    with the counts). A file that cannot be read fails the run with the reason; any
    other error fails it as well, and is raised again for the worker to record.
    """
    if not _claim(run_id, clock):
        return None
    run = db.session.get(ImportRun, run_id)
    upload = db.session.get(ImportUpload, run_id)
    if run is None or upload is None:
        return _end(run_id, clock, failure=STOPPED)
    counted = _Counted(board, run_id)
    try:
        report = _import(run, upload.content, clock, counted)
    except WeSaidError as exc:  # the file cannot be read; another import clashed
        db.session.rollback()
        return _end(run_id, clock, failure=str(exc), total=counted.total)
    except Exception:
        db.session.rollback()
        _end(run_id, clock, failure=STOPPED, total=counted.total)
        raise
    return _end(run_id, clock, report=report, total=counted.total)


#: How long past its job's time limit a run may still say it is running: by then RQ has
#: stopped the job, or its worker died under it.
RUNNING_GRACE = timedelta(minutes=5)
#: How long a queued run may go untaken once its job has left the queue: a worker that
#: takes the job claims the run at once.
QUEUED_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class Recovered:
    queued_again: int
    stopped: int


def recover_runs(clock: Clock, queue: JobQueue) -> Recovered:
    """What a lost job or a dead worker left behind (the clock calls it); commits.

    A queued run whose job has left the imports queue without a worker taking the run
    (Redis restarted without its jobs, say) is queued again; a twin of its job finds the
    run taken and does nothing. A run still running past its
    job's time limit ends as failed (STOPPED): its worker was killed or timed out, its
    transaction rolled back and nothing was written; its file is deleted and its end is
    in the audit log, as for any other run. Nothing else is touched.
    """
    now = clock.now()
    limit = timedelta(seconds=JOB_TIMEOUTS[JobName.IMPORT_FILE]) + RUNNING_GRACE
    stuck = db.session.scalars(
        select(ImportRun.id)
        .where(ImportRun.state == ImportState.RUNNING, ImportRun.started_at < now - limit)
        .order_by(ImportRun.id)
    ).all()
    for run_id in stuck:
        _end(run_id, clock, failure=STOPPED)
    return Recovered(queued_again=_queue_lost(clock, queue), stopped=len(stuck))


def _queue_lost(clock: Clock, queue: JobQueue) -> int:
    """Queue again the queued runs, older than QUEUED_GRACE, whose job is not waiting in
    the imports queue (a worker that took it would have claimed the run)."""
    older = db.session.scalars(
        select(ImportRun.id)
        .where(
            ImportRun.state == ImportState.QUEUED,
            ImportRun.created_at < clock.now() - QUEUED_GRACE,
        )
        .order_by(ImportRun.id)
    ).all()
    if not older:
        return 0
    waiting = queue.waiting_ids(JobName.IMPORT_FILE)
    lost = [run_id for run_id in older if run_id not in waiting]
    for run_id in lost:
        queue.enqueue(JobName.IMPORT_FILE, run_id)
    return len(lost)


class _Counted:
    """Passes progress on to the board, remembering how many rows the file has."""

    def __init__(self, board: ProgressBoard, run_id: int) -> None:
        self.board, self.run_id = board, run_id
        self.total: int | None = None

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        self.board.tell(self.run_id, done, total)


def _claim(run_id: int, clock: Clock) -> bool:
    claimed = db.session.execute(
        update(ImportRun)
        .where(ImportRun.id == run_id, ImportRun.state == ImportState.QUEUED)
        .values(state=ImportState.RUNNING, started_at=clock.now())
    )
    db.session.commit()
    return bool(getattr(claimed, "rowcount", 0))


def _import(run: ImportRun, content: bytes, clock: Clock, counted: _Counted) -> ImportReport:
    slug = get_clinic(run.clinic_id).slug
    # A private folder (mode 0700) that is gone as soon as the import has read it.
    with tempfile.TemporaryDirectory(prefix="wesaid-import-") as folder:
        path = Path(folder) / ("upload.json" if run.kind is ImportKind.FHIR else "upload.csv")
        path.write_bytes(content)
        return _IMPORTERS[run.kind](
            path,
            slug,
            strict=run.strict,
            clock=clock,
            source=run.file_name,
            progress=counted,
        )


def _end(
    run_id: int,
    clock: Clock,
    *,
    report: ImportReport | None = None,
    failure: str | None = None,
    total: int | None = None,
) -> ImportState:
    run = db.session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"no import run with id {run_id}")
    if report is not None:
        _keep_report(run, report)
    else:
        run.state, run.failure = ImportState.FAILED, failure
    run.rows_total = total
    run.finished_at = clock.now()
    db.session.execute(delete(ImportUpload).where(ImportUpload.run_id == run_id))
    record(
        AuditAction.IMPORT,
        Actor(user_id=run.user_id, address=run.address),
        clock.now(),
        record_type="import_run",
        record_ids=[run.id],
        clinic_id=run.clinic_id,
        organisation_id=get_clinic(run.clinic_id).organisation_id,
        detail={
            "kind": run.kind.value,
            "state": run.state.value,
            "rows": total,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "bad_rows": run.bad_rows,
            "skipped": run.skipped,
        },
    )
    db.session.commit()
    return run.state


def _keep_report(run: ImportRun, report: ImportReport) -> None:
    lines = report.lines()
    run.state = ImportState.IMPORTED if report.imported else ImportState.REFUSED
    run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
    run.bad_rows = report.bad_rows
    run.skipped = len(getattr(report, "skipped", ()))
    run.problems = len(lines)
    run.report = "\n".join(lines)
    run.summary = report.summary()[:200]


def report_for_download(run_id: int, *, actor: Actor, clock: Clock) -> str:
    """The run's whole report as text, as the command line prints it: each line, then the
    summary; for a failed run, the error. Recorded in the audit log (EXPORT, with the
    number of lines); commits. NotFound for a run that has not ended (it has no report
    yet). Whether the actor may see the run is the caller's check (the staff scope)."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.state not in FINISHED:
        raise NotFound(f"no finished import run with id {run_id}")
    if run.state is ImportState.FAILED:
        lines = [f"error: {run.failure or STOPPED}"]
    else:
        lines = [*(run.report.split("\n") if run.report else []), run.summary]
    record(
        AuditAction.EXPORT,
        actor,
        clock.now(),
        record_type="import_run",
        record_ids=[run.id],
        clinic_id=run.clinic_id,
        organisation_id=get_clinic(run.clinic_id).organisation_id,
        detail={"what": "import_report", "lines": len(lines)},
    )
    db.session.commit()
    return "\n".join(lines) + "\n"
