"""The goals JSON API: a clinic's token with `goals:write` opens a goal for one of its
patients; bad bodies are 400, unknown patients 404, goals the rules refuse 422."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.tokens import Scope, create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.goals.models import Goal, GoalScore
from tests.world import World

URL = "/api/v1/clinics/north/goals"
GOAL = {"patient_external_id": "pat-1", "text": "Walk to the shops", "locale": "en", "score": 3}


@pytest.fixture
def api(app: Flask) -> Any:
    assert "goals_api" in app.blueprints  # registered by create_app
    return app.test_client()


@pytest.fixture
def tokens(world: World, clock: FixedClock) -> dict[str, str]:
    north = world.clinic("north")
    world.patient(north, "pat-1", locale="pl")
    return {
        "goals": create_token(
            label="goals", clinic_id=north.id, clock=clock, scopes=[Scope.GOALS_WRITE]
        ).secret,
        "results": create_token(
            label="results", clinic_id=north.id, clock=clock, scopes=[Scope.RESULTS_READ]
        ).secret,
    }


def _post(api: Any, body: object, token: str) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}"}
    return api.post(URL, data=data, headers=headers, content_type="application/json")


def test_a_goal_is_opened_with_the_token_in_the_audit_log(api: Any, tokens: dict[str, str]) -> None:
    answer = _post(api, GOAL, tokens["goals"])
    assert answer.status_code == 201
    [goal] = db.session.scalars(select(Goal))
    assert answer.get_json() == {"id": goal.id, "open_goals": 1}
    assert goal.text == "Walk to the shops"
    assert goal.opened_by_user_id is None
    assert goal.opened_by_token_id is not None
    assert db.session.scalars(select(GoalScore.score)).all() == [3]
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.CHANGE_GOALS)
    )
    assert event.actor_token_id == goal.opened_by_token_id


def test_a_token_without_the_scope_is_refused(api: Any, tokens: dict[str, str]) -> None:
    answer = _post(api, GOAL, tokens["results"])
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ("{", 400, "the body is not valid JSON"),
        ([], 400, "the body must be a JSON object"),
        ({**GOAL, "name": "Ada"}, 400, "name: unknown field"),
        ({**GOAL, "text": ""}, 400, "text: must be 1 to 600 printable characters"),
        ({**GOAL, "score": "7"}, 400, "score: must be a whole number"),
        ({**GOAL, "patient_external_id": "nobody"}, 404, "the clinic has no patient"),
        ({**GOAL, "score": 11}, 422, "score: a score is a whole number from 0 to 10"),
        ({**GOAL, "locale": "pl"}, 422, "translation_en: write the goal in English too"),
        ({**GOAL, "locale": "xx"}, 422, "locale: choose a language from the list"),
    ],
)
def test_a_bad_request_says_what_is_wrong(
    api: Any, tokens: dict[str, str], body: object, status: int, detail: str
) -> None:
    answer = _post(api, body, tokens["goals"])
    assert answer.status_code == status
    assert answer.get_json()["detail"].startswith(detail)
    assert "Walk to the shops" not in answer.get_data(as_text=True)
    assert db.session.scalars(select(Goal)).all() == []


def test_a_fourth_open_goal_is_refused(api: Any, tokens: dict[str, str]) -> None:
    for _ in range(3):
        assert _post(api, GOAL, tokens["goals"]).status_code == 201
    refused = _post(api, GOAL, tokens["goals"])
    assert refused.status_code == 422
    assert "at most 3 open goals" in refused.get_json()["detail"]
