"""The JSON import API: bearer tokens per clinic, row errors, and malformed bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.clinics.service import create_clinic
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.patients.models import Patient

P1 = {"external_id": "P1", "phone": "+447400123456", "locale": "pl", "birth_year": 1980}
P2 = {"external_id": "P2", "phone": "07400 123457", "locale": "so", "sex": "F"}
PATIENTS_URL = "/api/v1/clinics/c1/patients"
APPOINTMENTS_URL = "/api/v1/clinics/c1/appointments"


@pytest.fixture
def tokens(app: Any, clock: FixedClock) -> dict[str, str]:
    """An API token for each of two clinics, c1 and c2."""
    issued = {}
    for slug, sender in (("c1", "+442071838750"), ("c2", "+442071838751")):
        clinic = create_clinic(
            slug, name=slug, timezone="Europe/London", sender=sender, clock=clock
        )
        issued[slug] = create_token(label="test", clinic_id=clinic.id, clock=clock).secret
    return issued


def _post(client: Any, url: str, body: object, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(url, data=json.dumps(body), headers=headers, content_type="application/json")


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("url", "header"),
    [
        (PATIENTS_URL, None),
        (PATIENTS_URL, "Bearer"),
        (PATIENTS_URL, "Bearer ws_not-a-real-token"),
        (PATIENTS_URL, "Basic {c1}"),
        (PATIENTS_URL, "Bearer {c2}"),  # another clinic's token
        ("/api/v1/clinics/nope/patients", "Bearer {c1}"),  # unknown clinic: no enumeration
        ("/api/v1/clinics/c2/appointments", "Bearer {c1}"),
    ],
)
def test_requests_without_this_clinics_token_are_refused(
    client: Any, tokens: dict[str, str], url: str, header: str | None
) -> None:
    headers = {"Authorization": header.format(**tokens)} if header else {}
    response = client.post(url, json={"patients": [P1]}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _count(Patient) == 0


def test_patients_are_created_then_unchanged(client: Any, tokens: dict[str, str]) -> None:
    first = _post(client, PATIENTS_URL, {"patients": [P1, P2]}, tokens["c1"])
    assert first.status_code == 200
    assert first.get_json() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "imported": True,
        "errors": [],
    }
    again = _post(client, PATIENTS_URL, {"patients": [P1, {**P2, "sex": "U"}]}, tokens["c1"])
    assert (again.get_json()["unchanged"], again.get_json()["updated"]) == (1, 1)


@pytest.mark.parametrize(
    ("strict", "created", "imported"),
    [(False, 1, True), (True, 0, False)],
)
def test_bad_rows_answer_422_with_row_and_field(
    client: Any, tokens: dict[str, str], strict: bool, created: int, imported: bool
) -> None:
    rows = [P1, {**P2, "phone": "09098790000", "imd_quintile": 7, "nhs_number": "x"}]
    response = _post(client, PATIENTS_URL, {"patients": rows, "strict": strict}, tokens["c1"])
    assert response.status_code == 422
    body = response.get_json()
    assert (body["created"], body["imported"]) == (created, imported)
    assert body["errors"] == [
        {"line": 1, "field": "imd_quintile", "reason": "must be 1 (most deprived) to 5"},
        {"line": 1, "field": "nhs_number", "reason": "unknown field"},
        {"line": 1, "field": "phone", "reason": "premium rate number not accepted"},
    ]
    assert "09098790000" not in response.get_data(as_text=True)
    assert _count(Patient) == created


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "not valid JSON"),
        (b"\xff", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b'{"patients": {}}', "patients: must be a list"),
        (b'{"patients": [1]}', "patients[0]: must be an object"),
        (b'{"patients": [], "strict": "yes"}', "strict: must be true or false"),
        (b'{"rows": []}', "patients: required"),
        (b"{}", "patients: required"),
    ],
)
def test_malformed_bodies_answer_400(
    client: Any, tokens: dict[str, str], data: bytes, message: str
) -> None:
    response = client.post(
        PATIENTS_URL,
        data=data,
        headers={"Authorization": f"Bearer {tokens['c1']}"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert message in response.get_json()["detail"]


def test_too_many_rows_answer_413(client: Any, tokens: dict[str, str]) -> None:
    rows = [{"external_id": str(i)} for i in range(10_001)]
    response = _post(client, PATIENTS_URL, {"patients": rows}, tokens["c1"])
    assert response.status_code == 413
    assert _count(Patient) == 0


def test_appointments_are_imported_and_planned(client: Any, tokens: dict[str, str]) -> None:
    assert _post(client, PATIENTS_URL, {"patients": [P1]}, tokens["c1"]).status_code == 200
    rows = [
        {"external_id": "A1", "patient_external_id": "P1", "starts_at": "2026-03-20T10:00"},
        {"external_id": "A2", "patient_external_id": "P2", "starts_at": "2026-03-20T10:00"},
        {"external_id": "A3", "patient_external_id": "P1", "starts_at": "soon"},
    ]
    response = _post(client, APPOINTMENTS_URL, {"appointments": rows}, tokens["c1"])
    assert response.status_code == 422
    body = response.get_json()
    assert body["created"] == 1
    assert body["errors"] == [
        {
            "line": 1,
            "field": "patient_external_id",
            "reason": "no patient with this external id in this clinic",
        },
        {"line": 2, "field": "starts_at", "reason": "not an ISO 8601 date and time"},
    ]
    assert _count(Appointment) == 1
    assert _count(OutboundMessage) == 2


def test_a_clinic_sees_only_its_own_patients(client: Any, tokens: dict[str, str]) -> None:
    assert _post(client, PATIENTS_URL, {"patients": [P1]}, tokens["c1"]).status_code == 200
    rows = [{"external_id": "A1", "patient_external_id": "P1", "starts_at": "2026-03-20T10:00Z"}]
    response = _post(
        client, "/api/v1/clinics/c2/appointments", {"appointments": rows}, tokens["c2"]
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "patient_external_id"


def test_an_oversized_body_answers_413_before_it_is_read(
    client: Any, tokens: dict[str, str]
) -> None:
    response = client.post(
        PATIENTS_URL,
        data=b" " * (9 * 1024 * 1024),
        headers={"Authorization": f"Bearer {tokens['c1']}"},
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 413
