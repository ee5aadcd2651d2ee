"""Signed links to the survey web form, and the per-form token that guards its POST.

A link token is `itsdangerous` URL-safe JSON ``{"s": <session id>}`` with a timestamp,
signed with the app's SECRET_KEY under the salt ``wesaid.survey-link``. It carries
nothing else: no name, no number, no answer. The database stays the authority on
whether a session is open; the token's age is a ceiling on top of it.

The timestamp comes from a clock, so a link signed by a worker on the app's clock is
read on the same clock (the demo and the tests move time). Both sides must use the
same clock: pass the runtime's clock to `link_signer` and to `read_link`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from app.core.clock import Clock
from app.core.inputs import MAX_INT32

LINK_SALT = "wesaid.survey-link"
FORM_SALT = "wesaid.survey-form"
#: Links older than this are refused whatever the session says (30 days).
DEFAULT_LINK_MAX_AGE = int(timedelta(days=30).total_seconds())
#: A form left open longer than this must be sent again (one day).
DEFAULT_FORM_MAX_AGE = int(timedelta(days=1).total_seconds())
#: Real tokens are about 60 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 300


class LinkError(ValueError):
    """A survey link that cannot be used."""


class LinkTampered(LinkError):
    """The token was not signed by us (altered, truncated, or from another key or salt)."""


class LinkExpired(LinkError):
    """The token is ours but older than its max age; `session_id` says whose it was."""

    def __init__(self, session_id: int, age_seconds: int, max_age: int) -> None:
        self.session_id = session_id
        self.age_seconds = age_seconds
        super().__init__(
            f"survey link for session {session_id}: {age_seconds} s old, max age {max_age} s"
        )


def _signer_on(clock: Clock) -> type[TimestampSigner]:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockSigner


def _serializer(secret_key: str | bytes, salt: str, clock: Clock | None) -> URLSafeTimedSerializer:
    if not secret_key:
        raise ValueError("secret_key: required to sign survey links")
    if clock is None:
        return URLSafeTimedSerializer(secret_key, salt=salt)
    return URLSafeTimedSerializer(secret_key, salt=salt, signer=_signer_on(clock))


def link_signer(secret_key: str | bytes, *, clock: Clock | None = None) -> URLSafeTimedSerializer:
    """The serializer that signs survey links (`invitations.web_link` calls its `dumps`).

    Timestamps come from `clock` (default: the system clock).
    """
    return _serializer(secret_key, LINK_SALT, clock)


def read_link(
    token: str, secret_key: str | bytes, max_age: int, *, clock: Clock | None = None
) -> int:
    """The session id in a link token.

    Raises LinkTampered for a token we did not sign (or whose payload is not ours) and
    LinkExpired, carrying the session id, for one older than `max_age` seconds by
    `clock`. A token dated slightly in the future (clock skew between machines) is
    accepted.
    """
    payload, signed_at = _load(token, secret_key, LINK_SALT)
    session_id = _session_id(payload)
    age = int((_now(clock) - signed_at).total_seconds())
    if age > max_age:
        raise LinkExpired(session_id, age, max_age)
    return session_id


def form_token(secret_key: str | bytes, session_id: int, *, clock: Clock | None = None) -> str:
    """A token for one rendering of the form of `session_id`, checked when it is sent."""
    return str(_serializer(secret_key, FORM_SALT, clock).dumps({"s": session_id}))


def check_form_token(
    token: str | None,
    secret_key: str | bytes,
    session_id: int,
    max_age: int = DEFAULT_FORM_MAX_AGE,
    *,
    clock: Clock | None = None,
) -> bool:
    """Whether `token` was made by `form_token` for `session_id` within `max_age` seconds."""
    if not token:
        return False
    try:
        payload, signed_at = _load(token, secret_key, FORM_SALT)
        found = _session_id(payload)
    except LinkTampered:
        return False
    age = (_now(clock) - signed_at).total_seconds()
    return found == session_id and age <= max_age


def _load(token: str, secret_key: str | bytes, salt: str) -> tuple[Any, datetime]:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkTampered("survey link: the token is empty or too long")
    serializer = _serializer(secret_key, salt, None)
    try:
        payload, signed_at = serializer.loads(token, return_timestamp=True)
    except BadData:
        raise LinkTampered("survey link: the signature does not match") from None
    return payload, signed_at


def _session_id(payload: Any) -> int:
    value = payload.get("s") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INT32:
        raise LinkTampered("survey link: the payload holds no session id")
    return value


def _now(clock: Clock | None) -> datetime:
    return clock.now() if clock is not None else datetime.now(UTC)
