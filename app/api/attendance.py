"""JSON API v1: the DNA report of a clinic.

Same rules as every route (`app.api.common`): a bearer token of the clinic in
the URL (401 otherwise, for unknown clinics too), 400 for a body or query that is not
what the endpoint takes, 413 for too many rows, 422 when some rows are refused.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request

from app.api.common import Refused, authorised_caller, error
from app.api.problems import on_failure
from app.attendance.periods import parse_month
from app.attendance.service import attendance_report
from app.clinics.tokens import Scope
from app.core.errors import WeSaidError
from app.runtime import get_runtime

bp = Blueprint("attendance_api", __name__, url_prefix="/api/v1")
bp.register_error_handler(Exception, on_failure)


@bp.get("/clinics/<slug>/attendance")
def report(slug: str) -> tuple[Response, int]:
    """The DNA report over whole months: `?from=YYYY-MM&to=YYYY-MM`."""
    try:
        clinic = authorised_caller(slug, Scope.ATTENDANCE_READ).clinic
    except Refused as refused:
        return refused.response
    try:
        first, last = _month("from"), _month("to")
    except ValueError as exc:
        return error(str(exc), 400)
    try:
        found = attendance_report(clinic.slug, first, last, get_runtime().clock)
    except WeSaidError as exc:
        return error(str(exc), 400)
    return jsonify(found.to_json()), 200


def _month(name: str) -> date:
    try:
        return parse_month(request.args.get(name, ""))
    except ValueError as exc:
        raise ValueError(f"query parameter {name!r}: {exc}") from None
