"""Configuration: the only module that reads the environment.

`load_config()` turns environment variables into a plain dict for `app.config`.

Production is the default: without `WESAID_ENV` every process (gunicorn, a worker, a
command) follows the production rules and refuses to start when a required secret or
address is missing or weak, saying which one and why. Development and test are asked for
by name. There are no public default secrets: in development and test a missing
`SECRET_KEY` or Twilio auth token is replaced by a random value for this process only,
with one warning (so links signed by one process do not verify in another unless
`SECRET_KEY` is set); the tests and the demo pass their own.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from app.core.senders import SenderKind, parse_rates

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "test", "production")
#: What an unset WESAID_ENV means: a server nobody configured must not run open.
DEFAULT_ENVIRONMENT = "production"
REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "PUBLIC_BASE_URL",
    "TWILIO_AUTH_TOKEN",
)
#: The app.config key each environment variable above fills, where the name differs.
_CONFIG_KEY = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}
MIN_SECRET_KEY_LENGTH = 32
# A random key of 32 characters has far more; "a" * 32 or "changeme" * 4 has few.
MIN_DISTINCT_CHARACTERS = 12
# Words that mark a placeholder key; long enough not to appear in a random one by chance.
_WEAK_SECRETS = frozenset({"secret", "changeme", "development", "password", "insecure"})
#: Values that were once defaults in this repository, and so are public.
PUBLIC_SECRETS = frozenset({"development-only-insecure-key", "development-auth-token"})
#: Twilio's auth tokens are 32 hexadecimal characters.
_TWILIO_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
_TWILIO_TOKENS = ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_PREVIOUS")
DEFAULT_SQLITE = Path("instance") / "wesaid.sqlite3"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
#: The largest body any route takes: the JSON API's imports (app/api/bodies.py).
MAX_CONTENT_LENGTH = 8 * 1024 * 1024
#: Generous: Twilio itself may post hundreds of webhooks a second from a few addresses.
DEFAULT_WEBHOOK_RATE_LIMIT = "6000 per minute"
DEFAULT_API_RATE_LIMIT = "600 per minute"


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the app; the message names the setting."""


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def load_config(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the app configuration from `environ` (default: `os.environ`).

    `overrides` are app.config values that take precedence (what `create_app(config)` is
    given); its WESAID_ENV, if any, chooses the environment. Raises ConfigError for an
    unknown WESAID_ENV, and in production for any missing REQUIRED_IN_PRODUCTION setting
    (all of them named at once) or a weak secret or address (see `check_production`).
    """
    env = dict(os.environ if environ is None else environ)
    given = dict(overrides or {})
    name = str(given.get("WESAID_ENV") or env.get("WESAID_ENV", DEFAULT_ENVIRONMENT))
    if name not in ENVIRONMENTS:
        raise ConfigError(f"WESAID_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}")
    config: dict[str, Any] = {
        "WESAID_ENV": name,
        "TESTING": name == "test",
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or None,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or None,
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_AUTH_TOKEN_PREVIOUS": env.get("TWILIO_AUTH_TOKEN_PREVIOUS") or None,
        "TWILIO_API_BASE": env.get("TWILIO_API_BASE") or None,
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "SMS_VALIDITY_SECONDS": int(env.get("WESAID_SMS_VALIDITY_SECONDS", "14400")),
        "SMS_PRICE_PER_SEGMENT": env.get("WESAID_SMS_PRICE_PER_SEGMENT", "0.0463"),
        "CLOCK_INTERVAL_SECONDS": float(env.get("WESAID_CLOCK_INTERVAL_SECONDS", "5")),
        # How long the clock and the reconcilers wait before they take something for
        # lost (`app.messaging.sweeps`, `app.messaging.reconcile`); see the README.
        "RECONCILE_INTERVAL_SECONDS": float(env.get("WESAID_RECONCILE_INTERVAL_SECONDS", "60")),
        "CLAIM_STALE_SECONDS": float(env.get("WESAID_CLAIM_STALE_SECONDS", "120")),
        "SENDING_STALE_SECONDS": float(env.get("WESAID_SENDING_STALE_SECONDS", "120")),
        "INBOUND_STALE_SECONDS": float(env.get("WESAID_INBOUND_STALE_SECONDS", "30")),
        "RECONCILE_LIST_LAG_SECONDS": float(env.get("WESAID_RECONCILE_LIST_LAG_SECONDS", "60")),
        "STATUS_POLL_SECONDS": float(env.get("WESAID_STATUS_POLL_SECONDS", "1800")),
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "TRUSTED_PROXIES": _whole_number(env, "WESAID_TRUSTED_PROXIES", 0),
        "WEBHOOK_RATE_LIMIT": _rate_limit(
            env, "WESAID_WEBHOOK_RATE_LIMIT", DEFAULT_WEBHOOK_RATE_LIMIT
        ),
        "API_RATE_LIMIT": _rate_limit(env, "WESAID_API_RATE_LIMIT", DEFAULT_API_RATE_LIMIT),
        "SESSION_COOKIE_SECURE": name == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "LOG_LEVEL": env.get("WESAID_LOG_LEVEL", "INFO"),
        # One JSON object per line for a log collector; readable lines in development.
        "LOG_FORMAT": env.get("WESAID_LOG_FORMAT") or ("json" if name == "production" else "text"),
        # A bearer token /metrics asks for; without one it answers anyone (its figures
        # are counts with no personal data: keep it off the public network).
        "METRICS_TOKEN": env.get("WESAID_METRICS_TOKEN") or None,
        # How long a public "you said, we did" page is kept in each process (0: never).
        "PUBLIC_PAGE_TTL_SECONDS": float(env.get("WESAID_PUBLIC_PAGE_TTL_SECONDS", "300")),
        # Messages a second per sender, by kind of sender (`app.core.senders`).
        "SENDER_RATES": _sender_rates(env),
    }
    if config["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError("WESAID_LOG_FORMAT must be json or text")
    config.update(given)
    config["WESAID_ENV"] = name
    if name == "production":
        check_production(config)
    else:
        _fill_for_development(config)
    config["PUBLIC_BASE_URL"] = str(config["PUBLIC_BASE_URL"]).rstrip("/")
    return config


def check_production(config: Mapping[str, Any]) -> None:
    """Raise ConfigError unless `config` (app.config keys) can run in production: every
    REQUIRED_IN_PRODUCTION setting present, a strong SECRET_KEY, Twilio auth tokens of
    Twilio's form and an https PUBLIC_BASE_URL. Messages name the setting, never its value.
    """
    missing = [key for key in REQUIRED_IN_PRODUCTION if not config.get(_CONFIG_KEY.get(key, key))]
    if missing:
        raise ConfigError(f"production needs {', '.join(missing)} set in the environment")
    _check_secret_key(str(config["SECRET_KEY"]))
    for key in _TWILIO_TOKENS:
        if config.get(key):
            _check_twilio_token(key, str(config[key]))
    _check_public_base_url(str(config["PUBLIC_BASE_URL"]), production=True)


def _check_secret_key(secret: str) -> None:
    advice = f"use at least {MIN_SECRET_KEY_LENGTH} random characters"
    if secret in PUBLIC_SECRETS:
        raise ConfigError(f"SECRET_KEY is an old development default, which is public: {advice}")
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"SECRET_KEY is too short ({len(secret)} characters): {advice}")
    if any(word in secret.lower() for word in _WEAK_SECRETS):
        raise ConfigError(f"SECRET_KEY contains a placeholder word such as 'secret': {advice}")
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        raise ConfigError(
            f"SECRET_KEY is too weak: fewer than {MIN_DISTINCT_CHARACTERS} different "
            f"characters; {advice}"
        )
    if is_repeated_pattern(secret):
        raise ConfigError(
            f"SECRET_KEY is too weak: a shorter pattern repeated ({shortest_period(secret)} "
            f"characters long); {advice}"
        )


def _check_twilio_token(key: str, token: str) -> None:
    if token in PUBLIC_SECRETS:
        raise ConfigError(f"{key} is the old development default, which is public")
    if not _TWILIO_TOKEN.fullmatch(token):
        raise ConfigError(
            f"{key} is not a Twilio auth token: those are 32 hexadecimal characters "
            f"(this one has {len(token)} character{'' if len(token) == 1 else 's'})"
        )
    if is_repeated_pattern(token):
        raise ConfigError(f"{key} is a short pattern repeated, not a real Twilio auth token")


def _check_public_base_url(url: str, *, production: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("PUBLIC_BASE_URL must be an absolute URL such as https://wesaid.example")
    if parts.scheme == "https":
        return
    if production:
        raise ConfigError(
            "PUBLIC_BASE_URL must be https in production: Twilio's webhooks and the survey "
            "links carry patients' replies"
        )
    if not _is_loopback(parts.hostname):
        raise ConfigError(
            "PUBLIC_BASE_URL may be http only for a loopback host (127.0.0.1, ::1, "
            "localhost) in development; use https for any other"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fill_for_development(config: dict[str, Any]) -> None:
    """Development and test: local defaults for addresses, random secrets for this process."""
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = _sqlite_url(DEFAULT_SQLITE)
    if not config.get("PUBLIC_BASE_URL"):
        config["PUBLIC_BASE_URL"] = DEFAULT_PUBLIC_BASE_URL
    if config["WESAID_ENV"] == "development":
        _check_public_base_url(str(config["PUBLIC_BASE_URL"]), production=False)
    generated = []
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secrets.token_urlsafe(32)
        generated.append("SECRET_KEY")
    if not config.get("TWILIO_AUTH_TOKEN"):
        config["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
        generated.append("TWILIO_AUTH_TOKEN")
    if generated:
        log.warning(
            "WESAID_ENV=%s without %s: a random value for this process only; set it for "
            "links and webhook signatures to verify across processes and restarts",
            config["WESAID_ENV"],
            " or ".join(generated),
        )


def shortest_period(text: str) -> int:
    """The length of the shortest pattern whose repetition (the last copy possibly cut
    short) is `text`: 3 for "abcabcab", len(text) for a text with no repetition."""
    if not text:
        return 0
    border = [0] * len(text)  # longest proper prefix that is also a suffix, per position
    length = 0
    for index in range(1, len(text)):
        while length and text[index] != text[length]:
            length = border[length - 1]
        if text[index] == text[length]:
            length += 1
        border[index] = length
    return len(text) - border[-1]


def is_repeated_pattern(text: str) -> bool:
    """True when `text` is a shorter pattern written out at least twice in full.

    A random string almost never is: its shortest period is its length, or one or two
    characters less when its last characters happen to repeat its first.
    """
    return bool(text) and 2 * shortest_period(text) <= len(text)


def _whole_number(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3:
        raise ConfigError(f"{key} must be a whole number such as 0, 1 or 2, not {raw!r}")
    return int(raw)


def _rate_limit(env: Mapping[str, str], key: str, default: str) -> str:
    value = env.get(key, "").strip() or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{key} must be a rate limit such as {default!r}, not {value!r}"
        ) from None
    return value


def _sender_rates(env: Mapping[str, str]) -> dict[SenderKind, float]:
    try:
        return parse_rates(env.get("WESAID_SENDER_RATES", ""))
    except ValueError as wrong:
        raise ConfigError(f"WESAID_SENDER_RATES: {wrong}") from None
