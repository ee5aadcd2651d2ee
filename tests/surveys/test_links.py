"""Signed survey links and form tokens: round trip, tampering, expiry, clocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.core.clock import FixedClock
from app.surveys.invitations import web_link
from app.surveys.links import (
    DEFAULT_LINK_MAX_AGE,
    LINK_SALT,
    LinkExpired,
    LinkTampered,
    check_form_token,
    form_token,
    link_signer,
    read_link,
)

KEY = "link-test-secret-key-0123456789abcdef"
OTHER_KEY = "another-secret-key-0123456789abcdefgh"
SIGNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 3600


def _token(session_id: int = 42, key: str = KEY, at: datetime = SIGNED_AT) -> str:
    return str(link_signer(key, clock=FixedClock(at)).dumps({"s": session_id}))


def _flip_last(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def _flip_payload(token: str) -> str:
    return ("f" if token[0] != "f" else "e") + token[1:]


@pytest.mark.parametrize("session_id", [1, 42, 2**31 - 1])
def test_a_link_carries_only_the_session_id(session_id: int) -> None:
    token = _token(session_id)
    assert read_link(token, KEY, DAY, clock=FixedClock(SIGNED_AT)) == session_id
    payload = URLSafeTimedSerializer(KEY, salt=LINK_SALT).loads(token)
    assert payload == {"s": session_id}


def test_the_service_builds_the_link_with_the_signer() -> None:
    signer = link_signer(KEY, clock=FixedClock(SIGNED_AT))
    link = web_link("https://wesaid.example.org/", 42, signer)
    base, token = link.rsplit("/s/", 1)
    assert base == "https://wesaid.example.org"
    assert read_link(token, KEY, DAY, clock=FixedClock(SIGNED_AT)) == 42


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: _flip_last(_token()), id="signature-changed"),
        pytest.param(lambda: _flip_payload(_token()), id="payload-changed"),
        pytest.param(lambda: _token()[:-6], id="truncated"),
        pytest.param(lambda: _token(key=OTHER_KEY), id="other-key"),
        pytest.param(
            lambda: form_token(KEY, 42, clock=FixedClock(SIGNED_AT)), id="form-token-as-link"
        ),
        pytest.param(
            lambda: URLSafeTimedSerializer(KEY, salt=LINK_SALT).dumps({"s": "42"}),
            id="id-not-a-number",
        ),
        pytest.param(
            lambda: URLSafeTimedSerializer(KEY, salt=LINK_SALT).dumps({"s": 0}), id="id-zero"
        ),
        pytest.param(
            lambda: URLSafeTimedSerializer(KEY, salt=LINK_SALT).dumps([42]), id="not-a-mapping"
        ),
        pytest.param(lambda: "42", id="bare-id"),
        pytest.param(lambda: "", id="empty"),
        pytest.param(lambda: _token() + "x" * 300, id="too-long"),
    ],
)
def test_a_link_we_did_not_sign_is_tampered(make: Callable[[], str]) -> None:
    with pytest.raises(LinkTampered, match="survey link"):
        read_link(make(), KEY, DAY, clock=FixedClock(SIGNED_AT))


@pytest.mark.parametrize(
    ("age", "max_age", "expired"),
    [
        (timedelta(0), DAY, False),
        (timedelta(seconds=DAY), DAY, False),
        (timedelta(seconds=DAY + 1), DAY, True),
        (timedelta(days=29), DEFAULT_LINK_MAX_AGE, False),
        (timedelta(days=31), DEFAULT_LINK_MAX_AGE, True),
        # Signed a little "in the future" by a machine whose clock runs ahead.
        (timedelta(seconds=-30), DAY, False),
    ],
)
def test_expiry_counts_on_the_given_clock(age: timedelta, max_age: int, expired: bool) -> None:
    token = _token(7)
    reader = FixedClock(SIGNED_AT + age)
    if not expired:
        assert read_link(token, KEY, max_age, clock=reader) == 7
        return
    with pytest.raises(LinkExpired) as caught:
        read_link(token, KEY, max_age, clock=reader)
    assert caught.value.session_id == 7
    assert caught.value.age_seconds == int(age.total_seconds())
    assert f"max age {max_age} s" in str(caught.value)


def test_without_a_clock_links_use_the_system_time() -> None:
    token = str(link_signer(KEY).dumps({"s": 5}))
    assert read_link(token, KEY, 60) == 5
    with pytest.raises(LinkExpired):
        read_link(token, KEY, 60, clock=FixedClock(datetime.now(UTC) + timedelta(hours=1)))


def test_a_signer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="secret_key"):
        link_signer("")


@pytest.mark.parametrize(
    ("token_for", "checked_for", "key", "age", "accepted"),
    [
        (42, 42, KEY, timedelta(minutes=5), True),
        (42, 43, KEY, timedelta(minutes=5), False),
        (42, 42, OTHER_KEY, timedelta(minutes=5), False),
        (42, 42, KEY, timedelta(days=2), False),
    ],
)
def test_a_form_token_is_bound_to_its_session_and_age(
    token_for: int, checked_for: int, key: str, age: timedelta, accepted: bool
) -> None:
    token = form_token(KEY, token_for, clock=FixedClock(SIGNED_AT))
    found = check_form_token(token, key, checked_for, DAY, clock=FixedClock(SIGNED_AT + age))
    assert found is accepted


@pytest.mark.parametrize("token", [None, "", "not-a-token", _token(42)])
def test_a_missing_or_foreign_form_token_is_refused(token: str | None) -> None:
    assert not check_form_token(token, KEY, 42, DAY, clock=FixedClock(SIGNED_AT))
