"""Signed links to the goal form, and the per-form token that guards its POST.

A link token is `itsdangerous` URL-safe JSON ``{"r": <round id>}`` with a timestamp,
signed with the app's SECRET_KEY under a salt of its own (so a survey link can never be
read as a goal link, nor the other way round). It carries nothing else: no name, no
number, no goal. The database stays the authority on whether a round is open; the
token's age is a ceiling on top of it. Timestamps come from the clock passed in, so a
link signed on the app's clock is read on the same clock (the tests move time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from app.core.clock import Clock
from app.core.inputs import MAX_INT32

LINK_SALT = "wesaid.goal-link"
FORM_SALT = "wesaid.goal-form"
#: Links older than this are refused whatever the round says (the furthest a question
#: is asked before an appointment, and a day).
LINK_MAX_AGE = timedelta(days=29)
#: A form left open longer than this must be sent again.
FORM_MAX_AGE = timedelta(days=1)
#: Real tokens are about 60 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 300


class LinkRefused(ValueError):
    """A goal link or form token that cannot be used: not ours, or too old. `round_id`
    names the round of a token that is ours but too old (None otherwise)."""

    def __init__(self, reason: str, round_id: int | None = None) -> None:
        super().__init__(reason)
        self.round_id = round_id


def _serializer(secret_key: str, salt: str, clock: Clock) -> URLSafeTimedSerializer:
    if not secret_key:
        raise ValueError("secret_key: required to sign goal links")

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return URLSafeTimedSerializer(secret_key, salt=salt, signer=ClockSigner)


def goal_link(public_base_url: str, round_id: int, secret_key: str, clock: Clock) -> str:
    """The signed link to a round's goal form."""
    token = _serializer(secret_key, LINK_SALT, clock).dumps({"r": round_id})
    return f"{public_base_url.rstrip('/')}/g/{token}"


def read_link(token: str, secret_key: str, clock: Clock) -> int:
    """The round id in a link token. Raises LinkRefused for a token we did not sign, or
    one older than LINK_MAX_AGE (then naming its round)."""
    return _read(token, secret_key, LINK_SALT, clock, LINK_MAX_AGE)


def form_token(secret_key: str, round_id: int, clock: Clock) -> str:
    """A token for one rendering of the form of `round_id`, checked when it is sent."""
    return str(_serializer(secret_key, FORM_SALT, clock).dumps({"r": round_id}))


def check_form_token(token: str | None, secret_key: str, round_id: int, clock: Clock) -> bool:
    """Whether `token` was made by `form_token` for `round_id` within FORM_MAX_AGE."""
    try:
        return _read(token or "", secret_key, FORM_SALT, clock, FORM_MAX_AGE) == round_id
    except LinkRefused:
        return False


def _read(token: str, secret_key: str, salt: str, clock: Clock, max_age: timedelta) -> int:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkRefused("the token is empty or too long")
    try:
        payload, signed_at = _serializer(secret_key, salt, clock).loads(
            token, return_timestamp=True
        )
    except BadData:
        raise LinkRefused("the signature does not match") from None
    value = payload.get("r") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INT32:
        raise LinkRefused("the payload holds no round")
    if _age(clock.now(), signed_at) > max_age:
        raise LinkRefused("the link is too old", value)
    return value


def _age(now: datetime, signed_at: datetime) -> timedelta:
    return now - signed_at
