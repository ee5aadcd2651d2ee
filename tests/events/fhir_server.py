"""A small FHIR R4 server for the tests: Appointments only, over real HTTP on 127.0.0.1.

What it does follows the specification's RESTful API where the write-back needs it:

- search: ``GET [base]/Appointment?identifier=[system]|[value]`` (or just a value)
  answers a ``searchset`` Bundle of the matches;
- read: ``GET [base]/Appointment/[id]``;
- conditional update: ``PUT [base]/Appointment?identifier=...``. No match: the
  resource is created (201), as the specification says for a body with no id or the
  id the client chose. One match: updated (200), unless the body names another id
  (400) or ``If-Match`` names another version (412). More than one match: 412.

Every request is recorded (method, path, query, If-Match); `fail_next` makes the next
requests answer an error status instead.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    if_match: str | None


class FhirServer:
    def __init__(self) -> None:
        self.appointments: dict[str, dict[str, Any]] = {}
        self.seen: list[Seen] = []
        self.failures: deque[int] = deque()
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/fhir"

    def add(self, resource: dict[str, Any]) -> str:
        """Store an Appointment as the patient system holds it; returns its id."""
        with self._lock:
            return self._create(copy.deepcopy(resource))

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    # -- the server's logic ---------------------------------------------------------

    def _create(self, resource: dict[str, Any]) -> str:
        resource_id = str(resource.get("id") or f"a{self._next_id}")
        self._next_id += 1
        resource["id"] = resource_id
        resource["meta"] = {"versionId": "1"}
        self.appointments[resource_id] = resource
        return resource_id

    def _search(self, token: str) -> list[dict[str, Any]]:
        system, bar, value = token.rpartition("|")
        found = []
        for resource in self.appointments.values():
            for identifier in resource.get("identifier") or []:
                same_value = identifier.get("value") == value
                if same_value and (not bar or identifier.get("system") == system):
                    found.append(resource)
                    break
        return found

    def _bundle(self, found: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [
                {
                    "fullUrl": f"{self.base_url}/Appointment/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in found
            ],
        }

    def _conditional_update(
        self, token: str, body: dict[str, Any], if_match: str | None
    ) -> tuple[int, Any]:
        found = self._search(token)
        if len(found) > 1:
            return 412, _outcome("multiple matches")
        if not found:
            return 201, self.appointments[self._create(copy.deepcopy(body))]
        current = found[0]
        if body.get("id") not in (None, current["id"]):
            return 400, _outcome("the resource id does not match the one found")
        version = current["meta"]["versionId"]
        if if_match is not None and if_match != f'W/"{version}"':
            return 412, _outcome("version conflict")
        updated = copy.deepcopy(body)
        updated["id"] = current["id"]
        updated["meta"] = {"versionId": str(int(version) + 1)}
        self.appointments[current["id"]] = updated
        return 200, updated

    def _answer(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        with self._lock:
            self.seen.append(Seen(method, parts.path, query, headers.get("If-Match")))
            if self.failures:
                return self.failures.popleft(), _outcome("failing on purpose")
            segments = parts.path.strip("/").split("/")
            if segments[:2] != ["fhir", "Appointment"]:
                return 404, _outcome("unknown resource type")
            if method == "GET" and len(segments) == 3:
                found = self.appointments.get(segments[2])
                return (200, found) if found else (404, _outcome("not found"))
            token = (query.get("identifier") or [""])[0]
            if method == "GET":
                return 200, self._bundle(self._search(token))
            if method == "PUT" and len(segments) == 2 and token:
                try:
                    resource = json.loads(body)
                except ValueError:
                    return 400, _outcome("not JSON")
                if resource.get("resourceType") != "Appointment":
                    return 400, _outcome("not an Appointment")
                return self._conditional_update(token, resource, headers.get("If-Match"))
            return 405, _outcome("not supported")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, document = server._answer(method, self.path, self.headers, body)
                data = json.dumps(document).encode() if not isinstance(document, str) else b""
                self.send_response(status)
                self.send_header("Content-Type", FHIR_JSON)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def log_message(self, format: str, *args: object) -> None:
                return None

        return Handler

    @contextmanager
    def running(self) -> Iterator[FhirServer]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)


def _outcome(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": text}],
    }
