"""The imports pages: upload a file, follow its import, read and download its report.

The import runs on a worker: the tests run the queued job here (as a worker would) and
then load the page.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.patients.models import Patient
from app.queueing import QueueName
from app.runtime import get_runtime
from app.uploads.kinds import ImportState
from app.uploads.models import ImportRun, ImportUpload
from app.uploads.progress import ProgressBoard
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World
from workers.worker import InProcessWorker, bind

HEADER = "external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile"
GOOD = "P1,+447400123456,en,1980,F,A,2"
BAD = "P2,09098790000,en,,,,"  # a premium rate number


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north")


@pytest.fixture
def manager(client: FlaskClient, desk: StaffDesk, north: Clinic) -> FlaskClient:
    """A clinic manager of north, signed in (with their authenticator code)."""
    return desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"], name="Mia Khan"))


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def upload(
    client: FlaskClient,
    clinic: Clinic,
    content: bytes,
    *,
    name: str = "patients.csv",
    kind: str = "patients",
    rows: str = "others",
) -> Any:
    data = {
        "csrf_token": csrf_token(client, "/staff/imports"),
        "clinic": str(clinic.id),
        "kind": kind,
        "rows": rows,
        "file": (io.BytesIO(content), name),
    }
    return client.post("/staff/imports", data=data, content_type="multipart/form-data")


def work(app: Flask, redis_conn: Redis) -> None:
    """Run the queued imports here, as a worker would."""
    bind(app)
    queue = get_runtime(app).queue.queue(QueueName.IMPORTS)
    InProcessWorker([queue], connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert queue.failed_job_registry.count == 0


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_manager_uploads_a_file_follows_it_and_reads_its_report(
    app: Flask, manager: FlaskClient, north: Clinic, redis_conn: Redis
) -> None:
    answer = upload(manager, north, _csv(GOOD, BAD))
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert re.fullmatch(r"/staff/imports/\d+", location)  # an id: no name, no file
    waiting = manager.get(location)
    assert waiting.status_code == 200
    page = _text(waiting)
    assert "Waiting to start" in page
    assert f'hx-get="{location}/progress"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "vendor/htmx/htmx.min.js" in page
    assert f'<a href="{location}">Refresh the page</a>' in page  # without JavaScript
    assert _count(Patient) == 0

    work(app, redis_conn)
    done = _text(manager.get(location))
    assert "Imported, with problems" in done
    assert "1 row had problems and was left out" in done
    assert "patients.csv:3: phone: premium rate number not accepted" in done
    assert "2 March 2026 at 09:00 by Mia Khan" in done
    assert "htmx.min.js" not in done
    assert _count(Patient) == 1
    [imported] = _events(AuditAction.IMPORT)
    assert imported.detail["created"] == imported.detail["bad_rows"] == 1

    report = manager.get(f"{location}/report.txt")
    assert report.status_code == 200
    assert report.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert report.headers["Content-Disposition"].startswith("attachment; filename=")
    assert _text(report) == (
        "patients.csv:3: phone: premium rate number not accepted\n"
        "patients: 1 created, 0 updated, 0 unchanged, 1 bad row\n"
    )
    [export] = _events(AuditAction.EXPORT)
    assert (export.record_type, export.clinic_id) == ("import_run", north.id)


def test_the_progress_part_shows_the_rows_done_and_reloads_the_page_at_the_end(
    app: Flask, manager: FlaskClient, north: Clinic, redis_conn: Redis
) -> None:
    location = upload(manager, north, _csv(GOOD)).headers["Location"]
    run_id = int(location.rsplit("/", 1)[1])
    db.session.execute(
        ImportRun.__table__.update().where(ImportRun.id == run_id).values(state="running")
    )
    db.session.commit()
    ProgressBoard(redis_conn).tell(run_id, 12_500, 50_000)
    part = manager.get(f"{location}/progress", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "HX-Refresh" not in part.headers
    text = _text(part)
    assert "<html" not in text
    assert "12,500 of 50,000 rows done (25%)" in text
    assert 'max="50000" value="12500"' in text
    assert "12,500 of 50,000 rows done" in _text(manager.get(location))
    for done, words in ((0, "Checking 50,000 rows."), (50_000, "Saving them now.")):
        ProgressBoard(redis_conn).tell(run_id, done, 50_000)
        assert words in _text(manager.get(f"{location}/progress"))
    db.session.execute(
        ImportRun.__table__.update().where(ImportRun.id == run_id).values(state="queued")
    )
    db.session.commit()
    work(app, redis_conn)
    finished = manager.get(f"{location}/progress", headers={"HX-Request": "true"})
    assert finished.headers["HX-Refresh"] == "true"


def test_imports_are_listed_newest_first_with_who_when_what_and_how(
    app: Flask, manager: FlaskClient, north: Clinic, redis_conn: Redis
) -> None:
    upload(manager, north, _csv(GOOD), name="first.csv")
    work(app, redis_conn)
    upload(manager, north, _csv(BAD), name="second.csv", rows="nothing")
    work(app, redis_conn)
    page = _text(manager.get("/staff/imports"))
    assert page.index("second.csv") < page.index("first.csv")
    listed = page[page.index("Recent imports") :]
    assert "Nothing imported" in listed
    assert "Imported" in listed
    assert "Mia Khan" in listed
    assert "1 row with problems" in listed


@pytest.mark.parametrize(
    ("content", "kind", "message"),
    [
        (b"", "patients", "The selected file is empty"),
        ("é".encode("latin-1") + _csv(GOOD), "patients", "The selected file is not UTF-8 text"),
        (b"name,phone\nAnn,07700900000\n", "patients", "patients.csv:1: locale: missing column"),
        (b"external_id,outcome\n", "fhir", "The selected file is not JSON"),
        (b'{"resourceType": "Patient"}', "fhir", "patients.csv: resourceType: must be Bundle"),
        (_csv(GOOD), "people", "Choose what is in the file"),
    ],
)
def test_a_file_or_form_that_cannot_be_taken_is_422_with_the_field_named(
    manager: FlaskClient, north: Clinic, content: bytes, kind: str, message: str
) -> None:
    answer = upload(manager, north, content, kind=kind)
    assert answer.status_code == 422
    page = _text(answer)
    assert "<title>Error: Imports" in page
    assert message in page
    assert 'href="#' in page  # the error summary links to the field
    assert _count(ImportRun) == _count(ImportUpload) == 0


def test_no_file_and_no_choice_are_named(manager: FlaskClient, north: Clinic) -> None:
    token = csrf_token(manager, "/staff/imports")
    answer = manager.post(
        "/staff/imports",
        data={"csrf_token": token, "clinic": str(north.id)},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    page = _text(answer)
    assert re.search(r'href="#file"\s*>\s*Select a file to upload', page)
    assert re.search(r'href="#kind"\s*>\s*Choose what is in the file', page)


def test_a_body_over_the_limit_is_refused_on_the_form(manager: FlaskClient, north: Clinic) -> None:
    huge = _csv(GOOD) + b"\n" * (8 * 1024 * 1024)
    answer = upload(manager, north, huge)
    assert answer.status_code == 413
    assert "The selected file must be smaller than 8 MB" in _text(answer)
    assert _count(ImportRun) == 0


def test_a_file_unreadable_past_its_header_fails_the_run_with_its_line(
    app: Flask, manager: FlaskClient, north: Clinic, redis_conn: Redis
) -> None:
    location = upload(manager, north, _csv(GOOD) + b'P3,"' + b"9" * 200_000 + b'"\n').headers[
        "Location"
    ]
    work(app, redis_conn)
    page = _text(manager.get(location))
    assert "Nothing was imported" in page
    assert "patients.csv:3: not readable as CSV (field larger than field limit (131072))" in page
    assert _count(Patient) == 0


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.CLINICIAN, Role.ANALYST, Role.AUDITOR])
def test_roles_that_do_not_import_are_refused(
    client: FlaskClient, desk: StaffDesk, north: Clinic, role: Role
) -> None:
    desk.sign_in(client, desk.member(role, ["north"]))
    assert client.get("/staff/imports").status_code == 403
    assert "Imports" not in _text(client.get("/staff/"))


def test_another_clinic_s_imports_do_not_exist_for_them(
    app: Flask,
    client: FlaskClient,
    manager: FlaskClient,
    desk: StaffDesk,
    world: World,
    north: Clinic,
    redis_conn: Redis,
) -> None:
    location = upload(manager, north, _csv(GOOD), name="north-list.csv").headers["Location"]
    work(app, redis_conn)
    world.clinic("south")
    other = app.test_client()
    desk.sign_in(other, desk.member(Role.CLINIC_MANAGER, ["south"]))
    for path in (location, f"{location}/progress", f"{location}/report.txt"):
        assert other.get(path).status_code == 404
    assert "north-list.csv" not in _text(other.get("/staff/imports"))
    answer = upload(other, north, _csv(GOOD))  # a clinic outside their scope
    assert answer.status_code == 422
    assert "Choose a clinic" in _text(answer)
    assert _count(ImportRun) == 1
    assert _count(Patient) == 1


def test_a_form_without_its_csrf_token_is_refused(manager: FlaskClient, north: Clinic) -> None:
    answer = manager.post(
        "/staff/imports",
        data={"clinic": str(north.id), "kind": "patients", "file": (io.BytesIO(b"x"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert _count(ImportRun) == 0


def test_the_run_state_is_in_words(
    app: Flask, manager: FlaskClient, north: Clinic, redis_conn: Redis
) -> None:
    location = upload(manager, north, _csv(BAD), rows="nothing").headers["Location"]
    work(app, redis_conn)
    page = _text(manager.get(location))
    assert "Nothing was imported" in page
    assert "you chose to import nothing if any row has" in page
    db.session.expire_all()
    [run] = db.session.scalars(select(ImportRun))
    assert run.state is ImportState.REFUSED
