"""Fixtures for the Twilio simulator: a started simulator, an SDK client, a webhook sink."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from app.messaging.channels.twilio_common import TwilioSettings, build_client
from app.simulator.server import TwilioSimulator

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "simulator-test-token"


@dataclass(frozen=True)
class Captured:
    """One webhook as the app would receive it."""

    url: str
    form: dict[str, str]
    signature: str | None


class Receiver:
    """A stdlib HTTP server standing in for the app: records every POST, answers 200."""

    def __init__(self) -> None:
        self.captured: list[Captured] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                url = receiver.base_url + self.path
                signature = self.headers.get("X-Twilio-Signature")
                receiver.captured.append(Captured(url, form, signature))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    sink = Receiver()
    yield sink
    sink.close()


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        inbound_url=receiver.base_url + "/webhooks/twilio/inbound",
        seed=7,
        service_numbers={"MG" + "a" * 32: "+447911100001"},
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def twilio_client(sim: TwilioSimulator) -> Any:
    return build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.base_url))
