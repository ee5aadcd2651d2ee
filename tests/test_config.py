"""Configuration from the environment: production refuses to start half-configured."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import REQUIRED_IN_PRODUCTION, ConfigError, load_config

STRONG_KEY = "q8N2vLx0Rk5TzWm3Hc7YpB1dFs9GjA4e"  # 32 characters
PRODUCTION = {
    "WESAID_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "DATABASE_URL": "postgresql+psycopg://wesaid@db.internal:5432/wesaid",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PUBLIC_BASE_URL": "https://wesaid.example.org/",
    "TWILIO_AUTH_TOKEN": "production-auth-token",
}
ALL_SETTINGS = (*PRODUCTION, "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE")


def _without(*keys: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION.items() if key not in keys}


@pytest.mark.parametrize("missing", [*REQUIRED_IN_PRODUCTION, "TWILIO_AUTH_TOKEN"])
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


@pytest.mark.parametrize(
    "secret",
    [
        "dev",
        "secret",
        "changeme",
        "development-only-insecure-key",  # the development default
        STRONG_KEY[:-1],  # 31 characters
        "a" * 32,
        "changeme" * 4,
    ],
)
def test_production_refuses_a_weak_secret_key(secret: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({**PRODUCTION, "SECRET_KEY": secret})


def test_production_accepts_a_complete_strong_config() -> None:
    config = load_config(PRODUCTION)
    assert config["WESAID_ENV"] == "production"
    assert config["TESTING"] is False
    assert config["SECRET_KEY"] == STRONG_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == PRODUCTION["DATABASE_URL"]
    assert config["REDIS_URL"] == PRODUCTION["REDIS_URL"]
    assert config["PUBLIC_BASE_URL"] == "https://wesaid.example.org"
    assert config["TWILIO_AUTH_TOKEN"] == "production-auth-token"
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("name", ["prod", "Production", "staging", "", "PRODUCTION "])
def test_an_unknown_environment_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="WESAID_ENV"):
        load_config({**PRODUCTION, "WESAID_ENV": name})


@pytest.mark.parametrize(
    ("environ", "testing"),
    [({}, False), ({"WESAID_ENV": "development"}, False), ({"WESAID_ENV": "test"}, True)],
)
def test_development_and_test_need_no_settings(environ: dict[str, str], testing: bool) -> None:
    config = load_config(environ)
    assert config["TESTING"] is testing
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["REDIS_URL"] is None
    assert config["SESSION_COOKIE_SECURE"] is False


def test_create_app_in_production_without_settings_names_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in ALL_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WESAID_ENV", "production")
    with pytest.raises(ConfigError) as caught:
        create_app()
    for key in REQUIRED_IN_PRODUCTION:
        assert key in str(caught.value)


@pytest.mark.parametrize("missing", REQUIRED_IN_PRODUCTION)
def test_create_app_in_production_names_the_one_missing_setting(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    for key in ALL_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    for key, value in _without(missing).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        create_app()
    assert missing in str(caught.value)
    assert all(key not in str(caught.value) for key in REQUIRED_IN_PRODUCTION if key != missing)


def test_create_app_in_production_refuses_a_weak_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**PRODUCTION, "SECRET_KEY": "changeme"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
