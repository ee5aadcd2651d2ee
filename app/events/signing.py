"""Signing webhook deliveries, and checking a signature as a receiver would (pure).

A delivery carries ``WeSaid-Signature: t=<unix time>,v1=<hex>``, where the hex is the
HMAC-SHA256, keyed with the subscription's secret, of the time, a full stop and the
raw body (``b"1767225600." + body``). Signing the time with the body lets a receiver
refuse an old delivery replayed later; the README shows the same check as a recipe.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "WeSaid-Signature"
EVENT_ID_HEADER = "WeSaid-Event-Id"
EVENT_TYPE_HEADER = "WeSaid-Event-Type"
#: How far a signature's time may be from the receiver's clock, in seconds.
DEFAULT_TOLERANCE = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    """A fresh signing secret (256 bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the WeSaid-Signature header for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.strip())
    if timestamp is None or not candidates:
        return None
    return timestamp, candidates


def verify(
    secret: str, header: str | None, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """True if `header` signs `body` under `secret` at a time within `tolerance` seconds
    of `now` (unix time). A missing or malformed header is simply False."""
    parsed = _parse(header or "")
    if parsed is None:
        return False
    timestamp, candidates = parsed
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
