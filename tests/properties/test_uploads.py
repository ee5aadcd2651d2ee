"""The upload route with hostile files: the form sends the file back with its problem,
or the import runs and writes every good row or nothing; never a 500, never half an
import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import event, given
from hypothesis import strategies as st
from redis import Redis
from sqlalchemy import func, select

from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.patients.models import Patient
from app.queueing import QueueName
from app.runtime import get_runtime
from app.uploads.kinds import ImportState
from app.uploads.models import ImportRun, ImportUpload
from tests.properties.values import nasty_text
from tests.web.conftest import RequestPerContextClient
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World
from workers.worker import InProcessWorker, bind

HEADERS = {
    "patients": "external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile",
    "appointments": "external_id,patient_external_id,starts_at,pathway",
    "outcomes": "external_id,outcome,cancelled_at",
}
GOOD_ROWS = {
    "patients": ["P1,+447400123456,en,1980,F,A,2", "P2,+447400123457,cy,,,,"],
    "appointments": ["A1,P1,2026-03-20T10:00,physiotherapy", "A2,P2,2026-03-21 09:30,"],
    "outcomes": ["A1,attended,", "A2,cancelled_patient,2026-03-01T10:00"],
}
FIELD = st.one_of(
    nasty_text,
    st.sampled_from(["P1", "P2", "A1", "+447400123456", "en", "1980", "attended", '"', '""']),
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A kind of file and its bytes: mostly CSV with the kind's header, good rows and
    hostile ones (wrong lengths, quotes, NULs), sometimes any bytes at all."""
    kind = draw(st.sampled_from(sorted(HEADERS)))
    if draw(st.integers(0, 9)) == 0:
        return kind, draw(st.binary(max_size=200))
    header = draw(st.one_of(st.just(HEADERS[kind]), st.sampled_from(list(HEADERS.values()))))
    rows = draw(
        st.lists(
            st.one_of(
                st.sampled_from(GOOD_ROWS[kind]),
                st.lists(FIELD, min_size=1, max_size=8).map(",".join),
            ),
            max_size=6,
        )
    )
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([header, *rows]) + newline
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return kind, text.encode(encoding, errors="surrogatepass")


@pytest.fixture
def manager(app: Flask, desk: StaffDesk, world: World) -> tuple[FlaskClient, Clinic]:
    """A clinic manager of north, signed in once for every example."""
    app.test_client_class = RequestPerContextClient
    clinic = world.clinic("north")
    client = app.test_client()
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))
    return client, clinic


def _count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@given(file=csv_files(), strict=st.booleans())
def test_an_upload_is_sent_back_or_imported_whole_never_half(
    app: Flask,
    redis_conn: Redis,
    manager: tuple[FlaskClient, Clinic],
    file: tuple[str, bytes],
    strict: bool,
) -> None:
    client, clinic = manager
    kind, content = file
    patients, runs = _count(Patient), _count(ImportRun)
    answer = client.post(
        "/staff/imports",
        data={
            "csrf_token": csrf_token(client, "/staff/imports"),
            "clinic": str(clinic.id),
            "kind": kind,
            "rows": "nothing" if strict else "others",
            "file": (io.BytesIO(content), f"{kind}.csv"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code in (303, 422), answer.status_code
    event(f"answered {answer.status_code}")
    if answer.status_code == 422:
        assert (_count(ImportRun), _count(Patient)) == (runs, patients)
        return
    bind(app)
    queue = get_runtime(app).queue.queue(QueueName.IMPORTS)
    InProcessWorker([queue], connection=redis_conn).work(burst=True, logging_level="ERROR")
    assert queue.failed_job_registry.count == 0
    db.session.expire_all()
    run = db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert run is not None
    assert run.state in (ImportState.IMPORTED, ImportState.REFUSED, ImportState.FAILED)
    event(f"import {run.state.value}")
    assert _count(ImportUpload) == 0
    added = _count(Patient) - patients
    if run.state is not ImportState.IMPORTED:
        assert added == 0
        assert run.created == run.updated == 0
    elif kind == "patients":
        assert added == run.created
    if strict and run.bad_rows:
        assert run.state is ImportState.REFUSED
    page = client.get(f"/staff/imports/{run.id}")
    assert page.status_code == 200
    assert client.get(f"/staff/imports/{run.id}/report.txt").status_code == 200
