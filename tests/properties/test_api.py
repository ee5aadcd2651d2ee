"""Every JSON API route with hostile input: a clear 4xx problem or a success, never a
500, and never a partial write (a strict import with a bad row writes nothing)."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.appointments.imports import import_appointment_rows
from app.appointments.models import Appointment
from app.clinics.service import create_clinic
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.results.models import ResultSnapshot
from tests.properties.values import json_values, nasty_text, spoiled

_NUMBERS = itertools.count(1)
#: A well-formed row of each import; `spoiled` breaks one or two of its fields.
VALID_ROWS: dict[str, dict[str, Any]] = {
    "patients": {
        "external_id": "P",
        "phone": "+447400",
        "locale": "pl",
        "birth_year": 1960,
        "sex": "F",
        "ethnic_category": "A",
        "imd_quintile": 2,
    },
    "appointments": {
        "external_id": "A",
        "patient_external_id": "P1",
        "starts_at": "2026-03-20T10:00",
        "pathway": "physiotherapy",
    },
    "outcomes": {"external_id": "PAST", "outcome": "cancelled_patient", "cancelled_at": ""},
}


@pytest.fixture
def token(app: Flask, clock: FixedClock) -> str:
    clinic = create_clinic(
        "north", name="North", timezone="Europe/London", sender="+442071838750", clock=clock
    )
    db.session.commit()
    patient = {"external_id": "P1", "phone": "+447400999999", "locale": "en"}
    import_patient_rows(clinic.id, [patient], source="test", strict=True, clock=clock)
    booking = {"external_id": "PAST", "patient_external_id": "P1", "starts_at": "2026-03-02T08:00"}
    import_appointment_rows(clinic.id, [booking], source="test", strict=True, clock=clock)
    return create_token(label="api", clinic_id=clinic.id, clock=clock).secret


def _unique(key: str, row: dict[str, Any]) -> dict[str, Any]:
    """A valid row made new for this example (its own ids and number)."""
    fresh = dict(row)
    number = next(_NUMBERS)
    if key != "outcomes" and fresh.get("external_id") == VALID_ROWS[key]["external_id"]:
        fresh["external_id"] = f"{VALID_ROWS[key]['external_id']}{number}"
    if fresh.get("phone") == VALID_ROWS["patients"]["phone"]:
        fresh["phone"] = f"+447400{number:06d}"
    return fresh


def _body(key: str) -> st.SearchStrategy[Any]:
    valid = VALID_ROWS[key]
    row = st.one_of(st.just(valid), spoiled(valid, json_values)).map(lambda r: _unique(key, r))
    proper = st.fixed_dictionaries({key: st.lists(row, max_size=3), "strict": st.booleans()})
    return st.one_of(proper, proper, json_values, st.fixed_dictionaries({key: json_values}))


def _counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(
        int(db.session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Patient, Appointment, OutboundMessage, ResultSnapshot)
    )


def _is_problem(response: Any) -> bool:
    body = response.get_json(silent=True) or {}
    return response.mimetype == "application/problem+json" and body.get("status") == (
        response.status_code
    )


def _post_import(client: FlaskClient, token: str, key: str, body: Any) -> Any:
    return client.post(
        f"/api/v1/clinics/north/{key}",
        data=json.dumps(body, allow_nan=True),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )


@pytest.mark.storage
@pytest.mark.parametrize("key", ["patients", "appointments", "outcomes"])
@given(data=st.data())
def test_an_import_answers_a_problem_or_a_report_and_writes_whole(
    app: Flask, client: FlaskClient, token: str, key: str, data: st.DataObject
) -> None:
    body = data.draw(_body(key))
    before = _counts()
    response = _post_import(client, token, key, body)
    assert response.status_code in (200, 400, 409, 413, 422)
    if response.status_code != 200:
        assert _is_problem(response)
    strict = isinstance(body, dict) and body.get("strict") is True
    if response.status_code in (400, 409, 413) or (response.status_code == 422 and strict):
        assert _counts() == before


@pytest.mark.storage
@given(
    survey=nasty_text,
    period=nasty_text,
    scope=st.one_of(st.sampled_from(["clinic", "organisation", "service"]), nasty_text),
    pathway=nasty_text,
    method=st.sampled_from(["GET", "POST"]),
)
def test_results_answer_a_snapshot_or_a_problem(
    app: Flask,
    client: FlaskClient,
    token: str,
    survey: str,
    period: str,
    scope: str,
    pathway: str,
    method: str,
) -> None:
    url = (
        f"/api/v1/clinics/north/results/{quote(survey, safe='')}/{quote(period, safe='')}"
        f"?scope={quote(scope)}&pathway={quote(pathway)}"
    )
    response = client.open(url, method=method, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201, 400, 404, 405)
    if response.status_code >= 400:
        assert _is_problem(response)


@pytest.mark.storage
@given(first=nasty_text, last=nasty_text)
def test_the_attendance_report_answers_or_explains(
    app: Flask, client: FlaskClient, token: str, first: str, last: str
) -> None:
    url = f"/api/v1/clinics/north/attendance?from={quote(first)}&to={quote(last)}"
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert _is_problem(response)


@pytest.mark.storage
@given(slug=nasty_text, bearer=nasty_text.filter(lambda v: not set(v) & set("\r\n\x00")))
def test_a_bad_slug_or_token_is_a_401_problem(
    app: Flask, client: FlaskClient, token: str, slug: str, bearer: str
) -> None:
    response = client.post(
        f"/api/v1/clinics/{quote(slug, safe='')}/patients",
        data="{}",
        headers={"Authorization": f"Bearer {bearer}"},
        content_type="application/json",
    )
    assert response.status_code in (401, 404, 405)
    assert _is_problem(response)


#: The bad inputs the hardening review found giving 500s, each now a clear 4xx.
REPORTED: list[tuple[str, str, Any, int]] = [
    (
        "POST",
        "/api/v1/clinics/north/appointments",
        {"appointments": [{**VALID_ROWS["appointments"], "starts_at": "9999-12-31T23:59-23:00"}]},
        422,
    ),
    (
        "POST",
        "/api/v1/clinics/north/patients",
        '{"patients": [{"external_id": "P9", "phone": "+447400000009", "locale": "en", '
        '"birth_year": ' + "9" * 4400 + "}]}",
        400,
    ),
    (
        "POST",
        "/api/v1/clinics/north/patients",
        {"patients": [{**VALID_ROWS["patients"], "birth_year": "9" * 4400}]},
        422,
    ),
    ("GET", "/api/v1/clinics/north/attendance?from=2026-01&to=9999-12", None, 400),
    ("GET", "/api/v1/clinics/north/results/fft%00/2026-03", None, 400),
    ("GET", "/api/v1/clinics/north/results/" + "f" * 300 + "/2026-03", None, 400),
    ("GET", "/api/v1/clinics/north/results/fft/2026-03?scope=service&pathway=a%00b", None, 400),
    (
        "POST",
        "/api/v1/clinics/north/results/fft/2026-03?scope=service&pathway=" + "x" * 300,
        None,
        400,
    ),
]


@pytest.mark.storage
@pytest.mark.parametrize(("method", "url", "body", "status"), REPORTED)
def test_the_reported_bad_inputs_answer_a_clear_problem(
    app: Flask, client: FlaskClient, token: str, method: str, url: str, body: Any, status: int
) -> None:
    before = _counts()
    data = body if isinstance(body, str) or body is None else json.dumps(body)
    response = client.open(
        url,
        method=method,
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert _is_problem(response)
    assert _counts() == before
