"""Uploads: a file is stored and queued by id, a worker imports it with the command line's
services, progress is told as it goes, and the report is the command line's."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.core.errors import NotFound
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.patients.models import Patient
from app.queueing import QueueName
from app.runtime import get_runtime
from app.uploads import service
from app.uploads.files import MAX_FILE_BYTES, FileProblem
from app.uploads.kinds import ImportKind, ImportState
from app.uploads.models import ImportRun, ImportUpload
from app.uploads.progress import ProgressBoard, RowCount
from tests.web.staff import StaffDesk
from tests.world import World
from workers.worker import InProcessWorker, bind

HEADER = "external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile"
BAD_PHONE = "09098790000"  # premium rate


def patients_csv(count: int, bad: tuple[int, ...] = ()) -> bytes:
    """A patients file of `count` rows; the rows numbered in `bad` have a premium number."""
    rows = [
        f"P{i},{BAD_PHONE if i in bad else f'+4474{i:08d}'},en,1980,F,A,3" for i in range(count)
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north")


@pytest.fixture
def uploader(desk: StaffDesk, north: Clinic) -> Actor:
    member = desk.member(Role.CLINIC_MANAGER, ["north"], enrol=False)
    return Actor(user_id=member.user_id, address="192.0.2.7")


class RecordingBoard(ProgressBoard):
    """A progress board that also keeps every count it was told, in order."""

    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        self.told: list[tuple[int, int]] = []

    def tell(self, run_id: int, done: int, total: int) -> None:
        self.told.append((done, total))
        super().tell(run_id, done, total)


def start(
    app: Flask,
    clinic: Clinic,
    actor: Actor,
    content: bytes,
    *,
    kind: ImportKind = ImportKind.PATIENTS,
    name: str = "patients.csv",
    strict: bool = False,
) -> ImportRun:
    runtime = get_runtime(app)
    upload = service.Upload(clinic.id, kind, name, content, strict)
    return service.start_import(upload, actor=actor, clock=runtime.clock, queue=runtime.queue)


def work(app: Flask, redis_conn: Redis) -> None:
    """Run the queued import jobs here, as a worker would."""
    bind(app)
    queue = get_runtime(app).queue.queue(QueueName.IMPORTS)
    InProcessWorker([queue], connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert queue.failed_job_registry.count == 0


def fresh(run_id: int) -> ImportRun:
    db.session.expire_all()
    found = db.session.get(ImportRun, run_id)
    assert found is not None
    return found


def count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_upload_is_stored_and_queued_by_its_id_only(
    app: Flask, north: Clinic, uploader: Actor
) -> None:
    content = patients_csv(3)
    run = start(app, north, uploader, content, name="C:\\lists\\patients.csv")
    assert (run.state, run.file_name) == (ImportState.QUEUED, "patients.csv")
    assert run.file_bytes == len(content)
    upload = db.session.get(ImportUpload, run.id)
    assert upload is not None
    assert upload.content == content
    [job] = get_runtime(app).queue.queue(QueueName.IMPORTS).get_jobs()
    assert (job.func_name, job.args) == ("workers.jobs.import_file", (run.id,))
    assert job.timeout == 3600
    assert count(Patient) == 0


def test_the_worker_imports_the_file_and_tells_its_progress_as_it_goes(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    run = start(app, north, uploader, patients_csv(1234, bad=(7, 1000)))
    board = RecordingBoard(redis_conn)
    assert service.run_import(run.id, clock, board) is ImportState.IMPORTED
    assert board.told[0] == (0, 1234)
    assert board.told[-1] == (1234, 1234)
    assert board.told == sorted(board.told)  # never goes back
    assert (2, 1234) in board.told  # the bad rows are done once checked
    assert (502, 1234) in board.told  # then every 500 rows written
    assert board.read(run.id) == RowCount(1234, 1234)
    done = fresh(run.id)
    assert (done.created, done.updated, done.unchanged, done.bad_rows) == (1232, 0, 0, 2)
    assert (done.rows_total, done.problems, done.finished_at) == (1234, 2, clock.now())
    assert done.report == (
        "patients.csv:9: phone: premium rate number not accepted\n"
        "patients.csv:1002: phone: premium rate number not accepted"
    )
    assert done.summary == "patients: 1232 created, 0 updated, 0 unchanged, 2 bad rows"
    assert count(Patient) == 1232
    assert count(ImportUpload) == 0  # the file is gone once read
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.IMPORT))
    assert (event.actor_user_id, event.address, event.clinic_id) == (
        uploader.user_id,
        "192.0.2.7",
        north.id,
    )
    assert (event.record_type, event.record_ids) == ("import_run", [run.id])
    assert event.detail == {
        "kind": "patients",
        "state": "imported",
        "rows": 1234,
        "created": 1232,
        "updated": 0,
        "unchanged": 0,
        "bad_rows": 2,
        "skipped": 0,
    }


def test_the_job_runs_on_a_worker_and_leaves_the_count_on_the_board(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis
) -> None:
    run = start(app, north, uploader, patients_csv(20))
    work(app, redis_conn)
    assert fresh(run.id).state is ImportState.IMPORTED
    assert ProgressBoard(redis_conn).read(run.id) == RowCount(20, 20)
    assert count(Patient) == 20


def test_appointments_are_booked_a_chunk_at_a_time_with_their_reminders(
    app: Flask, world: World, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    start(app, north, uploader, patients_csv(600))
    work(app, redis_conn)
    starts = clock.now() + timedelta(days=10)
    rows = [
        f"A{i},P{i},{(starts + timedelta(minutes=i)).isoformat()},physiotherapy" for i in range(600)
    ]
    content = "\n".join(["external_id,patient_external_id,starts_at,pathway", *rows]) + "\n"
    run = start(
        app, north, uploader, content.encode(), kind=ImportKind.APPOINTMENTS, name="diary.csv"
    )
    board = RecordingBoard(redis_conn)
    assert service.run_import(run.id, clock, board) is ImportState.IMPORTED
    assert board.told == [(0, 600), (0, 600), (500, 600), (600, 600)]
    assert count(Appointment) == 600
    assert count(OutboundMessage) == 1200  # the default 7-day and 1-day reminders, each
    assert fresh(run.id).summary == "appointments: 600 created, 0 updated, 0 unchanged, 0 bad rows"


def _cli_lines(result: Any) -> list[str]:
    """What the command line printed about the rows, in its order, then the summary:
    anything on stdout before the summary, the errors (stderr), the summary."""
    out = result.stdout.splitlines()
    return [*out[:-1], *result.stderr.splitlines(), out[-1]]


def test_the_report_is_what_the_command_line_prints_for_the_same_file(
    app: Flask,
    world: World,
    desk: StaffDesk,
    runner: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_conn: Redis,
) -> None:
    world.clinic("north")
    south = world.clinic("south")
    member = desk.member(Role.CLINIC_MANAGER, ["south"], enrol=False)
    uploader = Actor(user_id=member.user_id)
    content = patients_csv(5, bad=(1, 3)) + b"P9,+447400999999,xx,1850,Q,,\nP10,too,few\n"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "patients.csv").write_bytes(content)
    cli = runner.invoke(args=["import", "patients", "patients.csv", "--clinic", "north"])
    assert cli.exit_code == 1
    run = start(app, south, uploader, content)
    work(app, redis_conn)
    fresh(run.id)
    text = service.report_for_download(run.id, actor=uploader, clock=get_runtime(app).clock)
    assert text.splitlines() == _cli_lines(cli)
    assert len(text.splitlines()) == 7  # five problems in four rows, and the summary


def test_a_fhir_report_is_what_the_command_line_prints_too(
    app: Flask,
    world: World,
    desk: StaffDesk,
    runner: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_conn: Redis,
) -> None:
    for clinic in (world.clinic("north"), world.clinic("south")):
        world.patient(clinic, "P1")
    member = desk.member(Role.CLINIC_MANAGER, ["south"], enrol=False)
    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-03-20T10:00:00Z",
        "participant": [{"actor": {"reference": "Patient/P1"}, "status": "accepted"}],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {**appointment, "id": "F1"}},
            {"resource": {**appointment, "id": "F2", "status": "proposed"}},
            {"resource": {**appointment, "id": "F3", "start": "tomorrow"}},
        ],
    }
    content = json.dumps(bundle).encode()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bundle.json").write_bytes(content)
    cli = runner.invoke(args=["import", "fhir", "bundle.json", "--clinic", "north"])
    assert cli.exit_code == 1
    south = world.clinics["south"]
    actor = Actor(user_id=member.user_id)
    run = start(app, south, actor, content, kind=ImportKind.FHIR, name="bundle.json")
    work(app, redis_conn)
    done = fresh(run.id)
    assert (done.state, done.created, done.skipped, done.bad_rows) == (
        ImportState.IMPORTED,
        1,
        1,
        1,
    )
    text = service.report_for_download(run.id, actor=actor, clock=get_runtime(app).clock)
    assert text.splitlines() == _cli_lines(cli)
    assert text.splitlines()[0].startswith("bundle.json: skipped entry[1].resource.status: ")


def test_strict_imports_nothing_when_a_row_is_bad(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis
) -> None:
    run = start(app, north, uploader, patients_csv(50, bad=(49,)), strict=True)
    work(app, redis_conn)
    done = fresh(run.id)
    assert (done.state, done.created, done.bad_rows) == (ImportState.REFUSED, 0, 1)
    assert done.summary.endswith("1 bad row (strict: nothing imported)")
    assert done.report == "patients.csv:51: phone: premium rate number not accepted"
    assert count(Patient) == 0
    assert count(ImportUpload) == 0


@pytest.mark.parametrize(
    ("content", "kind", "problem"),
    [
        (b"", ImportKind.PATIENTS, FileProblem.EMPTY),
        (HEADER.encode() + b"\n" * MAX_FILE_BYTES, ImportKind.PATIENTS, FileProblem.TOO_LARGE),
        (
            "external_id,outcome\nA1,attended\n".encode("utf-16"),
            ImportKind.OUTCOMES,
            FileProblem.NOT_UTF8,
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ImportKind.PATIENTS, FileProblem.NOT_UTF8),
        (b"name,number\nAnn,07700900000\n", ImportKind.PATIENTS, FileProblem.WRONG_COLUMNS),
        (b"external_id,outcome\n", ImportKind.FHIR, FileProblem.NOT_JSON),
        (b'{"resourceType": "Patient"}', ImportKind.FHIR, FileProblem.NOT_BUNDLE),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_and_nothing_is_stored(
    app: Flask,
    north: Clinic,
    uploader: Actor,
    content: bytes,
    kind: ImportKind,
    problem: FileProblem,
) -> None:
    with pytest.raises(service.UploadRefused) as refused:
        start(app, north, uploader, content, kind=kind)
    assert refused.value.refusal.problem is problem
    assert count(ImportRun) == count(ImportUpload) == 0
    assert get_runtime(app).queue.queue(QueueName.IMPORTS).count == 0


def test_a_file_unreadable_past_its_header_fails_cleanly_naming_the_line(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis
) -> None:
    content = patients_csv(3) + b"P4," + b"9" * 200_000 + b",en,,,,\n"
    run = start(app, north, uploader, content)
    work(app, redis_conn)
    done = fresh(run.id)
    assert done.state is ImportState.FAILED
    assert done.failure == (
        "patients.csv:5: not readable as CSV (field larger than field limit (131072))"
    )
    assert count(Patient) == 0
    assert count(ImportUpload) == 0
    text = service.report_for_download(run.id, actor=uploader, clock=get_runtime(app).clock)
    assert text == f"error: {done.failure}\n"
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.IMPORT))
    assert event.detail["state"] == "failed"


def test_a_job_delivered_twice_imports_once(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    run = start(app, north, uploader, patients_csv(3))
    board = ProgressBoard(redis_conn)
    assert service.run_import(run.id, clock, board) is ImportState.IMPORTED
    assert service.run_import(run.id, clock, board) is None
    assert service.run_import(run.id + 1, clock, board) is None
    assert count(Patient) == 3
    imports = select(func.count()).where(AuditEvent.action == AuditAction.IMPORT)
    assert db.session.scalar(imports) == 1


def test_a_report_is_downloaded_only_once_the_run_has_ended_and_is_recorded(
    app: Flask, north: Clinic, uploader: Actor, redis_conn: Redis, clock: FixedClock
) -> None:
    run = start(app, north, uploader, patients_csv(2, bad=(0,)))
    with pytest.raises(NotFound):
        service.report_for_download(run.id, actor=uploader, clock=clock)
    work(app, redis_conn)
    fresh(run.id)
    text = service.report_for_download(run.id, actor=uploader, clock=clock)
    assert text.endswith("1 created, 0 updated, 0 unchanged, 1 bad row\n")
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT))
    assert (event.record_ids, event.detail) == ([run.id], {"what": "import_report", "lines": 2})


class AwayQueue:
    """A job queue whose Redis cannot be reached."""

    def enqueue(self, *_args: object, **_kwargs: object) -> None:
        raise RedisConnectionError("no route to host")


def test_a_run_that_cannot_be_queued_fails_at_once_and_keeps_no_file(
    app: Flask, north: Clinic, uploader: Actor, clock: FixedClock
) -> None:
    upload = service.Upload(north.id, ImportKind.PATIENTS, "p.csv", patients_csv(2), False)
    run = service.start_import(upload, actor=uploader, clock=clock, queue=AwayQueue())  # type: ignore[arg-type]
    done = fresh(run.id)
    assert (done.state, done.failure) == (ImportState.FAILED, service.NOT_QUEUED)
    assert count(ImportUpload) == 0
    assert count(Patient) == 0
