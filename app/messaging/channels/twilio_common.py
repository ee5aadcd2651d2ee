"""What every Twilio channel shares: settings, a client with timeouts, signature checks,
and the mapping of a create request's failure onto a send outcome."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from app.core.channels import ProviderTiming, SendOutcome, SendResult
from app.core.erasure import EraseOutcome
from app.core.inputs import whole_number
from app.messaging.channels.twilio_http import KeptAliveTransport

log = logging.getLogger(__name__)
#: Where the SDK sends its requests unless `api_base` says otherwise.
TWILIO_API = "https://api.twilio.com"


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
    #: When the reconcilers look Twilio's records up (`ProviderTiming`).
    timing: ProviderTiming = field(default_factory=ProviderTiming)

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
    Requests go through kept-alive connections of `http.client` (`twilio_http`), unless
    the environment names a proxy or the SDK sends JSON: those go through `requests`.
    """

    def __init__(self, settings: TwilioSettings) -> None:
        super().__init__(pool_connections=True)
        adapter = _TimeoutAdapter((settings.connect_timeout, settings.read_timeout))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._api_base = settings.api_base
        # The environment's proxies and CA bundle are read once here rather than before
        # every request (requests looks them up per call, which costs as much as the
        # rest of preparing the request).
        self.session.trust_env = False
        proxies: dict[str, str] = get_environ_proxies(settings.api_base or TWILIO_API)
        self.proxy = proxies or None
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle
        self.transport = KeptAliveTransport(
            (settings.connect_timeout, settings.read_timeout), bundle or None
        )

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        url = rebase_url(url, self._api_base)
        if self.proxy or "json" in (headers or {}).get("Content-Type", ""):
            # The adapter owns the timeout; a per-call one from the SDK must not undo it.
            return super().request(method, url, params, data, headers, auth, None, allow_redirects)
        self.log_request({"method": method.upper(), "url": url})
        status, text, found = self.transport.request(
            method, url, params=params, form=data, headers=headers, auth=auth
        )
        self.log_response(status, None)
        self._test_only_last_response = TwilioResponse(status, text, found)
        return self._test_only_last_response

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


#: The query parameter Twilio adds to the URL when it posts a JSON (or other non-form)
#: body: the hex SHA-256 of the body. The signature then covers the URL alone.
BODY_HASH_PARAM = "bodySHA256"


@runtime_checkable
class MultiValued(Protocol):
    """A form that keeps every value of a repeated key (werkzeug's `MultiDict`)."""

    def getlist(self, key: str) -> list[str]: ...


def twilio_signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """Twilio's X-Twilio-Signature of a POST of `form` to `url`, made with `auth_token`.

    HMAC-SHA1, base64, of the URL followed, for each key in sorted order, by the key and
    one of its values, for every distinct value in sorted order. A multi-valued form
    gives all its values; a plain mapping gives one per key.
    """
    return _signature(auth_token, url, _signed_form(form))


def _signed_form(form: Mapping[str, str]) -> str:
    """What a signature covers of `form`, after the URL (see `twilio_signature`)."""
    signed = []
    # Checked once: a runtime protocol check costs more than the signing itself.
    multi = form if isinstance(form, MultiValued) else None
    for key in sorted(form):
        values = multi.getlist(key) if multi is not None else [form[key]]
        signed += [key + value for value in sorted(set(values))]
    return "".join(signed)


