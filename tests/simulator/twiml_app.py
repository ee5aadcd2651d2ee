"""A stand-in for the app's voice webhooks: answers each path with scripted TwiML."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Request:
    """One POST as the app would receive it."""

    url: str
    form: dict[str, str]
    signature: str | None


class TwimlApp:
    """Records every POST; answers a path in `pages` with its TwiML, anything else with
    an empty Response (a status callback, say)."""

    def __init__(self, pages: dict[str, str] | None = None) -> None:
        self.pages = dict(pages or {})
        self.requests: list[Request] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                signature = self.headers.get("X-Twilio-Signature")
                app.requests.append(Request(app.base_url + self.path, form, signature))
                page = app.pages.get(self.path.partition("?")[0], "<Response/>")
                body = f'<?xml version="1.0" encoding="UTF-8"?>{page}'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def posts_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.url.partition("?")[0] == self.base_url + path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
