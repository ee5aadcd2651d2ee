"""The attendance JSON API: recording outcomes and reading the report, per clinic token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from app.api.schemas import MAX_ROWS
from app.appointments.models import AppointmentStatus as S
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from tests.world import World

OUTCOMES = "/api/v1/clinics/north/outcomes"
REPORT = "/api/v1/clinics/north/attendance?from=2026-02&to=2026-02"


@pytest.fixture
def api(app: Flask) -> Any:
    assert "attendance_api" in app.blueprints  # registered by create_app
    return app.test_client()


@pytest.fixture
def tokens(world: World, clock: FixedClock) -> dict[str, str]:
    north, south = world.clinic("north"), world.clinic("south")
    patient = world.patient(north, "pat-1")
    world.book(north, "A1", "pat-1", datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    world.add(patient, datetime(2026, 2, 10, 12, 0, tzinfo=UTC), S.DNA)
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    return {
        c.slug: create_token(label="test", clinic_id=c.id, clock=clock).secret
        for c in (north, south)
    }


def _post(api: Any, body: object, token: str | None, url: str = OUTCOMES) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.post(url, data=json.dumps(body), headers=headers, content_type="application/json")


@pytest.mark.parametrize("who", [None, "south", "bogus"])
def test_outcomes_need_this_clinics_token(
    api: Any, tokens: dict[str, str], who: str | None
) -> None:
    token = tokens.get(who or "", "ws_bogus") if who else None
    response = _post(api, {"outcomes": []}, token)
    assert response.status_code == 401
    assert api.get(REPORT, headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("not json", 400, "the body is not valid JSON"),
        ({"rows": []}, 400, "outcomes: required"),
        ({"outcomes": [1]}, 400, "outcomes[0]: must be an object"),
        ({"outcomes": [{}] * (MAX_ROWS + 1)}, 413, f"at most {MAX_ROWS} rows per request"),
    ],
)
def test_malformed_bodies_are_refused(
    api: Any, tokens: dict[str, str], body: object, status: int, error: str
) -> None:
    data = body if isinstance(body, str) else json.dumps(body)
    response = api.post(
        OUTCOMES,
        data=data,
        headers={"Authorization": f"Bearer {tokens['north']}"},
        content_type="application/json",
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == error


def test_outcomes_are_recorded_and_bad_rows_answer_422(api: Any, tokens: dict[str, str]) -> None:
    body = {
        "outcomes": [
            {"external_id": "A1", "outcome": "dna"},
            {"external_id": "A2", "outcome": "dna"},
        ]
    }
    response = _post(api, body, tokens["north"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "/api/v1/problems/rows-refused",
        "title": "Some rows were refused",
        "status": 422,
        "detail": "1 of the 2 rows were refused; see errors",
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "imported": True,
        "errors": [
            {
                "line": 1,
                "field": "external_id",
                "reason": "no appointment with this external id in this clinic",
            }
        ],
    }
    again = _post(api, {"outcomes": body["outcomes"][:1]}, tokens["north"])
    assert (again.status_code, again.get_json()["unchanged"]) == (200, 1)


def test_the_report_is_served_as_json(api: Any, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['north']}"}
    response = api.get(REPORT, headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert (data["clinic"], data["first_month"], data["overall"]["dna"]) == ("north", "2026-02", 1)
    bad = api.get("/api/v1/clinics/north/attendance?from=feb&to=2026-02", headers=headers)
    assert (bad.status_code, bad.get_json()) == (
        400,
        {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "query parameter 'from': expected YYYY-MM or YYYY-MM-DD",
            "errors": [{"field": "from", "reason": "expected YYYY-MM or YYYY-MM-DD"}],
        },
    )
