"""Signatures checked over HTTP as Twilio makes them: repeated form keys and JSON bodies.

Twilio's vectors are signed for URLs such as https://mycompany.com/myapp.php, which no
route of ours answers, and a signature covers the path. So each vector is posted, with
PUBLIC_BASE_URL set to its scheme and host, to a stand-in route at its own path that
runs the real `require_signature` (URL rebuilt by `signed_url`, body read raw, the
channel's check). The SMS and status routes themselves are tested with requests signed
here by the SDK's `compute_signature`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from app.core.channels import Channel
from app.extensions import db
from app.messaging.models import InboundMessage
from app.webhooks import voice as voice_routes
from app.webhooks.twilio import SIGNED_BODY_LIMIT, require_signature
from tests.conftest import make_test_app
from tests.integration import INBOUND_PATH, STATUS_PATH
from tests.reference.twilio.vectors import Vector, vectors

BASE = "https://wesaid.example.org"
CURRENT = "current-auth-token"
PREVIOUS = "previous-auth-token"
SID = "SM" + "1" * 32
INBOUND = [
    ("MessageSid", SID),
    ("AccountSid", "AC" + "1" * 32),
    ("From", "+447911123456"),
    ("To", "+447911100000"),
    ("Body", "1"),
]
STATUS = [("MessageSid", SID), ("MessageStatus", "delivered")]
JSON_BODY = b'{"MessageSid": "SM11111111111111111111111111111111", "MessageStatus": "sent"}'


@contextmanager
def _client(
    database_url: str,
    clock: Any,
    redis_conn: Redis,
    *,
    stand_in: str | None = None,
    body_limit: int | None = None,
    **extra: Any,
) -> Iterator[FlaskClient]:
    """A test client of an app with `extra` settings and, when `stand_in` is a path, a
    route there that only checks the signature (204 when it passes), within `body_limit`
    bytes of body if one is given."""
    config = {"PUBLIC_BASE_URL": BASE, "TWILIO_AUTH_TOKEN": CURRENT, **extra}
    flask_app = make_test_app(database_url, clock, redis_conn, **config)
    if "voice" not in flask_app.blueprints:
        flask_app.register_blueprint(voice_routes.bp)
    if stand_in is not None:

        def signature_only() -> tuple[str, int]:
            if body_limit is not None:
                request.max_content_length = body_limit
            require_signature(Channel.SMS)
            return "", 204

        flask_app.add_url_rule(stand_in, "signature_only", signature_only, methods=["POST"])
    try:
        yield flask_app.test_client()
    finally:
        with flask_app.app_context():
            db.engine.dispose()


def _sign(url: str, form: Any, token: str = CURRENT) -> dict[str, str]:
    return {"X-Twilio-Signature": str(RequestValidator(token).compute_signature(url, form))}


def _stored() -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(InboundMessage)) or 0)


def _hashed(path: str, body: bytes) -> str:
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}bodySHA256={hashlib.sha256(body).hexdigest()}"


# -- Twilio's own vectors --------------------------------------------------------------


@pytest.mark.parametrize("vector", [pytest.param(v, id=v.id) for v in vectors()])
def test_twilio_vector_over_http(
    app: Flask, database_url: str, clock: Any, redis_conn: Redis, vector: Vector
) -> None:
    headers = {} if vector.signature is None else {"X-Twilio-Signature": vector.signature}
    if vector.body is None:
        payload: dict[str, Any] = {"data": vector.form}
    else:
        payload = {"data": vector.raw_body, "content_type": "application/json"}
    stand_in = urlsplit(vector.url).path
    with _client(
        database_url,
        clock,
        redis_conn,
        stand_in=stand_in,
        PUBLIC_BASE_URL=vector.base,
        TWILIO_AUTH_TOKEN=vector.auth_token,
    ) as client:
        response = client.post(vector.path_and_query, headers=headers, **payload)
    assert response.status_code == (204 if vector.expected else 403)


# -- repeated keys, through the SMS and status routes ----------------------------------


@pytest.fixture
def signed(app: Flask, database_url: str, clock: Any, redis_conn: Redis) -> Iterator[FlaskClient]:
    """A client of an app in the middle of a token rotation."""
    with _client(database_url, clock, redis_conn, TWILIO_AUTH_TOKEN_PREVIOUS=PREVIOUS) as c:
        yield c


@pytest.mark.parametrize("token", [CURRENT, PREVIOUS])
def test_a_repeated_key_request_signed_as_twilio_does_is_stored(
    signed: FlaskClient, token: str
) -> None:
    form = MultiDict(
        [*INBOUND, ("MediaUrl", "https://m.example.org/2"), ("MediaUrl", "https://m.example.org/1")]
    )
    response = signed.post(INBOUND_PATH, data=form, headers=_sign(BASE + INBOUND_PATH, form, token))
    assert response.status_code == 200
    assert _stored() == 1


@pytest.mark.parametrize(
    "appended",
    [
        pytest.param(("MessageSid", "SM" + "9" * 32), id="second-sid"),
        pytest.param(("Body", "2"), id="second-body"),
        pytest.param(("From", "+447911999999"), id="second-sender"),
    ],
)
def test_a_key_appended_to_a_signed_request_is_refused(
    signed: FlaskClient, appended: tuple[str, str]
) -> None:
    headers = _sign(BASE + INBOUND_PATH, MultiDict(INBOUND))
    response = signed.post(INBOUND_PATH, data=MultiDict([*INBOUND, appended]), headers=headers)
    assert response.status_code == 403
    assert _stored() == 0


def test_a_key_appended_to_a_signed_status_callback_is_refused(signed: FlaskClient) -> None:
    path = STATUS_PATH + "?m=7"
    headers = _sign(BASE + path, MultiDict(STATUS))
    tampered = MultiDict([*STATUS, ("MessageStatus", "failed")])
    assert signed.post(path, data=MultiDict(STATUS), headers=headers).status_code == 200
    assert signed.post(path, data=tampered, headers=headers).status_code == 403


def test_a_key_press_appended_to_a_signed_call_webhook_is_refused(signed: FlaskClient) -> None:
    path = "/webhooks/twilio/voice/menu?m=1&t=0"
    call = [("CallSid", "CA" + "1" * 32), ("CallStatus", "in-progress"), ("Digits", "1")]
    headers = _sign(BASE + path, MultiDict(call))
    response = signed.post(path, data=MultiDict([*call, ("Digits", "2")]), headers=headers)
    assert response.status_code == 403


# -- JSON bodies and bodySHA256 --------------------------------------------------------


@pytest.mark.parametrize("path", [INBOUND_PATH, STATUS_PATH + "?m=7"])
def test_a_tampered_json_body_is_refused(signed: FlaskClient, path: str) -> None:
    hashed = _hashed(path, JSON_BODY)
    headers = _sign(BASE + hashed, {})
    tampered = JSON_BODY.replace(b'"sent"', b'"failed"')
    as_json = {"content_type": "application/json", "headers": headers}
    # The signature and the hash pass; the route then finds none of its form fields.
    assert signed.post(hashed, data=JSON_BODY, **as_json).status_code == 400
    assert signed.post(hashed, data=tampered, **as_json).status_code == 403
    assert signed.post(hashed, data=b"", **as_json).status_code == 403
    assert _stored() == 0


def test_a_form_body_read_raw_for_its_hash_is_still_parsed(signed: FlaskClient) -> None:
    """The raw body is read before request.form, and cached so the form still parses."""
    body = "&".join(f"{k}={v}" for k, v in INBOUND).replace("+", "%2B").encode()
    hashed = _hashed(INBOUND_PATH, body)
    response = signed.post(
        hashed,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=_sign(BASE + hashed, {}),
    )
    assert response.status_code == 200
    [stored] = db.session.scalars(select(InboundMessage))
    assert (stored.provider_sid, stored.from_number) == (SID, "+447911123456")


CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}
STAND_IN = "/signature-only"


def _post_json(client: FlaskClient, path: str, body: bytes, chunked: bool) -> int:
    hashed = _hashed(path, body)
    response = client.post(
        hashed,
        data=body,
        content_type="application/json",
        headers=_sign(BASE + hashed, {}),
        # A chunked request has no Content-Length; the server marks its input terminated.
        environ_overrides=CHUNKED if chunked else {},
    )
    return response.status_code


@pytest.mark.parametrize(
    ("size", "chunked", "status"),
    [
        pytest.param(0, False, 204, id="within"),
        pytest.param(SIGNED_BODY_LIMIT, False, 413, id="beyond"),
        pytest.param(0, True, 204, id="chunked-within"),
        # Read up to the limit only, so what was read cannot hash to the signed value.
        pytest.param(SIGNED_BODY_LIMIT, True, 403, id="chunked-beyond"),
    ],
)
def test_without_a_size_limit_the_raw_body_is_read_within_one(
    app: Flask,
    database_url: str,
    clock: Any,
    redis_conn: Redis,
    size: int,
    chunked: bool,
    status: int,
) -> None:
    body = b'{"pad": "' + b"x" * size + b'"}'
    with _client(
        database_url, clock, redis_conn, stand_in=STAND_IN, MAX_CONTENT_LENGTH=None
    ) as client:
        assert _post_json(client, STAND_IN, body, chunked) == status


@pytest.mark.parametrize(
    ("chunked", "status"), [(False, 413), (True, 403)], ids=["stated-length", "chunked"]
)
def test_the_requests_size_limit_applies_to_the_raw_body(
    app: Flask, database_url: str, clock: Any, redis_conn: Redis, chunked: bool, status: int
) -> None:
    """Whatever set it (MAX_CONTENT_LENGTH or a before_request hook), the request's
    limit bounds the raw read."""
    limit = len(JSON_BODY) - 1
    with _client(database_url, clock, redis_conn, stand_in=STAND_IN, body_limit=limit) as c:
        assert _post_json(c, STAND_IN, JSON_BODY, chunked) == status
        assert _post_json(c, STAND_IN, JSON_BODY[:limit], chunked) == 204


def test_a_missing_signature_with_a_json_body_is_refused(signed: FlaskClient) -> None:
    hashed = _hashed(INBOUND_PATH, JSON_BODY)
    response = signed.post(hashed, data=JSON_BODY, content_type="application/json")
    assert response.status_code == 403
