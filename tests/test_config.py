"""Configuration from the environment: production is the default, refuses to start
half-configured or on weak secrets, and development has no public default secret."""

from __future__ import annotations

import logging
import secrets

import pytest

from app import create_app
from app.config import (
    PUBLIC_SECRETS,
    REQUIRED_IN_PRODUCTION,
    ConfigError,
    is_repeated_pattern,
    load_config,
    shortest_period,
)
from app.core.senders import SenderKind

STRONG_KEY = "q8N2vLx0Rk5TzWm3Hc7YpB1dFs9GjA4e"  # 32 characters
TWILIO_TOKEN = "9f86d081884c7d659a2feaa0c55ad015"  # 32 hexadecimal characters
PRODUCTION = {
    "WESAID_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "DATABASE_URL": "postgresql+psycopg://wesaid@db.internal:5432/wesaid",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PUBLIC_BASE_URL": "https://wesaid.example.org/",
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
}
ALL_SETTINGS = (
    *PRODUCTION,
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_BASE",
    "TWILIO_AUTH_TOKEN_PREVIOUS",
    "WESAID_TRUSTED_PROXIES",
    "WESAID_WEBHOOK_RATE_LIMIT",
    "WESAID_API_RATE_LIMIT",
)


def _without(*keys: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION.items() if key not in keys}


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No WeSaid setting in os.environ, as on a machine nobody configured."""
    for key in ALL_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


# -- production is the default ---------------------------------------------------------------


def test_an_unset_environment_follows_the_production_rules() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({})
    for key in REQUIRED_IN_PRODUCTION:
        assert key in str(caught.value)
    config = load_config(_without("WESAID_ENV"))
    assert config["WESAID_ENV"] == "production"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_an_unset_environment_refuses_the_old_public_defaults() -> None:
    """Webhooks signed with the old public token and links forged with the old default
    key were accepted by an unconfigured server; neither value starts one now."""
    unconfigured = _without("WESAID_ENV")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({**unconfigured, "SECRET_KEY": "development-only-insecure-key"})
    with pytest.raises(ConfigError, match=r"TWILIO_AUTH_TOKEN .*public"):
        load_config({**unconfigured, "TWILIO_AUTH_TOKEN": "development-auth-token"})


def test_a_wsgi_server_on_an_unconfigured_machine_refuses_to_start(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    """gunicorn (or any WSGI server) calls `create_app()` with the environment alone."""
    with pytest.raises(ConfigError) as caught:
        create_app()
    for key in REQUIRED_IN_PRODUCTION:
        assert key in str(caught.value)


@pytest.mark.parametrize("missing", REQUIRED_IN_PRODUCTION)
def test_production_refuses_a_missing_setting(missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        load_config(_without(missing))


@pytest.mark.parametrize("missing", REQUIRED_IN_PRODUCTION)
def test_production_treats_an_empty_setting_as_missing(missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        load_config({**PRODUCTION, missing: ""})


def test_production_names_every_missing_setting_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"WESAID_ENV": "production"})
    for key in REQUIRED_IN_PRODUCTION:
        assert key in str(caught.value)


def test_production_accepts_a_complete_strong_config() -> None:
    config = load_config(PRODUCTION)
    assert config["WESAID_ENV"] == "production"
    assert config["TESTING"] is False
    assert config["SECRET_KEY"] == STRONG_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == PRODUCTION["DATABASE_URL"]
    assert config["REDIS_URL"] == PRODUCTION["REDIS_URL"]
    assert config["PUBLIC_BASE_URL"] == "https://wesaid.example.org"
    assert config["TWILIO_AUTH_TOKEN"] == TWILIO_TOKEN
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
    assert config["TRUSTED_PROXIES"] == 0
    assert config["WEBHOOK_RATE_LIMIT"] == "6000 per minute"
    assert config["API_RATE_LIMIT"] == "600 per minute"


@pytest.mark.parametrize("name", ["prod", "Production", "staging", "", "PRODUCTION "])
def test_an_unknown_environment_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="WESAID_ENV"):
        load_config({**PRODUCTION, "WESAID_ENV": name})


# -- weak secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("dev", "too short"),
        ("secret", "too short"),
        ("changeme", "too short"),
        ("development-only-insecure-key", "public"),  # the old development default
        (STRONG_KEY[:-1], "too short"),  # 31 characters
        ("a" * 32, "different characters"),
        ("changeme" * 4, "placeholder"),
        # 12 different characters written out three times: passed the old checks.
        ("q8N2vLx0Rk5T" * 3, "pattern repeated"),
        ("q8N2vLx0Rk5TzWm3" * 2 + "q8", "pattern repeated"),  # the last copy cut short
        (STRONG_KEY * 2, "pattern repeated"),
    ],
)
def test_production_refuses_a_weak_secret_key(secret: str, why: str) -> None:
    with pytest.raises(ConfigError, match=f"SECRET_KEY .*{why}") as caught:
        load_config({**PRODUCTION, "SECRET_KEY": secret})
    assert secret not in str(caught.value)  # the message never quotes the secret


def test_random_secret_keys_are_never_taken_for_patterns() -> None:
    for _ in range(500):
        key = secrets.token_urlsafe(24)  # 32 characters
        assert load_config({**PRODUCTION, "SECRET_KEY": key})["SECRET_KEY"] == key


@pytest.mark.parametrize(
    ("text", "period"),
    [("abcabcab", 3), ("aaaa", 1), ("abcd", 4), ("abca", 3), ("x", 1), ("", 0)],
)
def test_the_shortest_period(text: str, period: int) -> None:
    assert shortest_period(text) == period
    assert is_repeated_pattern(text) is (0 < 2 * period <= len(text))


@pytest.mark.parametrize("key", ["TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_PREVIOUS"])
@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("Q", "32 hexadecimal"),  # one character was accepted before
        (TWILIO_TOKEN[:-1], "32 hexadecimal"),
        (TWILIO_TOKEN + "0", "32 hexadecimal"),
        ("z" + TWILIO_TOKEN[1:], "32 hexadecimal"),
        ("production-auth-token-000000000", "32 hexadecimal"),
        ("development-auth-token", "public"),
        ("0" * 32, "pattern repeated"),
        ("0123456789abcdef" * 2, "pattern repeated"),
    ],
)
def test_production_refuses_a_token_that_is_not_twilios(key: str, token: str, why: str) -> None:
    with pytest.raises(ConfigError, match=f"{key} .*{why}") as caught:
        load_config({**PRODUCTION, key: token})
    assert token not in str(caught.value)


def test_production_takes_twilios_tokens_in_either_case_and_no_previous_one() -> None:
    previous = "0e2b5f7a9c1d3e4f60718293a4b5c6d7"
    config = load_config(
        {
            **PRODUCTION,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN.upper(),
            "TWILIO_AUTH_TOKEN_PREVIOUS": previous,
        }
    )
    assert config["TWILIO_AUTH_TOKEN_PREVIOUS"] == previous
    assert load_config(PRODUCTION)["TWILIO_AUTH_TOKEN_PREVIOUS"] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://wesaid.example.org",
        "http://127.0.0.1:5000",  # not even loopback: production is https
        "wesaid.example.org",
        "https://",
        "ftp://wesaid.example.org",
    ],
)
def test_production_needs_an_https_public_base_url(url: str) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config({**PRODUCTION, "PUBLIC_BASE_URL": url})


# -- development and test -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "testing"), [("development", False), ("test", True)])
def test_development_and_test_need_no_settings(name: str, testing: bool) -> None:
    config = load_config({"WESAID_ENV": name})
    assert config["TESTING"] is testing
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["REDIS_URL"] is None
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_development_has_no_public_default_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.config"):
        first = load_config({"WESAID_ENV": "development"})
    warnings = [r for r in caplog.records if r.name == "app.config"]
    second = load_config({"WESAID_ENV": "development"})
    for key in ("SECRET_KEY", "TWILIO_AUTH_TOKEN"):
        assert first[key] not in PUBLIC_SECRETS
        assert first[key] != second[key]  # random, for this process only
        assert len(first[key]) >= 32
    assert len(first["TWILIO_AUTH_TOKEN"]) == 32
    assert len(warnings) == 1  # one line names both
    message = warnings[0].getMessage()
    assert "SECRET_KEY" in message
    assert "TWILIO_AUTH_TOKEN" in message
    assert first["SECRET_KEY"] not in message


def test_development_keeps_the_secrets_it_is_given(caplog: pytest.LogCaptureFixture) -> None:
    given = {"WESAID_ENV": "development", "SECRET_KEY": "k" * 8, "TWILIO_AUTH_TOKEN": "t"}
    with caplog.at_level(logging.WARNING, logger="app.config"):
        config = load_config(given)
    assert (config["SECRET_KEY"], config["TWILIO_AUTH_TOKEN"]) == ("k" * 8, "t")
    assert not [r for r in caplog.records if r.name == "app.config"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000",
        "http://localhost:8000",
        "http://[::1]:5000",
        "http://127.0.0.2",
        "https://dev.wesaid.example.org",
    ],
)
def test_development_allows_http_only_for_loopback(url: str) -> None:
    config = load_config({"WESAID_ENV": "development", "PUBLIC_BASE_URL": url})
    assert config["PUBLIC_BASE_URL"] == url


@pytest.mark.parametrize("url", ["http://wesaid.example.org", "http://192.168.1.4:5000"])
def test_development_refuses_http_for_another_host(url: str) -> None:
    with pytest.raises(ConfigError, match=r"PUBLIC_BASE_URL .*loopback"):
        load_config({"WESAID_ENV": "development", "PUBLIC_BASE_URL": url})


def test_overrides_choose_the_environment_and_fill_settings() -> None:
    """What `create_app(config)` passes: the tests' and the demo's own settings win, and
    their WESAID_ENV, not the machine's, chooses the rules."""
    config = load_config(
        {"WESAID_ENV": "production"},
        {"WESAID_ENV": "test", "SECRET_KEY": "test-key", "TWILIO_AUTH_TOKEN": "test-token"},
    )
    assert (config["WESAID_ENV"], config["TESTING"]) == ("test", True)
    assert (config["SECRET_KEY"], config["TWILIO_AUTH_TOKEN"]) == ("test-key", "test-token")
    production = load_config(
        {},
        {
            "WESAID_ENV": "production",
            "SECRET_KEY": STRONG_KEY,
            "SQLALCHEMY_DATABASE_URI": PRODUCTION["DATABASE_URL"],
            "REDIS_URL": PRODUCTION["REDIS_URL"],
            "PUBLIC_BASE_URL": "https://wesaid.example.org",
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        },
    )
    assert production["WESAID_ENV"] == "production"
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(PRODUCTION, {"SECRET_KEY": "changeme"})


