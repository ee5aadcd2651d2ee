"""The HTTP under the `twilio` SDK: one kept-alive connection per host and thread.

A send is one small form POST and one small JSON answer. Through `requests` each cost
about as much CPU again as the rest of sending (its hooks, its adapters, urllib3's pool
and the e-mail parser it reads headers with); here the request goes out through
`http.client` on a connection kept open between requests, and the answer is read as
far as its stated length.

What the channels rely on is kept: a request is never retried once it may have left
(a connection that the server closed while it was idle is noticed before the request
is written, and only then is another opened), and failures come as `requests`'s
exceptions, told apart as `twilio_common.attempt` tells them: no connection made
(nothing was sent), no answer within the read timeout, the connection lost after
sending.
"""

from __future__ import annotations

import base64
import codecs
import http.client
import select
import socket
import ssl
import threading
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import certifi
import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

#: An answer: its status, text and headers (names in lower case).
Answer = tuple[int, str, dict[str, str]]

_Connection = http.client.HTTPConnection


class KeptAliveTransport:
    """Form POSTs, GETs and DELETEs over HTTP/1.1 through connections kept open, each
    thread its own. `timeouts` are (connect, read) in seconds; https verifies the server
    against `ca_bundle` (certifi's bundle, as `requests` uses, if None)."""

    def __init__(self, timeouts: tuple[float, float], ca_bundle: str | None = None) -> None:
        self._connect_timeout, self._read_timeout = timeouts
        self._ca_bundle = ca_bundle
        self._tls: ssl.SSLContext | None = None
        self._local = threading.local()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        form: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Answer:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise requests.exceptions.InvalidURL(f"not an http(s) URL: {parts.scheme}")
        target = parts.path or "/"
        query = "&".join(q for q in (parts.query, _encoded(params)) if q)
        if query:
            target += "?" + query
        body = _encoded(form).encode("ascii") if form else None
        sent = {name: value for name, value in (headers or {}).items() if value is not None}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        origin = (parts.scheme, parts.hostname, parts.port)
        connection = self._connection(origin)
        try:
            connection.request(method.upper(), target, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError as exc:
            self._drop(origin)
            raise requests.ReadTimeout("no answer within the read timeout") from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop(origin)
            raise requests.ConnectionError(f"connection lost: {type(exc).__name__}") from exc
        except Exception:
            # Anything else (a URL http.client refuses, say) leaves the connection in a
            # state no later request can trust.
            self._drop(origin)
            raise
        if response.will_close:
            self._drop(origin)
        found = {name.lower(): value for name, value in response.getheaders()}
        return response.status, data.decode(_charset(found), errors="replace"), found

    def close(self) -> None:
        """Close this thread's connections."""
        for origin in list(self._connections()):
            self._drop(origin)

    def _connections(self) -> dict[tuple[str, str, int | None], _Connection]:
        held: dict[tuple[str, str, int | None], _Connection] | None = getattr(
            self._local, "connections", None
        )
        if held is None:
            held = self._local.connections = {}
        return held

    def _connection(self, origin: tuple[str, str, int | None]) -> _Connection:
        """This thread's open connection to `origin`, or a new one. An idle connection
        that has something to read has been closed by the server (or is out of step):
        it is dropped before anything is written to it."""
        held = self._connections()
        connection = held.get(origin)
        if connection is not None and not _idle_and_open(connection):
            self._drop(origin)
            connection = None
        if connection is None:
            connection = self._connect(origin)
            held[origin] = connection
        return connection

    def _connect(self, origin: tuple[str, str, int | None]) -> _Connection:
        scheme, host, port = origin
        connection: _Connection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout, context=self._context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise requests.ConnectTimeout(ConnectTimeoutError(f"no connection to {host}")) from exc
        except OSError as exc:
            connection.close()
            # A refused or unreachable host, an unknown name, a failed TLS handshake:
            # nothing was sent.
            raise requests.ConnectionError(
                NewConnectionError(None, f"no connection to {host}: {type(exc).__name__}")  # type: ignore[arg-type]
            ) from exc
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout)
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=self._ca_bundle or certifi.where())
        return self._tls

    def _drop(self, origin: tuple[str, str, int | None]) -> None:
        connection = self._connections().pop(origin, None)
        if connection is not None:
            connection.close()


def _idle_and_open(connection: _Connection) -> bool:
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _encoded(values: Mapping[str, object] | None) -> str:
    """`values` as a query or form: a list gives its key once per item; None is left
    out, as `requests` leaves it out."""
    if not values:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, str(item)) for item in items if item is not None]
    return urlencode(pairs)


def _charset(headers: Mapping[str, str]) -> str:
    for part in headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                break
    return "utf-8"
