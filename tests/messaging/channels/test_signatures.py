"""Webhook signatures as Twilio makes them: its own test vectors, repeated form keys and
JSON bodies whose hash the signed URL carries.

The vectors are data in tests/reference/twilio/; the signatures these tests make
themselves come from the SDK's `RequestValidator.compute_signature`, so the check is
compared with an implementation other than its own.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from app.messaging.channels.twilio_common import (
    TwilioSettings,
    body_matches,
    carries_body_hash,
    twilio_signature,
    verify_signature,
)
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from tests.reference.twilio.vectors import BodyHash, Vector, body_hashes, vectors

VECTORS = vectors()
CURRENT = "current-token"
PREVIOUS = "previous-token"
URL = "https://wesaid.example.org/webhooks/twilio/sms"
PAIRS = [
    ("MessageSid", "SM" + "1" * 32),
    ("From", "+447911123456"),
    ("To", "+447911100000"),
    ("MediaUrl", "https://media.example.org/b"),
    ("MediaUrl", "https://media.example.org/a"),
]
JSON_BODY = b'{"MessageSid": "SM11111111111111111111111111111111", "Body": "1"}'


def _sdk_sign(url: str, form: object, token: str = CURRENT) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


def _with_hash(url: str, body: bytes) -> str:
    return f"{url}?bodySHA256={hashlib.sha256(body).hexdigest()}"


def test_the_vectors_cover_what_the_fix_is_about() -> None:
    assert len(VECTORS) == 31
    assert any(len({k for k, _ in v.params}) < len(v.params) and v.valid for v in VECTORS)
    assert any(v.body is not None and v.valid for v in VECTORS)
    assert any(v.body is not None and not v.valid for v in VECTORS)


@pytest.mark.parametrize("vector", [pytest.param(v, id=v.id) for v in VECTORS])
def test_twilio_vector(vector: Vector) -> None:
    answer = verify_signature(
        [vector.auth_token], vector.url, vector.form, vector.signature, vector.raw_body
    )
    assert answer is vector.expected


@pytest.mark.parametrize(
    "vector", [pytest.param(v, id=v.id) for v in VECTORS if not carries_body_hash(v.url)]
)
def test_twilio_vector_through_the_channel(vector: Vector) -> None:
    """The channel protocol types the form as a mapping; a MultiDict passes through it
    with every value intact."""
    channel = TwilioSMSChannel(TwilioSettings("AC" + "7" * 32, vector.auth_token))
    assert channel.verify(vector.url, vector.form, vector.signature) is vector.expected


@pytest.mark.parametrize("case", body_hashes(), ids=lambda c: f"{c.sha256[:10]}-{c.matches}")
def test_twilio_body_hash(case: BodyHash) -> None:
    url = f"https://mycompany.com/myapp.php?bodySHA256={case.sha256}"
    assert body_matches(url, case.body.encode("utf-8")) is case.matches


def test_a_repeated_key_needs_every_value() -> None:
    [vector] = [v for v in VECTORS if v.id == "repeated-keys"]
    first_values_only = dict(vector.form)  # what the check used to sign
    assert verify_signature([vector.auth_token], vector.url, vector.form, vector.signature)
    assert not verify_signature(
        [vector.auth_token], vector.url, first_values_only, vector.signature
    )


@pytest.mark.parametrize(
    ("appended", "valid"),
    [
        pytest.param(("MessageSid", "SM" + "9" * 32), False, id="second-sid"),
        pytest.param(("From", "+447911999999"), False, id="second-sender"),
        pytest.param(("MediaUrl", "https://evil.example.org/"), False, id="third-value"),
        pytest.param(("Body", "2"), False, id="new-key"),
        # Twilio signs each distinct value once: an exact repeat changes nothing signed.
        pytest.param(("From", "+447911123456"), True, id="exact-repeat"),
    ],
)
def test_a_key_appended_to_a_signed_form(appended: tuple[str, str], valid: bool) -> None:
    signature = _sdk_sign(URL, MultiDict(PAIRS))
    tampered = MultiDict([*PAIRS, appended])
    assert verify_signature([CURRENT], URL, tampered, signature) is valid


def test_repeated_values_are_signed_in_sorted_order_whatever_the_order_sent() -> None:
    signature = _sdk_sign(URL, MultiDict(PAIRS))
    assert verify_signature([CURRENT], URL, MultiDict(reversed(PAIRS)), signature)


def test_rotation_accepts_either_token_for_a_repeated_key_form() -> None:
    form = MultiDict(PAIRS)
    for token in (CURRENT, PREVIOUS):
        assert verify_signature([CURRENT, PREVIOUS], URL, form, _sdk_sign(URL, form, token))
    assert not verify_signature([CURRENT], URL, form, _sdk_sign(URL, form, PREVIOUS))
    assert not verify_signature([CURRENT, PREVIOUS], URL, form, _sdk_sign(URL, form, "other"))
    assert not verify_signature(["", ""], URL, form, _sdk_sign(URL, form, ""))
    assert not verify_signature([], URL, form, _sdk_sign(URL, form))


def test_a_json_body_must_hash_to_the_signed_url() -> None:
    url = _with_hash(URL, JSON_BODY)
    signature = _sdk_sign(url, {})
    tampered = JSON_BODY.replace(b'"1"', b'"2"')
    assert verify_signature([CURRENT], url, {}, signature, JSON_BODY)
    assert not verify_signature([CURRENT], url, {}, signature, tampered)
    assert not verify_signature([CURRENT], url, {}, signature, b"")
    assert not verify_signature([CURRENT], url, {}, _sdk_sign(url, {}, "other"), JSON_BODY)


def test_with_a_body_hash_the_url_alone_is_signed() -> None:
    """The form is not what Twilio signed then; the body hash covers the request."""
    url = _with_hash(URL, JSON_BODY)
    signature = _sdk_sign(url, {})
    assert verify_signature([CURRENT], url, MultiDict(PAIRS), signature, JSON_BODY)
    assert not verify_signature([CURRENT], url, {}, _sdk_sign(url, MultiDict(PAIRS)), JSON_BODY)


def test_without_a_body_the_caller_checks_the_hash() -> None:
    """The channel protocol carries no body, so `require_signature` checks it with
    `body_matches` before the channel checks the URL's signature."""
    url = _with_hash(URL, JSON_BODY)
    assert verify_signature([CURRENT], url, {}, _sdk_sign(url, {}))
    assert body_matches(url, JSON_BODY)
    assert not body_matches(url, JSON_BODY + b" ")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="no-hash"),
        pytest.param("bodySHA256=", id="empty-hash"),
        pytest.param("bodySHA256={h}&bodySHA256={h}", id="hash-twice"),
        pytest.param("bodySHA256={H}", id="upper-case-hex"),
        pytest.param("bodySHA256={h}%C3%A9", id="not-hex"),
        pytest.param("bodysha256={h}", id="other-spelling"),
    ],
)
def test_body_matches_only_one_exact_hash(query: str) -> None:
    digest = hashlib.sha256(JSON_BODY).hexdigest()
    url = f"{URL}?{query.format(h=digest, H=digest.upper())}"
    assert not body_matches(url, JSON_BODY)
    assert body_matches(f"{URL}?x=1&bodySHA256={digest}", JSON_BODY)


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        pytest.param(URL, "é" * 28, id="non-ascii-signature"),
        pytest.param(URL, "\udcff" * 28, id="surrogate-in-signature"),
        pytest.param(URL, "\ud800" * 28, id="lone-high-surrogate-in-signature"),
        pytest.param("https://wesaid.example.org:bad/x", "A" * 28, id="port-not-a-number"),
        pytest.param("https://[::1/x", "A" * 28, id="broken-ipv6-host"),
        pytest.param("https://[::1/x?bodySHA256=00", "A" * 28, id="broken-url-with-hash"),
    ],
)
def test_malformed_input_is_refused_not_raised(url: str, signature: str) -> None:
    assert verify_signature([CURRENT], url, MultiDict(PAIRS), signature, b"") is False


def test_port_variants_keep_user_info_and_ipv6_hosts() -> None:
    form = MultiDict(PAIRS)
    for signed, received in [
        ("https://u:p@h.example.org:443/x", "https://u:p@h.example.org/x"),
        ("https://u:p@h.example.org/x", "https://u:p@h.example.org:8443/x"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("http://[::1]/x", "http://[::1]:8080/x"),
    ]:
        assert verify_signature([CURRENT], received, form, _sdk_sign(signed, form))


_text = st.text(st.characters(codec="utf-8"), max_size=12)


@given(
    pairs=st.lists(st.tuples(st.sampled_from(["A", "B", "a", "Ab", "É", "b"]), _text), max_size=8),
    query=_text,
)
def test_signing_agrees_with_the_sdk(pairs: list[tuple[str, str]], query: str) -> None:
    url = f"https://wesaid.example.org/webhooks/twilio/status?q={query}"
    form = MultiDict(pairs)
    assert twilio_signature(CURRENT, url, form) == _sdk_sign(url, form)
    single = dict(pairs)
    assert twilio_signature(CURRENT, url, single) == _sdk_sign(url, single)
