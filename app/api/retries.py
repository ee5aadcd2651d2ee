"""`Idempotency-Key` on every POST of the API: a retry gets the first answer.

A client that is not sure a POST arrived (a timeout, a dropped connection) sends it
again with the same `Idempotency-Key`. The key is the token's own, kept 24 hours:
- the same request again answers what the first got (status and body, with
  `Idempotent-Replayed: true`) and writes nothing;
- the same key with a different request (another body or path) answers 422;
- while the first is still being answered, 409 with `Retry-After`;
- a first request that failed on the server's side (5xx) leaves no trace: a retry runs.
A key is 1 to 255 visible ASCII characters (a UUID is a good one). Without the header a
POST runs as it always did.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime

from flask import Response, request

from app.api.problems import problem
from app.clinics import idempotency
from app.clinics.idempotency import Answer, Claim
from app.extensions import db

KEY_HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
KEY_REUSED = "/api/v1/problems/idempotency-key-reused"
REPLAYED_HEADER = "Idempotent-Replayed"


def once(token_id: int, now: datetime, raw: bytes, run: Callable[[], Response]) -> Response:
    """`run()` unless the request's `Idempotency-Key` says it has been answered before."""
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return run()
    if not re.fullmatch(KEY_PATTERN, key):
        reason = "must be 1 to 255 visible ASCII characters"
        errors = [{"field": KEY_HEADER, "reason": reason}]
        return problem(400, f"the {KEY_HEADER} header {reason}", errors=errors)[0]
    claimed = idempotency.claim(token_id, key, _fingerprint(raw), now)
    if claimed.outcome is Claim.REPLAY and claimed.answer is not None:
        replay = Response(
            claimed.answer.body,
            status=claimed.answer.status,
            content_type=claimed.answer.content_type,
        )
        replay.headers[REPLAYED_HEADER] = "true"
        return replay
    if claimed.outcome is Claim.MISMATCH:
        return problem(
            422,
            f"this {KEY_HEADER} was used for a different request; use a new key",
            title="Idempotency key reused",
            type_=KEY_REUSED,
        )[0]
    if claimed.outcome is not Claim.CLAIMED or claimed.claim_id is None:
        response = problem(409, f"a request with this {KEY_HEADER} is still being answered")[0]
        response.headers["Retry-After"] = "1"
        return response
    return _answer(claimed.claim_id, run)


def _answer(claim_id: int, run: Callable[[], Response]) -> Response:
    try:
        response = run()
    except Exception:
        db.session.rollback()
        idempotency.release(claim_id)
        raise
    if response.status_code >= 500:
        idempotency.release(claim_id)
    else:
        stored = Answer(
            response.status_code,
            response.content_type or "application/json",
            response.get_data(as_text=True),
        )
        idempotency.answer(claim_id, stored)
    return response


def _fingerprint(raw: bytes) -> str:
    """The request's method, path, query and body; the body as canonical JSON, so that
    a retry that spaces or orders its keys differently is still the same request."""
    body: object = json.loads(raw) if raw.strip() else None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    what = f"{request.method} {request.path}?{request.query_string.decode('latin-1')}\n"
    return hashlib.sha256((what + canonical).encode()).hexdigest()