def _signature(auth_token: str, url: str, signed_form: str) -> str:
    mac = hmac.new(auth_token.encode("utf-8"), (url + signed_form).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def carries_body_hash(url: str) -> bool:
    """Whether Twilio marked `url` as the target of a non-form body (`bodySHA256`)."""
    return bool(_body_hashes(url))


def body_matches(url: str, body: bytes) -> bool:
    """True if `url` carries exactly one `bodySHA256` and it is the hex SHA-256 of `body`."""
    hashes = _body_hashes(url)
    if len(hashes) != 1:
        return False
    digest = hashlib.sha256(body).hexdigest()
    return hmac.compare_digest(digest.encode("ascii"), _ascii(hashes[0]))


def verify_signature(
    auth_tokens: Sequence[str],
    url: str,
    form: Mapping[str, str],
    signature: str | None,
    body: bytes | None = None,
) -> bool:
    """True if `signature` is Twilio's signature of `url` and `form` under any token.

    `url` must be the exact URL Twilio posted to (scheme, host, raw path and query); it
    is also tried with its port removed or the default one added, as Twilio's own
    validators do. Pass a multi-valued form (werkzeug's `request.form`) so that every
    value of a repeated key is checked.

    When `url` carries `bodySHA256` the signature covers the URL alone and `form` is not
    read; `body`, when given, must hash to it. The channel protocol carries no body, so a
    caller that passes none must check it with `body_matches`.

    A missing, empty or malformed signature is refused, never an exception.
    """
    if not signature:
        return False
    if carries_body_hash(url):
        if body is not None and not body_matches(url, body):
            return False
        form = {}
    received = _ascii(signature)
    signed_form = _signed_form(form)
    return any(
        hmac.compare_digest(_signature(token, candidate, signed_form).encode("ascii"), received)
        for token in auth_tokens
        if token
        for candidate in _with_and_without_port(url)
    )


def _body_hashes(url: str) -> list[str]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    pairs = parse_qsl(query, keep_blank_values=True)
    return [value for key, value in pairs if key == BODY_HASH_PARAM]


def _with_and_without_port(url: str) -> list[str]:
    """`url` as given, then without its port and with the scheme's default port.

    Twilio signs some URLs with the port and some without. Empty when the URL cannot
    be parsed (a port that is not a number, say): nothing can match it.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return []
    if port is None:
        default = 443 if parts.scheme == "https" else 80
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    else:
        other = parts._replace(netloc=parts.netloc.rpartition(":")[0])
    return list(dict.fromkeys([url, urlunsplit(parts), urlunsplit(other)]))


def _ascii(text: str) -> bytes:
    # compare_digest takes str only if it is ASCII; a header can hold anything.
    return text.encode("utf-8", "surrogatepass")


# -- what every Twilio create call shares ----------------------------------------------

RATE_LIMITED = 20429
UNSUBSCRIBED = 21610
#: Seconds before retrying after a 429; jittered up to twice this so workers spread out.
RATE_LIMIT_BACKOFF = 2.0
#: Seconds before retrying when Twilio could not be reached at all.
UNREACHABLE_BACKOFF = 5.0


def attempt(create: Callable[[], Any]) -> tuple[Any, SendResult | None]:
    """Run one create request; (resource, None) on success, else (None, the outcome).

    RETRY only when Twilio certainly does not have the request (429, or no connection
    was ever made). UNKNOWN whenever it may have arrived: a read timeout, a 5xx, a
    dropped connection or anything unexpected. Never raises for provider errors.
    """
    try:
        return create(), None
    except TwilioException as exc:
        return None, from_api_error(exc)
    except requests.ConnectionError as exc:
        if never_connected(exc):
            return None, retry(UNREACHABLE_BACKOFF, "twilio unreachable")
        return None, SendResult(SendOutcome.UNKNOWN, detail="connection lost after sending")
    except requests.Timeout:
        return None, SendResult(SendOutcome.UNKNOWN, detail="no answer within the read timeout")
    except Exception as exc:
        return None, SendResult(SendOutcome.UNKNOWN, detail=f"unexpected {type(exc).__name__}")


def from_api_error(exc: TwilioException) -> SendResult:
    """The outcome of a refused request, from its HTTP status and Twilio error code."""
    # Twilio's message text can quote the number, so only status and code are kept.
    status: int | None = getattr(exc, "status", None)
    code: int | None = getattr(exc, "code", None)
    detail = f"twilio http {status} code {code}"
    if code == RATE_LIMITED or status == 429:
        return retry(RATE_LIMIT_BACKOFF, detail, code)
    if status is None or status >= 500:
        return SendResult(SendOutcome.UNKNOWN, error_code=code, detail=detail)
    if code == UNSUBSCRIBED:
        return SendResult(SendOutcome.OPTED_OUT, error_code=code, detail=detail)
    return SendResult(SendOutcome.FAILED, error_code=code, detail=detail)


def retry(backoff: float, detail: str, code: int | None = None) -> SendResult:
    """A RETRY outcome whose wait is `backoff` jittered up to twice as long."""
    wait = backoff * (1 + random.random())
    return SendResult(SendOutcome.RETRY, error_code=code, retry_after=wait, detail=detail)


def never_connected(exc: BaseException) -> bool:
    """Whether the failure happened before a connection existed, so nothing was sent.

    requests wraps urllib3's MaxRetryError, whose `reason` says what went wrong.
    """
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError | ConnectionRefusedError):
            return True
        linked = (*current.args, getattr(current, "reason", None), current.__cause__)
        todo += [e for e in linked if isinstance(e, BaseException)]
    return False


# -- erasure: deleting a message's or a call's record ------------------------------------

#: "The requested resource was not found": already deleted, or never kept.
NOT_FOUND = 20404
#: "Cannot delete this resource before it is complete": a call under way, a message not
#: yet final.
NOT_COMPLETE = 20009


def delete_message(client: Client, provider_sid: str) -> EraseOutcome:
    """Delete a message, sent or received, from Twilio's logs: its numbers go with its
    text (an update with an empty Body would blank the text and keep the numbers).
    Twilio deletes a message only once it is final (delivered, undelivered, failed,
    received): NOT_YET before. Never raises (see `erase_attempt`)."""
    return erase_attempt(lambda: client.messages(provider_sid).delete())


def erase_attempt(erase: Callable[[], Any]) -> EraseOutcome:
    """Run one deletion request; never raises.

    ERASED when Twilio did it; ABSENT for a 404 (nothing left to erase); NOT_YET when
    Twilio will not until the call or message is complete; FAILED for anything else
    (another refusal, a 5xx, a timeout, no connection): the caller tries again later.
    Erasing twice is harmless, so an ambiguous failure is simply retried.
    """
    try:
        erase()
    except TwilioException as exc:
        status: int | None = getattr(exc, "status", None)
        code: int | None = getattr(exc, "code", None)
        if status == 404 or code == NOT_FOUND:
            return EraseOutcome.ABSENT
        if code == NOT_COMPLETE:
            return EraseOutcome.NOT_YET
        log.warning("twilio erasure refused: http %s code %s", status, code)
        return EraseOutcome.FAILED
    except Exception as exc:  # unreachable, timed out, or anything unexpected: retried
        log.warning("twilio erasure failed: %s", type(exc).__name__)
        return EraseOutcome.FAILED
    return EraseOutcome.ERASED


def error_code(raw: str | None) -> int | None:
    """A webhook's ErrorCode field as a number; None when absent, not a number of ASCII
    digits, or beyond what an error code can be."""
    return whole_number(raw)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` in UTC (a naive one is taken as UTC), for the SDK's date filters."""
    # The SDK formats with strftime and a literal Z, so the instant must already be UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
