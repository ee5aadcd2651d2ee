"""What every Twilio channel shares: settings, a client with timeouts, signature checks."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TwilioSettings:
    """How to reach Twilio (or the simulator) and check what it signs."""

    account_sid: str
    auth_token: str
    #: The token before the last rotation; webhooks signed with it are still accepted.
    previous_auth_token: str | None = None
    #: Replaces https://api.twilio.com, e.g. the simulator's http://127.0.0.1:PORT.
    api_base: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 10.0

    @property
    def auth_tokens(self) -> tuple[str, ...]:
        """The tokens a webhook signature may be made with, newest first."""
        return tuple(t for t in (self.auth_token, self.previous_auth_token) if t)


class _TimeoutAdapter(HTTPAdapter):
    """Sends every request with a fixed (connect, read) timeout and no automatic retry.

    Twilio's client waits forever by default, and a retry after the request left could
    send a message twice.
    """

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__(max_retries=0)
        self._timeout = timeout

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        kwargs["timeout"] = self._timeout
        return super().send(request, *args, **kwargs)


class BoundedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """Twilio's HTTP client with explicit timeouts, an optional base URL, quiet logs.

    Every URL that points at a twilio.com API host, including the absolute next-page
    links the SDK builds while paging, is rewritten to `api_base` when one is set.
    """

    def __init__(self, settings: TwilioSettings) -> None:
        super().__init__(pool_connections=True)
        adapter = _TimeoutAdapter((settings.connect_timeout, settings.read_timeout))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._api_base = settings.api_base

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        # The adapter owns the timeout; a per-call one from the SDK must not undo it.
        kwargs["timeout"] = None
        return super().request(method, rebase_url(url, self._api_base), *args, **kwargs)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        # The SDK's own logging prints query strings, which hold phone numbers.
        log.debug("twilio request %s %s", kwargs["method"], urlsplit(kwargs["url"]).path)

    def log_response(self, status_code: int, response: Any) -> None:
        log.debug("twilio response %s", status_code)


def rebase_url(url: str, api_base: str | None) -> str:
    """`url` moved onto `api_base` if it targets a twilio.com host; otherwise unchanged."""
    if not api_base:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "twilio.com" and not host.endswith(".twilio.com"):
        return url
    base = urlsplit(api_base)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


def build_client(settings: TwilioSettings) -> Any:
    """A `twilio.rest.Client` that never waits forever and talks to `api_base` if set."""
    return Client(
        settings.account_sid,
        settings.auth_token,
        http_client=BoundedHttpClient(settings),
    )


def verify_signature(
    auth_tokens: Sequence[str], url: str, form: Mapping[str, str], signature: str | None
) -> bool:
    """True if `signature` is Twilio's signature of `url` and `form` under any token.

    `url` must be the exact URL Twilio posted to (scheme, host, raw path and query).
    A missing, empty or malformed signature is refused, never an exception.
    """
    if not signature:
        return False
    params = dict(form)
    for token in auth_tokens:
        if token and _valid(RequestValidator(token), url, params, signature):
            return True
    return False


def _valid(validator: Any, url: str, params: dict[str, str], signature: str) -> bool:
    try:
        return bool(validator.validate(url, params, signature))
    except (ValueError, TypeError, UnicodeError):
        # A URL with a bad port, or a signature that is not text: not Twilio's.
        return False
