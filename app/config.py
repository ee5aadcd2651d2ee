"""Configuration: the only module that reads the environment.

`load_config()` turns environment variables into a plain dict for `app.config`.
Production refuses to start when a required secret or address is missing or weak,
and says which one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "test", "production")
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")
MIN_SECRET_KEY_LENGTH = 32
# A random key of 32 characters has far more; "a" * 32 or "changeme" * 4 has few.
MIN_DISTINCT_CHARACTERS = 12
# Words that mark a placeholder key; long enough not to appear in a random one by chance.
_WEAK_SECRETS = frozenset({"secret", "changeme", "development", "password", "insecure"})
DEFAULT_SQLITE = Path("instance") / "wesaid.sqlite3"


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the app; the message names the setting."""


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the app configuration from `environ` (default: `os.environ`).

    Refuses (ConfigError) an unknown WESAID_ENV, and in production any missing
    REQUIRED_IN_PRODUCTION setting or a SECRET_KEY shorter than 32 characters.
    """
    env = dict(os.environ if environ is None else environ)
    name = env.get("WESAID_ENV", "development")
    if name not in ENVIRONMENTS:
        raise ConfigError(f"WESAID_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}")
    if name == "production":
        _check_production(env)
    return {
        "WESAID_ENV": name,
        "TESTING": name == "test",
        "SECRET_KEY": env.get("SECRET_KEY") or "development-only-insecure-key",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or _sqlite_url(DEFAULT_SQLITE),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or "development-auth-token",
        "TWILIO_AUTH_TOKEN_PREVIOUS": env.get("TWILIO_AUTH_TOKEN_PREVIOUS") or None,
        "TWILIO_API_BASE": env.get("TWILIO_API_BASE") or None,
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "SMS_VALIDITY_SECONDS": int(env.get("WESAID_SMS_VALIDITY_SECONDS", "14400")),
        "SMS_PRICE_PER_SEGMENT": env.get("WESAID_SMS_PRICE_PER_SEGMENT", "0.0463"),
        "CLOCK_INTERVAL_SECONDS": float(env.get("WESAID_CLOCK_INTERVAL_SECONDS", "5")),
        "SESSION_COOKIE_SECURE": name == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "LOG_LEVEL": env.get("WESAID_LOG_LEVEL", "INFO"),
    }


def _check_production(env: Mapping[str, str]) -> None:
    missing = [key for key in REQUIRED_IN_PRODUCTION if not env.get(key)]
    if missing:
        raise ConfigError(f"production needs {', '.join(missing)} set in the environment")
    secret = env["SECRET_KEY"]
    if (
        len(secret) < MIN_SECRET_KEY_LENGTH
        or len(set(secret)) < MIN_DISTINCT_CHARACTERS
        or any(word in secret.lower() for word in _WEAK_SECRETS)
    ):
        raise ConfigError(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters"
        )
    if not env.get("TWILIO_AUTH_TOKEN"):
        raise ConfigError("production needs TWILIO_AUTH_TOKEN set in the environment")
