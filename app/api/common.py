"""What every JSON API v1 route shares: authentication, errors and import bodies.

Every request carries `Authorization: Bearer <token>`: a live token of the clinic in the
URL or of its organisation. A missing, wrong, expired or revoked token and an unknown
clinic all answer 401, so the API does not tell outsiders which clinics exist; a token
without the route's scope answers 403. Every change made through the API is in the
audit log with the token that made it. Bad input answers 400 (not JSON, wrong shape),
413 (too many rows or too large a body) or 422 (some rows refused), never 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, jsonify, request

from app.api.problems import ROWS_REFUSED, problem
from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.tokens import Caller, Scope, find_caller
from app.core.clock import Clock
from app.core.errors import WeSaidError
from app.core.imports import ImportReport
from app.core.inputs import bounded_text
from app.extensions import db
from app.runtime import get_runtime

MAX_ROWS = 10_000
#: Generous for 10,000 rows of these fields; the body is refused before it is read.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Longer than any clinic slug or API token we issue.
MAX_SLUG, MAX_TOKEN = 64, 256

Importer = Callable[..., ImportReport]


class BodyError(Exception):
    """The body is not what the endpoint takes; the message says why (never echoes data)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Refused(Exception):
    """The request may not go on: `response` says why (401 or 403)."""

    def __init__(self, response: tuple[Response, int]) -> None:
        super().__init__(response[1])
        self.response = response


def import_rows(slug: str, key: str, importer: Importer, scope: Scope) -> tuple[Response, int]:
    """Run `importer` on the rows under `key` of the request's body, for clinic `slug`,
    for a caller whose token has `scope`."""
    try:
        caller = authorised_caller(slug, scope)
    except Refused as refused:
        return refused.response
    clinic = caller.clinic
    try:
        rows, strict = _parse_body(key)
    except BodyError as exc:
        return error(str(exc), exc.status)
    clock: Clock = get_runtime().clock
    try:
        report = importer(clinic.id, rows, source=f"api:{key}", strict=strict, clock=clock)
    except WeSaidError as exc:
        return error(str(exc), 409)
    audit_change(caller, clock, key, _counts(report))
    if report.errors:
        return problem(
            422,
            f"{report.bad_rows} of the {len(rows)} rows were refused; see errors",
            title="Some rows were refused",
            type_=ROWS_REFUSED,
            errors=report.errors,
            **_counts(report),
        )
    return jsonify(_counts(report) | {"errors": []}), 200


def authorised_caller(slug: str, scope: Scope) -> Caller:
    """The caller if the request carries a live token for clinic `slug` with `scope`.
    Raises Refused: 401 without such a token, 403 when it lacks the scope."""
    caller = authenticated_caller(slug)
    if caller is None:
        raise Refused(unauthorised())
    if not caller.may(scope):
        raise Refused(problem(403, f"this token does not have the scope {scope.value!r}"))
    return caller


def authenticated_caller(slug: str) -> Caller | None:
    """The caller if the request carries a live token for clinic `slug`, else None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    if bounded_text(slug, MAX_SLUG) is None or bounded_text(token, MAX_TOKEN) is None:
        return None  # no clinic has such a slug, no token is such a string
    return find_caller(slug, token, get_runtime().clock.now())


def audit_change(
    caller: Caller, clock: Clock, what: str, counts: Mapping[str, object] | None = None
) -> None:
    """Write to the audit log that `caller` changed `what` in its clinic. Commits."""
    detail = {"what": what} | {
        key: value for key, value in (counts or {}).items() if isinstance(value, int)
    }
    record(
        AuditAction.API_CHANGE,
        Actor(token_id=caller.token_id, address=request.remote_addr),
        clock.now(),
        record_type="clinic",
        record_ids=[caller.clinic.id],
        clinic_id=caller.clinic.id,
        organisation_id=caller.clinic.organisation_id,
        detail=detail,
    )
    db.session.commit()


def unauthorised() -> tuple[Response, int]:
    """401 with the challenge; the same for a wrong token and an unknown clinic."""
    response, status = problem(401, "a valid bearer token for this clinic is required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="wesaid"'
    return response, status


def error(message: str, status: int) -> tuple[Response, int]:
    """A problem document with `status`; `message` never echoes the data sent."""
    return problem(status, message)


def _parse_body(key: str) -> tuple[list[Mapping[str, object]], bool]:
    """The rows and the strict flag; raises BodyError for anything else."""
    request.max_content_length = MAX_BODY_BYTES
    try:
        body: Any = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise BodyError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BodyError("the body must be a JSON object")
    unknown = sorted(set(body) - {key, "strict"})
    if unknown:
        raise BodyError(f"unknown keys: {', '.join(unknown)}; expected {key!r} and 'strict'")
    strict = body.get("strict", False)
    if not isinstance(strict, bool):
        raise BodyError("'strict' must be true or false")
    return _rows(body.get(key), key), strict


def _rows(value: object, key: str) -> list[Mapping[str, object]]:
    if not isinstance(value, list):
        raise BodyError(f"{key!r} must be a list of objects")
    if len(value) > MAX_ROWS:
        raise BodyError(f"at most {MAX_ROWS} rows per request", 413)
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise BodyError(f"{key}[{index}] must be an object")
    return value


def _counts(report: ImportReport) -> dict[str, object]:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "imported": report.imported,
    }
