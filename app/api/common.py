"""What every JSON API v1 route shares: authentication, errors and the audit of changes.

Every request carries `Authorization: Bearer <token>`: a live token of the clinic in the
URL or of its organisation. A missing, wrong, expired or revoked token and an unknown
clinic all answer 401, so the API does not tell outsiders which clinics exist; a token
without the route's scope answers 403. Every change made through the API is in the
audit log with the token that made it. Bad input answers 400 (not JSON, wrong shape),
413 (too many rows or too large a body) or 422 (some rows refused), never 500. The
routes themselves are declared in `app.api.operations`, which calls these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Response, request

from app.api.problems import problem
from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.tokens import Caller, Scope, find_caller
from app.core.clock import Clock
from app.core.imports import ImportReport
from app.core.inputs import bounded_text
from app.extensions import db
from app.runtime import get_runtime

#: Longer than any clinic slug or API token we issue.
MAX_SLUG, MAX_TOKEN = 64, 256

Importer = Callable[..., ImportReport]


class Refused(Exception):
    """The request may not go on: `response` says why (401 or 403)."""

    def __init__(self, response: tuple[Response, int]) -> None:
        super().__init__(response[1])
        self.response = response


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
