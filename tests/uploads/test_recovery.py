"""What the clock does for uploads left behind: a run whose job Redis lost is queued
again and imported once; a run whose worker died is ended as failed past its job's time
limit, keeping no file; runs still waiting or still within their time are left alone."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from redis import Redis
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from app.queueing import JOB_TIMEOUTS, JobName, QueueName
from app.runtime import get_runtime
from app.uploads import service
from app.uploads.kinds import ImportState
from app.uploads.models import ImportUpload
from tests.uploads.test_service import count, fresh, north, patients_csv, start, uploader, work
from workers.clock import run_clock

__all__ = ["north", "uploader"]  # fixtures

TIME_LIMIT = timedelta(seconds=JOB_TIMEOUTS[JobName.IMPORT_FILE])


def _recover(app: Flask) -> service.Recovered:
    runtime = get_runtime(app)
    return service.recover_runs(runtime.clock, runtime.queue)


def _imports_queue(app: Flask) -> int:
    return int(get_runtime(app).queue.queue(QueueName.IMPORTS).count)


def test_a_run_whose_job_redis_lost_is_queued_again_once_and_imported_once(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    run = start(app, north, uploader, patients_csv(3))
    redis_conn.flushdb()  # Redis restarted without its jobs
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)  # within its grace
    clock.advance(service.QUEUED_GRACE + timedelta(seconds=1))
    assert _recover(app) == service.Recovered(queued_again=1, stopped=0)
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)  # it waits in line
    assert _imports_queue(app) == 1
    work(app, redis_conn)
    assert fresh(run.id).state is ImportState.IMPORTED
    assert count(Patient) == 3
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)


def test_runs_waiting_behind_a_long_import_are_left_in_line(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    first = start(app, north, uploader, patients_csv(2))
    clock.advance(timedelta(minutes=10))
    second = start(app, north, uploader, patients_csv(2))
    clock.advance(timedelta(hours=2))  # a worker is busy elsewhere for hours
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)
    assert _imports_queue(app) == 2
    # Redis loses the first job only (its head is now the second): the first is found.
    queue = get_runtime(app).queue.queue(QueueName.IMPORTS)
    queue.remove(queue.get_job_ids(0, 1)[0])
    assert _recover(app) == service.Recovered(queued_again=1, stopped=0)
    clock.advance(timedelta(minutes=5))  # both wait in line, the first behind the second
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)
    assert _imports_queue(app) == 2
    work(app, redis_conn)
    assert (fresh(first.id).state, fresh(second.id).state) == (
        ImportState.IMPORTED,
        ImportState.IMPORTED,
    )


def test_a_run_whose_worker_died_ends_as_failed_past_its_time_limit_and_keeps_no_file(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    run = start(app, north, uploader, patients_csv(3))
    redis_conn.flushdb()
    # A worker took the job and claimed the run, then was killed (SIGKILL, or RQ's time
    # limit): the run says it is running, and its file is still kept.
    assert service._claim(run.id, clock)
    clock.advance(TIME_LIMIT)
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)  # it may still run
    assert fresh(run.id).state is ImportState.RUNNING
    clock.advance(service.RUNNING_GRACE + timedelta(seconds=1))
    run_clock(app, once=True)  # the clock does it
    done = fresh(run.id)
    assert (done.state, done.failure) == (ImportState.FAILED, service.STOPPED)
    assert done.finished_at == clock.now()
    assert count(ImportUpload) == 0
    assert count(Patient) == 0
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.IMPORT))
    assert (event.record_ids, event.detail["state"]) == ([run.id], "failed")
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)


def test_finished_runs_are_never_touched(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    run = start(app, north, uploader, patients_csv(2))
    work(app, redis_conn)
    clock.advance(TIME_LIMIT * 3)
    assert _recover(app) == service.Recovered(queued_again=0, stopped=0)
    assert fresh(run.id).state is ImportState.IMPORTED
