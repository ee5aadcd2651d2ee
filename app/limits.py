"""What one request may cost: trusted proxies, body sizes and request rates.

`init_app(app)`, called by `create_app` once the blueprints are registered:

- **Proxies.** With WESAID_TRUSTED_PROXIES = N > 0 the app is wrapped in werkzeug's
  `ProxyFix(x_for=N, x_proto=N, x_host=N)`, so the client address (and with it every
  per-address limit) is the one the N proxies in front of us saw. With 0, the default,
  no forwarding header is believed: a client could otherwise choose its own address.
- **Body sizes**, checked in a `before_request` before anything reads the body: a
  declared Content-Length over the limit answers 413 at once; a body without one
  (chunked) is read no further than one byte past the limit, and that byte means 413.
  Every route: MAX_CONTENT_LENGTH (8 MiB, the JSON API's imports). Twilio's webhooks
  (blueprints under /webhooks/): WEBHOOK_MAX_BYTES, 64 KiB (Twilio posts a few kB). A
  blueprint may ask for its own with `limit_body` (the survey form does).
- **Rates**, with one Flask-Limiter per app (`limiter`), counted in
  RATELIMIT_STORAGE_URI, else REDIS_URL, else in memory (always in memory under TESTING
  unless RATELIMIT_STORAGE_URI is set). A storage outage lets requests through. Webhooks:
  per client address, WEBHOOK_RATE_LIMIT (WESAID_WEBHOOK_RATE_LIMIT, 6000 per minute)
  over all webhook routes together. API (blueprints under /api/): per bearer token,
  keyed by a hash of it (never the token), API_RATE_LIMIT (WESAID_API_RATE_LIMIT, 600 per
  minute) over the whole API; a request without a token is counted by address. A limit
  hit answers 429 with Retry-After.

Twilio and 429: Twilio retries a webhook only as its URL's connection overrides say
(`#rc=`/`#rp=`; by default once, and only when the connection fails). An HTTP answer,
429 included, is final and its Retry-After is not read. So a limited reply is dropped by
Twilio, and the reconcilers (app.messaging.reconcile) import it later from Twilio's list
of inbound messages; a limited final status callback is fetched by the status poll. A
limited call webhook fails the call. The webhook limit is therefore a flood guard far
above Twilio's own traffic, not a throttle.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Mapping

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

WEBHOOK_PREFIX = "/webhooks/"
API_PREFIX = "/api/"
#: Twilio's form posts are a few kB; 64 KiB is generous.
WEBHOOK_MAX_BYTES = 64 * 1024
#: The key of what init_app set up in app.extensions, and of the shared limiter.
_EXTENSION = "wesaid.limits"
_LIMITER = "wesaid.limiter"
_BODY_LIMITS = "wesaid.body_limits"
_CHUNK = 64 * 1024


def init_app(app: Flask) -> None:
    """Trust the configured proxies and limit bodies and rates (see the module). Idempotent."""
    if _EXTENSION in app.extensions:
        return
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    shared = limiter(app)
    for blueprint in list(app.blueprints.values()):
        if not isinstance(blueprint, Blueprint):
            continue
        prefix = blueprint.url_prefix or ""
        if prefix.startswith(WEBHOOK_PREFIX):
            limit_body(
                app, blueprint.name, int(app.config.get("WEBHOOK_MAX_BYTES", WEBHOOK_MAX_BYTES))
            )
            shared.shared_limit(_webhook_limit, scope="webhooks", key_func=client_address)(
                blueprint
            )
        elif prefix.startswith(API_PREFIX):
            shared.shared_limit(_api_limit, scope="api", key_func=token_key)(blueprint)
    app.before_request(_limit_body)
    app.after_request(_retry_after)
    app.extensions[_EXTENSION] = True


def limiter(app: Flask) -> Limiter:
    """The app's one Flask-Limiter, made on first use (blueprints add their own limits)."""
    existing = app.extensions.get(_LIMITER)
    if isinstance(existing, Limiter):
        return existing
    made = Limiter(
        client_address,
        storage_uri=storage_uri(app.config),
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="wesaid",
    )
    made.init_app(app)
    app.extensions[_LIMITER] = made
    return made


def limit_body(app: Flask, blueprint: str, max_bytes: int) -> None:
    """Refuse (413) a body over `max_bytes` on the routes of the blueprint named
    `blueprint`, before it is read."""
    app.extensions.setdefault(_BODY_LIMITS, {})[blueprint] = max_bytes


def storage_uri(config: Mapping[str, object]) -> str:
    """Where limits are counted: RATELIMIT_STORAGE_URI, else REDIS_URL (not under
    TESTING), else memory."""
    explicit = config.get("RATELIMIT_STORAGE_URI")
    if explicit:
        return str(explicit)
    redis_url = config.get("REDIS_URL")
    return str(redis_url) if redis_url and not config.get("TESTING") else "memory://"


def client_address() -> str:
    """The client's address (the proxies' view of it under ProxyFix)."""
    return get_remote_address() or "-"


def token_key() -> str:
    """A hash of the request's bearer token, or its address when it has none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return "address:" + client_address()
    # Domain-separated, so the key never equals the token's hash stored for logins.
    digest = hashlib.sha256(b"wesaid-rate-limit\x00" + token.encode("utf-8", "replace"))
    return "token:" + digest.hexdigest()[:32]


# Read at each request, so a changed setting applies at once (app.config sets defaults).
def _webhook_limit() -> str:
    return str(current_app.config["WEBHOOK_RATE_LIMIT"])


def _api_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def _limit_body() -> None:
    limits: dict[str, int] = current_app.extensions.get(_BODY_LIMITS, {})
    maximum = limits.get(request.blueprint or "")
    if maximum is None:
        maximum = current_app.config.get("MAX_CONTENT_LENGTH")
    if maximum is None:
        return
    request.max_content_length = maximum
    length = request.content_length
    if length is not None:
        if length > maximum:
            raise RequestEntityTooLarge()
    elif request.environ.get("wsgi.input_terminated") and "stream" not in request.__dict__:
        _read_unsized(maximum)


def _read_unsized(maximum: int) -> None:
    """A body sent without a Content-Length (chunked): read at most `maximum` + 1 bytes
    now and refuse it if there is more. (werkzeug's own limit on such a stream stops
    reading at the limit without an error, which would hand on a truncated form.)"""
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= maximum:
        chunk = stream.read(min(_CHUNK, maximum + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > maximum:
        raise RequestEntityTooLarge()
    request.environ["wsgi.input"] = io.BytesIO(b"".join(chunks))


def _retry_after(response: Response) -> Response:
    """Say when to come back on a 429 that does not already (whichever handler drew it)."""
    if response.status_code != 429 or "Retry-After" in response.headers:
        return response
    shared = current_app.extensions.get(_LIMITER)
    current = shared.current_limit if isinstance(shared, Limiter) else None
    wait = 60
    if current is not None:
        window = int(current.limit.get_expiry())
        try:
            wait = min(current.reset_at - int(time.time()), window)
        except Exception:  # the storage is down: the window's length is a fair answer
            wait = window
    response.headers["Retry-After"] = str(max(1, wait))
    return response