# -- the other settings -----------------------------------------------------------------------


def test_trusted_proxies_and_rate_limits_come_from_the_environment() -> None:
    config = load_config(
        {
            **PRODUCTION,
            "WESAID_TRUSTED_PROXIES": "2",
            "WESAID_WEBHOOK_RATE_LIMIT": "100 per second",
            "WESAID_API_RATE_LIMIT": "60/minute",
        }
    )
    assert config["TRUSTED_PROXIES"] == 2
    assert config["WEBHOOK_RATE_LIMIT"] == "100 per second"
    assert config["API_RATE_LIMIT"] == "60/minute"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("WESAID_TRUSTED_PROXIES", "-1"),
        ("WESAID_TRUSTED_PROXIES", "one"),
        ("WESAID_TRUSTED_PROXIES", "²"),
        ("WESAID_WEBHOOK_RATE_LIMIT", "lots"),
        ("WESAID_API_RATE_LIMIT", "600 per fortnight"),
    ],
)
def test_a_bad_setting_is_named(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_config({**PRODUCTION, key: value})


# -- create_app -------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", REQUIRED_IN_PRODUCTION)
def test_create_app_in_production_names_the_one_missing_setting(
    clean_environment: pytest.MonkeyPatch, missing: str
) -> None:
    for key, value in _without(missing).items():
        clean_environment.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        create_app()
    assert missing in str(caught.value)
    assert all(key not in str(caught.value) for key in REQUIRED_IN_PRODUCTION if key != missing)


def test_create_app_in_production_refuses_a_weak_key(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    for key, value in {**PRODUCTION, "SECRET_KEY": "changeme"}.items():
        clean_environment.setenv(key, value)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_create_app_takes_its_environment_from_what_it_is_given(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    """The tests and the demo ask for their environment explicitly and pass their own
    secrets; nothing public is filled in for them."""
    app = create_app(
        {"WESAID_ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "s" * 40}
    )
    assert app.config["WESAID_ENV"] == "test"
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["TWILIO_AUTH_TOKEN"] not in PUBLIC_SECRETS


def test_the_staff_second_factor_stays_on_in_production(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    for key, value in PRODUCTION.items():
        clean_environment.setenv(key, value)
    with pytest.raises(ConfigError, match="STAFF_SECOND_FACTOR"):
        create_app({"STAFF_SECOND_FACTOR": False})
    demo = create_app(
        {
            "WESAID_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "STAFF_SECOND_FACTOR": False,
        }
    )
    assert demo.config["STAFF_SECOND_FACTOR"] is False


def test_sender_rates_are_read_by_kind_and_a_bad_one_is_refused_by_name() -> None:

    config = load_config({"WESAID_ENV": "development", "WESAID_SENDER_RATES": "long_code=1"})
    assert config["SENDER_RATES"] == {SenderKind.LONG_CODE: 1.0}
    assert load_config({"WESAID_ENV": "development"})["SENDER_RATES"] == {}
    with pytest.raises(ConfigError, match="WESAID_SENDER_RATES: 'long_code=x'"):
        load_config({"WESAID_ENV": "development", "WESAID_SENDER_RATES": "long_code=x"})
