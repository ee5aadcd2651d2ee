"""Fixtures for the Twilio channels: the simulator, and servers that misbehave."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from app.messaging.channels.twilio_common import TwilioSettings
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from app.simulator.server import TwilioSimulator

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "channel-test-token"
PREVIOUS_TOKEN = "channel-test-token-before-rotation"
SERVICE = "MG" + "b" * 32
SERVICE_NUMBER = "+447911100002"

ChannelFactory = Callable[..., TwilioSMSChannel]


@pytest.fixture
def sim() -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(
        ACCOUNT_SID, AUTH_TOKEN, seed=3, service_numbers={SERVICE: SERVICE_NUMBER}
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def make_channel() -> ChannelFactory:
    """A channel on any base URL; the read timeout is short so hangs end quickly."""

    def make(api_base: str, read_timeout: float = 0.5) -> TwilioSMSChannel:
        settings = TwilioSettings(
            ACCOUNT_SID,
            AUTH_TOKEN,
            previous_auth_token=PREVIOUS_TOKEN,
            api_base=api_base,
            connect_timeout=0.5,
            read_timeout=read_timeout,
        )
        return TwilioSMSChannel(settings)

    return make


@pytest.fixture
def channel(sim: TwilioSimulator, make_channel: ChannelFactory) -> TwilioSMSChannel:
    return make_channel(sim.base_url)


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def hang_up_url() -> Iterator[str]:
    """A server that reads each request in full, then closes without answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1.0)
                conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2.0)
    listener.close()
