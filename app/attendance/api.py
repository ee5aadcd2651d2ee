"""JSON API v1 for attendance: recording outcomes, and the DNA report of a clinic.

Same rules as the import endpoints of `app.api.routes`: a bearer token of the clinic in
the URL (401 otherwise, for unknown clinics too), 400 for a body or query that is not
what the endpoint takes, 413 for too many rows, 422 when some rows are refused.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.routes import _authenticated_clinic, _error, _import, _unauthorised
from app.attendance.service import attendance_report, import_outcome_rows
from app.core.errors import WeSaidError
from app.runtime import get_runtime

bp = Blueprint("attendance_api", __name__, url_prefix="/api/v1")


@bp.post("/clinics/<slug>/outcomes")
def import_outcomes(slug: str) -> tuple[Response, int]:
    """Record outcomes from `{"outcomes": [{"external_id", "outcome", "cancelled_at"?}],
    "strict": bool}`."""
    return _import(slug, "outcomes", import_outcome_rows)


@bp.get("/clinics/<slug>/attendance")
def report(slug: str) -> tuple[Response, int]:
    """The DNA report over whole months: `?from=YYYY-MM&to=YYYY-MM`."""
    clinic = _authenticated_clinic(slug)
    if clinic is None:
        return _unauthorised()
    try:
        first, last = _month("from"), _month("to")
    except ValueError as exc:
        return _error(str(exc), 400)
    try:
        found = attendance_report(clinic.slug, first, last, get_runtime().clock)
    except WeSaidError as exc:
        return _error(str(exc), 400)
    return jsonify(found.to_json()), 200


def _month(name: str) -> date:
    text = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(text if len(text) > len("2026-01") else f"{text}-01")
    except ValueError:
        raise ValueError(f"query parameter {name!r}: expected YYYY-MM or YYYY-MM-DD") from None


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[Response, int]:
    return _error("request body too large", 413)
