"""Errors of the JSON API, in one shape: RFC 9457 problem details.

Every error answers `application/problem+json` with `type`, `title`, `status` and,
where it helps, `detail`. A report of refused rows carries `errors`, a list of
`{line, field, reason}` (the line is the 0-based index of the row in the request body),
beside the import's counts. No message ever echoes the data that was sent.

`init_app` makes the errors Flask raises itself under `/api/` (an unknown route, a
method not allowed, a body over the limit) take the same shape, and `on_failure`, on
each API blueprint, turns an unexpected failure into a 500 problem after undoing what
the request had begun to write.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from traceback import format_tb
from typing import Any

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from app.core.imports import RowError
from app.extensions import db

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
#: Problem types beyond the bare HTTP status, relative to the API's root.
ROWS_REFUSED = "/api/v1/problems/rows-refused"
API_PREFIX = "/api/"


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    errors: Sequence[RowError | Mapping[str, object]] | None = None,
    **extensions: object,
) -> tuple[Response, int]:
    """A problem document answering with `status`.

    With the default type the title is the status's reason phrase, as RFC 9457 asks.
    """
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body |= extensions
    if errors is not None:
        body["errors"] = [
            dict(error)
            if isinstance(error, Mapping)
            else {"line": error.line, "field": error.field, "reason": error.reason}
            for error in errors
        ]
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    return response, status


def is_api_request() -> bool:
    """Whether the request is for the JSON API."""
    return request.path.startswith(API_PREFIX)


def http_error(error: HTTPException) -> Response:
    """An HTTP error (Flask's own too: an unknown route, a method not allowed, a body
    over the limit) as a problem document."""
    response, _status = problem(error.code or 500, error.description)
    headers = dict(error.get_headers())
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in headers:
            response.headers[name] = headers[name]
    return response


def on_failure(error: Exception) -> Response | HTTPException:
    """An API blueprint's handler of every exception: HTTP errors as problems, anything
    else as a 500 problem, the session rolled back and only the frames logged (an
    exception's message may quote what was sent)."""
    if isinstance(error, HTTPException):
        return http_error(error)
    db.session.rollback()
    frames = "".join(format_tb(error.__traceback__))
    log.error("API request failed: %s\n%s", type(error).__name__, frames)
    return problem(500, "the request could not be completed; nothing was written")[0]
