"""What a request may cost (app/limits.py): body sizes checked before the body is read,
rate limits on the webhooks (per address) and the API (per token), trusted proxies."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix

from app import limits
from app.clinics.service import create_clinic
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import InboundMessage
from app.public.survey_form import SECURITY_HEADERS
from tests.conftest import REDIS_URL, make_test_app

BASE = "https://wesaid.example.org"
TWILIO_TOKEN = "test-auth-token"  # the test app's
SMS = "/webhooks/twilio/sms"
FORM = "application/x-www-form-urlencoded"
INBOUND = {
    "MessageSid": "SM" + "2" * 32,
    "From": "+447400123456",
    "To": "+442071838750",
    "Body": "1",
}
KIB = 1024


def _signature(form: dict[str, str], path: str = SMS) -> dict[str, str]:
    validator = RequestValidator(TWILIO_TOKEN)
    return {"X-Twilio-Signature": validator.compute_signature(BASE + path, form)}


def _inbound_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(InboundMessage)) or 0)


@pytest.fixture
def api_tokens(app: Flask, clock: FixedClock) -> dict[str, str]:
    issued = {}
    for slug, sender in (("north", "+442071838750"), ("south", "+442071838751")):
        clinic = create_clinic(
            slug, name=slug, timezone="Europe/London", sender=sender, clock=clock
        )
        issued[slug] = create_token(label="test", clinic_id=clinic.id, clock=clock).secret
    db.session.commit()
    return issued


@contextmanager
def _another_app(
    database_url: str, clock: FixedClock, redis_conn: Redis, **extra: Any
) -> Iterator[Flask]:
    other = make_test_app(database_url, clock, redis_conn, **extra)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


# -- body sizes ---------------------------------------------------------------------------------


def test_the_largest_body_anywhere_is_the_apis_imports(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * KIB


def test_a_large_webhook_is_refused_before_it_is_read(client: FlaskClient) -> None:
    """A correctly signed 100 kB post: 413, nothing stored (Twilio's are a few kB)."""
    form = {**INBOUND, "Body": "x" * (100 * KIB)}
    response = client.post(SMS, data=form, headers=_signature(form))
    assert response.status_code == 413
    assert _inbound_count() == 0


def test_a_webhook_under_the_limit_goes_through(client: FlaskClient) -> None:
    form = {**INBOUND, "Body": "x" * (60 * KIB)}
    assert client.post(SMS, data=form, headers=_signature(form)).status_code == 200
    assert _inbound_count() == 1


def test_the_declared_length_alone_refuses_a_webhook(client: FlaskClient) -> None:
    """Nothing is read: a Content-Length of 100 MB answers at once."""
    stream = io.BytesIO(b"MessageSid=SM1")
    response = client.post(
        SMS,
        input_stream=stream,
        content_type=FORM,
        headers={"X-Twilio-Signature": "anything"},
        environ_overrides={"CONTENT_LENGTH": str(100 * KIB * KIB)},
    )
    assert response.status_code == 413
    assert stream.tell() == 0


def test_a_chunked_webhook_is_cut_off_at_the_limit(client: FlaskClient) -> None:
    """Without a Content-Length (chunked), reading stops at the limit with 413."""
    form = {**INBOUND, "Body": "x" * (100 * KIB)}
    body = urlencode(form).encode()
    stream = io.BytesIO(body)
    response = client.post(
        SMS,
        input_stream=stream,
        content_type=FORM,
        headers={**_signature(form), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert stream.tell() < len(body)
    assert _inbound_count() == 0


def test_a_chunked_webhook_under_the_limit_is_read_whole(client: FlaskClient) -> None:
    form = {**INBOUND, "Body": "x" * (60 * KIB)}
    response = client.post(
        SMS,
        input_stream=io.BytesIO(urlencode(form).encode()),
        content_type=FORM,
        headers={**_signature(form), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200  # the signature covers the whole form
    assert _inbound_count() == 1


def test_a_large_survey_form_shows_the_forms_own_error_page(client: FlaskClient) -> None:
    response = client.post(
        "/s/any-link", data={"fft": "good", "comment": "x" * (100 * KIB)}, content_type=FORM
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "nhsuk-header" in page  # the design system's page, not werkzeug's
    assert "Something went wrong" in page
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_an_api_body_over_8_mib_is_refused_unread(
    client: FlaskClient, api_tokens: dict[str, str]
) -> None:
    stream = io.BytesIO(b"{}")
    response = client.post(
        "/api/v1/clinics/north/patients",
        input_stream=stream,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_tokens['north']}"},
        environ_overrides={"CONTENT_LENGTH": str(8 * KIB * KIB + 1)},
    )
    assert response.status_code == 413
    assert stream.tell() == 0


def test_every_route_has_a_body_limit(client: FlaskClient, api_tokens: dict[str, str]) -> None:
    """Even one that reads no body: the app-wide limit applies to the declared length."""
    response = client.get(
        "/api/v1/clinics/north/results/fft/2026-03",
        headers={"Authorization": f"Bearer {api_tokens['north']}"},
        environ_overrides={"CONTENT_LENGTH": str(9 * KIB * KIB)},
    )
    assert response.status_code == 413


# -- rate limits ----------------------------------------------------------------------------


def test_webhooks_are_limited_per_address_over_every_webhook(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WEBHOOK_RATE_LIMIT"] = "3 per minute"
    codes = [client.post(SMS, data=INBOUND).status_code for _ in range(3)]
    assert codes == [403, 403, 403]  # unsigned: refused, and counted
    for path in (SMS, "/webhooks/twilio/status", "/webhooks/twilio/voice"):
        limited = client.post(path, data=INBOUND)
        assert limited.status_code == 429, path
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = client.post(SMS, data=INBOUND, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 403  # another address has its own budget


def test_a_limited_webhook_stores_nothing(app: Flask, client: FlaskClient) -> None:
    app.config["WEBHOOK_RATE_LIMIT"] = "1 per minute"
    assert client.post(SMS, data=INBOUND, headers=_signature(INBOUND)).status_code == 200
    second = {**INBOUND, "MessageSid": "SM" + "3" * 32}
    assert client.post(SMS, data=second, headers=_signature(second)).status_code == 429
    assert _inbound_count() == 1


def test_the_api_is_limited_per_token_across_the_api(
    app: Flask, client: FlaskClient, api_tokens: dict[str, str]
) -> None:
    app.config["API_RATE_LIMIT"] = "2 per minute"
    north = {"Authorization": f"Bearer {api_tokens['north']}"}
    urls = (
        "/api/v1/clinics/north/patients",
        "/api/v1/clinics/north/attendance?from=2026-01&to=2026-03",
        "/api/v1/clinics/north/results/fft/2026-03",
    )
    assert client.post(urls[0], json={"patients": []}, headers=north).status_code == 200
    assert client.get(urls[1], headers=north).status_code == 200
    limited = client.get(urls[2], headers=north)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    south = {"Authorization": f"Bearer {api_tokens['south']}"}
    assert client.get(urls[2].replace("north", "south"), headers=south).status_code != 429


def test_the_api_limit_is_keyed_by_a_hash_of_the_token_never_the_token(
    app: Flask, client: FlaskClient, api_tokens: dict[str, str]
) -> None:
    token = api_tokens["north"]
    client.get(
        "/api/v1/clinics/north/results/fft/2026-03", headers={"Authorization": f"Bearer {token}"}
    )
    with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
        key = limits.token_key()
    assert key.startswith("token:")
    assert token not in key
    storage = limits.limiter(app).storage
    keys = list(getattr(storage, "storage", {}))
    assert any(key in stored for stored in keys)
    assert not any(token in stored for stored in keys)


def test_requests_without_a_token_are_counted_by_address(app: Flask) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.9"}):
        assert limits.token_key() == "address:192.0.2.9"
    with app.test_request_context(headers={"Authorization": "Basic abc"}):
        assert limits.token_key().startswith("address:")


def test_limits_are_counted_in_redis_when_configured(
    database_url: str, clock: FixedClock, redis_conn: Redis
) -> None:
    with _another_app(
        database_url,
        clock,
        redis_conn,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        WEBHOOK_RATE_LIMIT="1/minute",
    ) as counted:
        web = counted.test_client()
        assert web.post(SMS, data=INBOUND).status_code == 403
        assert web.post(SMS, data=INBOUND).status_code == 429
    assert any(key.startswith(b"LIMITS:LIMITER/wesaid/") for key in redis_conn.scan_iter())


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"REDIS_URL": "redis://r:6379/0"}, "redis://r:6379/0"),
        ({"REDIS_URL": "redis://r:6379/0", "TESTING": True}, "memory://"),
        (
            {
                "REDIS_URL": "redis://r:6379/0",
                "TESTING": True,
                "RATELIMIT_STORAGE_URI": "redis://x",
            },
            "redis://x",
        ),
        ({}, "memory://"),
    ],
)
def test_where_limits_are_counted(config: dict[str, Any], expected: str) -> None:
    assert limits.storage_uri(config) == expected


def test_one_limiter_serves_the_survey_pages_too(app: Flask) -> None:
    assert app.extensions["wesaid.survey_web"] is limits.limiter(app)
    limits.init_app(app)  # idempotent
    assert limits.limiter(app) is app.extensions["wesaid.survey_web"]


def test_every_webhook_and_api_route_is_limited(app: Flask) -> None:
    """A blueprint added under /webhooks/ or /api/ is limited without being listed."""
    body_limits = app.extensions["wesaid.body_limits"]
    manager = limits.limiter(app).limit_manager
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/webhooks/", "/api/")):
            continue
        blueprint = rule.endpoint.rpartition(".")[0]
        assert manager.blueprint_limits(app, blueprint), rule.rule
        if rule.rule.startswith("/webhooks/"):
            assert body_limits[blueprint] == limits.WEBHOOK_MAX_BYTES


# -- proxies ------------------------------------------------------------------------------


def _addresses_seen(web: FlaskClient, requests: list[tuple[str, str]]) -> list[int]:
    """Status codes of webhook posts from (peer address, X-Forwarded-For) pairs."""
    return [
        web.post(
            SMS,
            data=INBOUND,
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": peer},
        ).status_code
        for peer, forwarded in requests
    ]


def test_no_forwarding_header_is_believed_by_default(app: Flask, client: FlaskClient) -> None:
    assert not isinstance(app.wsgi_app, ProxyFix)
    app.config["WEBHOOK_RATE_LIMIT"] = "2 per minute"
    # One peer claiming three client addresses is still one client.
    codes = _addresses_seen(
        client, [("10.0.0.1", "192.0.2.1"), ("10.0.0.1", "192.0.2.2"), ("10.0.0.1", "192.0.2.3")]
    )
    assert codes == [403, 403, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    database_url: str, clock: FixedClock, redis_conn: Redis
) -> None:
    with _another_app(
        database_url, clock, redis_conn, TRUSTED_PROXIES=1, WEBHOOK_RATE_LIMIT="2 per minute"
    ) as proxied:
        assert isinstance(proxied.wsgi_app, ProxyFix)
        web = proxied.test_client()
        proxy = "10.0.0.1"
        codes = _addresses_seen(
            web, [(proxy, "192.0.2.1"), (proxy, "192.0.2.2"), (proxy, "192.0.2.3")]
        )
        assert codes == [403, 403, 403]
        # The same client through another proxy, or claiming a hop before: one budget.
        again = _addresses_seen(web, [("10.0.0.2", "192.0.2.1"), (proxy, "203.0.113.5, 192.0.2.1")])
        assert again == [403, 429]
