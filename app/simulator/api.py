"""The HTTP face of the simulator: Twilio's 2010-04-01 Messages and Calls routes, auth
and errors.

A message instance takes GET (fetch) and POST (update: redaction); a call instance takes
GET (fetch) and DELETE, which answers 204 with no body, as Twilio does. Paths under
`/_control/` are not Twilio's: with the same credentials, a harness in another process
drives the simulator through them (see `control`), when it was started with one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs

from app.simulator.faults import ERROR_MESSAGES

_COLLECTION = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
_INSTANCE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages/(?P<sid>(?:SM|MM)\w+)\.json$"
)
_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls\.json$")
_CALL = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls/(?P<sid>CA\w+)\.json$")
_MAX_FORM_BYTES = 64 * 1024
CONTROL_PREFIX = "/_control/"
#: A control request carries JSON (a batch of texts to receive, say): a larger limit.
_MAX_CONTROL_BYTES = 16 * 1024 * 1024
#: Form fields Twilio takes more than once; their values are joined with spaces.
_REPEATED = frozenset({"StatusCallbackEvent"})


@dataclass(frozen=True)
class ApiResponse:
    """What to answer: a status, a JSON payload, and how long to stall first."""

    status: int
    payload: dict[str, Any]
    stall_seconds: float = 0.0


def error(status: int, code: int, message: str | None = None) -> ApiResponse:
    """An error in Twilio's JSON shape, which the SDK turns into TwilioRestException."""
    return ApiResponse(
        status,
        {
            "code": code,
            "message": message or ERROR_MESSAGES.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


class SimulatedAccount(Protocol):
    """The operations the HTTP layer calls; the simulator implements them."""

    account_sid: str
    auth_token: str

    def create_message(self, form: Mapping[str, str]) -> ApiResponse: ...

    def list_messages(self, params: Mapping[str, str]) -> ApiResponse: ...

    def fetch_message(self, sid: str) -> ApiResponse: ...

    def update_message(self, sid: str, form: Mapping[str, str]) -> ApiResponse: ...

    def delete_message(self, sid: str) -> ApiResponse: ...

    def create_call(self, form: Mapping[str, str]) -> ApiResponse: ...

    def list_calls(self, params: Mapping[str, str]) -> ApiResponse: ...

    def fetch_call(self, sid: str) -> ApiResponse: ...

    def delete_call(self, sid: str) -> ApiResponse: ...

    def stall(self, seconds: float) -> None: ...


class ControlApi(Protocol):
    """Answers the control routes: `name` is the path after `/_control/`, `params` the
    query string, `body` the JSON request body (an empty dict for none)."""

    def handle(
        self, method: str, name: str, params: Mapping[str, str], body: dict[str, Any]
    ) -> ApiResponse: ...


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients at once (workers, reconcilers, a harness): a longer listen queue.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        account: SimulatedAccount,
        control: ControlApi | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        self.account = account
        self.control = control

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-request (a killed worker, a timeout) is expected
        # under faults; anything else is reported as socketserver reports it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    server_version = "TwilioSimulator/1.0"
    # Keep-alive, as the real API offers: the SDK reuses its connection.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer(self._route("GET"))

    def do_POST(self) -> None:
        self._answer(self._route("POST"))

    def do_DELETE(self) -> None:
        self._answer(self._route("DELETE"))

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry numbers in their query strings: log nothing.
        return

    def _route(self, method: str) -> ApiResponse:
        account = self.server.account
        path, _, query = self.path.partition("?")
        if not _authorised(self.headers.get("Authorization"), account):
            return error(401, 20003)
        if path.startswith(CONTROL_PREFIX) and self.server.control is not None:
            return self._route_control(method, path.removeprefix(CONTROL_PREFIX), query)
        call = _CALL.match(path) or _CALLS.match(path)
        if call is not None:
            return self._route_calls(method, call, account)
        instance = _INSTANCE.match(path)
        match = instance or _COLLECTION.match(path)
        if match is None or match["account"] != account.account_sid:
            return error(404, 20404)
        form = self._read_form() if method == "POST" else {}
        if instance is not None:
            if method == "GET":
                return account.fetch_message(instance["sid"])
            if method == "POST":
                return account.update_message(instance["sid"], form)
            if method == "DELETE":
                return account.delete_message(instance["sid"])
            return error(405, 20004)
        if method == "GET":
            return account.list_messages(_flatten(query))
        if method == "POST":
            return account.create_message(form)
        return error(405, 20004)

    def _route_calls(
        self, method: str, match: re.Match[str], account: SimulatedAccount
    ) -> ApiResponse:
        if match["account"] != account.account_sid:
            return error(404, 20404)
        if "sid" in match.groupdict():
            if method == "GET":
                return account.fetch_call(match["sid"])
            if method == "DELETE":
                return account.delete_call(match["sid"])
            return error(405, 20004)
        if method == "GET":
            return account.list_calls(_flatten(self.path.partition("?")[2]))
        if method == "POST":
            return account.create_call(self._read_form())
        return error(405, 20004)

    def _route_control(self, method: str, name: str, query: str) -> ApiResponse:
        control = self.server.control
        assert control is not None
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_CONTROL_BYTES)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return error(400, 20001, "the body is not JSON")
        if not isinstance(body, dict):
            return error(400, 20001, "the body is not a JSON object")
        return control.handle(method, name, _flatten(query), body)

    def _read_form(self) -> dict[str, str]:
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_FORM_BYTES)
        return _flatten(self.rfile.read(length).decode("utf-8"))

    def _answer(self, response: ApiResponse) -> None:
        if response.stall_seconds:
            self.server.account.stall(response.stall_seconds)
        # 204 No Content (a deletion) has no body at all, not even an empty JSON one.
        no_content = response.status == 204
        body = b"" if no_content else json.dumps(response.payload).encode("utf-8")
        try:
            self.send_response(response.status)
            if not no_content:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            # The client gave up waiting (the point of a stall); nobody is left to answer.
            return


def _flatten(encoded: str) -> dict[str, str]:
    # Blank values matter: redaction is an update with Body="".
    pairs = parse_qs(encoded, keep_blank_values=True).items()
    return {k: " ".join(v) if k in _REPEATED else v[-1] for k, v in pairs}


def _authorised(header: str | None, account: SimulatedAccount) -> bool:
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected = f"{account.account_sid}:{account.auth_token}"
    return hmac.compare_digest(decoded.encode(), expected.encode())
