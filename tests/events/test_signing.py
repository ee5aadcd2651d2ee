"""Signatures and addresses (pure): what a receiver checks, and where events may go."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.events.endpoints import UrlProblem, UrlRefused, check_identifier_system, check_url
from app.events.payloads import event_body, retry_delay
from app.events.signing import new_secret, signature_header, verify

SECRET = "whsec_test"
NOW = 1_772_442_000


def test_the_signature_is_the_documented_hmac() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(SECRET.encode(), b"1772442000." + body, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, NOW, body) == f"t=1772442000,v1={expected}"


@pytest.mark.parametrize(
    ("header", "now", "ok"),
    [
        (None, NOW, False),
        ("", NOW, False),
        ("v1=abc", NOW, False),
        ("t=notanumber,v1=abc", NOW, False),
        ("SIGNED", NOW, True),
        ("SIGNED", NOW + 300, True),
        ("SIGNED", NOW + 301, False),  # replayed later than the tolerance
        ("SIGNED", NOW - 301, False),
        ("t=1772442000,v1=00,v1=SIG", NOW, True),  # one of several v1 values
    ],
)
def test_verify(header: str | None, now: int, ok: bool) -> None:
    body = b"{}"
    signed = signature_header(SECRET, NOW, body)
    sig = signed.split("v1=")[1]
    given_header = signed if header == "SIGNED" else header
    if given_header is not None:
        given_header = given_header.replace("SIG", sig) if header != "SIGNED" else given_header
    assert verify(SECRET, given_header, body, now) is ok


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=10**12 - 1))
def test_verify_accepts_what_was_signed_and_nothing_else(body: bytes, when: int) -> None:
    secret = new_secret()
    header = signature_header(secret, when, body)
    assert verify(secret, header, body, when)
    assert not verify(secret, header, body + b"x", when)
    assert not verify(secret + "x", header, body, when)


@given(st.text(max_size=200))
def test_verify_never_raises_on_any_header(header: str) -> None:
    assert verify(SECRET, header, b"{}", NOW) in (True, False)


def test_the_body_is_stable_and_compact() -> None:
    from datetime import UTC, datetime

    first = event_body("evt_1", "patient.opted_out", datetime(2026, 3, 2, 9, tzinfo=UTC), "n", {})
    assert first == (
        b'{"clinic":"n","data":{},"id":"evt_1","occurred_at":"2026-03-02T09:00:00Z",'
        b'"type":"patient.opted_out"}'
    )


def test_retries_back_off_to_a_ceiling() -> None:
    delays = [retry_delay(n).total_seconds() for n in range(1, 14)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 6 * 3600
    assert delays == sorted(delays)


@pytest.mark.parametrize(
    ("url", "loopback", "problem"),
    [
        ("https://pas.example.nhs.uk/hooks", False, None),
        ("  https://pas.example.nhs.uk/hooks  ", False, None),
        ("http://127.0.0.1:8080/hooks", True, None),
        ("http://127.0.0.1:8080/hooks", False, UrlProblem.NOT_HTTPS),
        ("https://127.0.0.1/hooks", False, UrlProblem.INTERNAL),
        ("http://pas.example.nhs.uk/hooks", True, UrlProblem.NOT_HTTPS),
        ("https://192.168.1.9/hooks", False, UrlProblem.INTERNAL),
        ("https://169.254.169.254/latest", False, UrlProblem.INTERNAL),
        ("https://[::1]/hooks", False, UrlProblem.INTERNAL),
        ("https://intranet.local/hooks", False, UrlProblem.INTERNAL),
        ("https://a:b@pas.example.nhs.uk/", False, UrlProblem.CREDENTIALS),
        ("https://pas.example.nhs.uk/#x", False, UrlProblem.FRAGMENT),
        ("ftp://pas.example.nhs.uk/", False, UrlProblem.NOT_HTTPS),
        ("https://pas.example.nhs.uk:99999/", False, UrlProblem.MALFORMED),
        ("https://pas.example.nhs.uk/a b", False, UrlProblem.MALFORMED),
        ("", False, UrlProblem.MISSING),
        ("https://" + "a" * 2000 + ".uk/", False, UrlProblem.MALFORMED),
    ],
)
def test_where_events_may_go(url: str, loopback: bool, problem: UrlProblem | None) -> None:
    if problem is None:
        assert check_url(url, allow_loopback_http=loopback) == url.strip()
        return
    with pytest.raises(UrlRefused) as refused:
        check_url(url, allow_loopback_http=loopback, field="url")
    assert (refused.value.field, refused.value.problem) == ("url", problem)


@given(st.text(max_size=300))
def test_any_address_is_accepted_or_refused_by_name(url: str) -> None:
    refused: UrlRefused | None = None
    try:
        checked = check_url(url, allow_loopback_http=False)
    except UrlRefused as exc:
        refused = exc
    if refused is None:
        assert checked.startswith("https://")
    else:
        assert refused.field == "url"


@pytest.mark.parametrize("system", ["", "a|b", "with space"])
def test_an_identifier_system_is_a_plain_uri(system: str) -> None:
    with pytest.raises(UrlRefused):
        check_identifier_system(system)


def test_the_readme_recipe_checks_what_we_sign() -> None:
    """The verification recipe published in the README agrees with the signer."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("import hashlib, hmac, time\n")
    recipe = readme[start : readme.index("```", start)]
    namespace: dict[str, Any] = {}
    exec(compile(recipe, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    readme_verify = namespace["verify"]
    body = b'{"id":"evt_1","type":"patient.opted_out"}'
    now = int(time.time())
    header = signature_header(SECRET, now, body)
    assert readme_verify(SECRET, header, body)
    assert not readme_verify(SECRET, header, body + b" ")
    assert not readme_verify("whsec_other", header, body)
    assert not readme_verify(SECRET, signature_header(SECRET, now - 600, body), body)
