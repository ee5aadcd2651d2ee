"""A real HTTP receiver of webhooks for the tests, on 127.0.0.1 in a thread of its own.

It records every request (headers and raw body) and answers from a script: a status,
or `HOLD`, which keeps the request open until the test ends so that the sender's read
timeout expires. Without a script it answers 200. `deduplicated` is what a careful
receiver keeps: each event id once, however many times it arrived.
"""

from __future__ import annotations

import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.events.signing import EVENT_ID_HEADER

#: Answer nothing until the test is over: the sender times out.
HOLD = 0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> str:
        return self.headers[EVENT_ID_HEADER]


class Receiver:
    """With `tls`, it speaks HTTPS with that context's certificate."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[Received] = []
        self.script: deque[int] = deque()
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}/hooks/wesaid"

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (HOLD: never), then 200."""
        self.script.extend(statuses)

    @property
    def deduplicated(self) -> list[str]:
        seen: list[str] = []
        for request in self.received:
            if request.event_id not in seen:
                seen.append(request.event_id)
        return seen

    def _record(self, request: Received) -> int:
        with self._lock:
            self.received.append(request)
            return self.script.popleft() if self.script else 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._record(Received(self.path, dict(self.headers), body))
                if status == HOLD:
                    receiver.released.wait(30)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        return Handler

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.released.set()
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)
