"""JSON API v1: record a patient's goal from the clinic's own system.

`POST /api/v1/clinics/<slug>/goals` with `{"patient_external_id": "...", "text": "...",
"locale": "pl", "translation_en": "...", "score": 3}` (translation and score optional;
the translation is needed for a goal not in English) opens the goal and answers 201
with its id and the patient's open goals. The patient is named in the body, never in
the URL, so that no request log holds who it was.

Same rules as every route (`app.api.common`): a bearer token of the clinic with the
`goals:write` scope (401 without a token of the clinic, 403 without the scope); 400
for a body that is not the object described, 404 for a patient the clinic does not
have, 422 naming the field for a goal the rules refuse (a fourth open goal, a missing
translation, a score outside 0-10). The goal is in the audit log with the token.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api.common import Refused, authorised_caller, error
from app.api.problems import on_failure
from app.audit.service import Actor
from app.clinics.tokens import Scope
from app.core.errors import Invalid, NotFound
from app.core.inputs import bounded_text
from app.goals import service as goals
from app.patients.service import find_patients_by_external_id
from app.runtime import get_runtime

bp = Blueprint("goals_api", __name__, url_prefix="/api/v1")
bp.register_error_handler(Exception, on_failure)

#: A goal and its translation are short; anything much bigger is not a goal.
MAX_BODY_BYTES = 16 * 1024
FIELDS = {"patient_external_id", "text", "locale", "translation_en", "score"}
MAX_EXTERNAL_ID = 64


class _BadBody(Exception):
    """The body is not the object the route takes; the message says why."""


@bp.post("/clinics/<slug>/goals")
def open_goal(slug: str) -> tuple[Response, int]:
    """Open a goal for a patient of the clinic."""
    try:
        caller = authorised_caller(slug, Scope.GOALS_WRITE)
    except Refused as refused:
        return refused.response
    try:
        external_id, given = _read_body()
    except _BadBody as exc:
        return error(str(exc), 400)
    found = find_patients_by_external_id(caller.clinic.id, [external_id])
    patient = found[0] if found else None
    if patient is None:
        return error("the clinic has no patient with this patient_external_id", 404)
    actor = Actor(token_id=caller.token_id, address=request.remote_addr)
    try:
        goal = goals.open_goal(patient.id, given, actor, get_runtime().clock)
    except Invalid as exc:
        return error(str(exc), 422)
    except NotFound:
        return error("the clinic has no patient with this patient_external_id", 404)
    body = {"id": goal.id, "open_goals": goals.count_open(patient.id)}
    return jsonify(body), 201


def _read_body() -> tuple[str, goals.GoalInput]:
    request.max_content_length = MAX_BODY_BYTES
    try:
        body: Any = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise _BadBody("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _BadBody("the body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise _BadBody(f"unknown keys: {', '.join(unknown)}")
    external_id = _text(body, "patient_external_id", MAX_EXTERNAL_ID, required=True)
    score = body.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
        raise _BadBody("'score' must be a whole number from 0 to 10, or left out")
    given = goals.GoalInput(
        _text(body, "text", goals.MAX_GOAL_LENGTH * 2, required=True),
        _text(body, "locale", 16, required=True),
        _text(body, "translation_en", goals.MAX_GOAL_LENGTH * 2, required=False),
        score,
    )
    return external_id, given


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _BadBody(f"{key!r} must be a non-empty string")
    if bounded_text(value, limit) is None:
        raise _BadBody(f"{key!r} must be printable text of at most {limit} characters")
    return value
