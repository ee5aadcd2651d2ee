"""The kept-alive HTTP under the SDK: connections reused, a closed one never written to,
the form and query encoded as `requests` would, failures told apart."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest
import requests

from app.messaging.channels.twilio_common import BoundedHttpClient, TwilioSettings, never_connected
from app.messaging.channels.twilio_http import KeptAliveTransport

ANSWER = b'{"sid": "SM1"}'


@dataclass
class Server:
    """A small HTTP/1.1 server: answers each request with ANSWER, keeps the connection
    open unless `close_after` says how many answers a connection gets before the server
    closes it (without saying so, as a server whose idle timeout passed does)."""

    url: str = ""
    close_after: int | None = None
    connections: int = 0
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    #: Set whenever the server has closed a connection.
    closed: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))


def _read_request(
    conn: socket.socket, pending: bytes
) -> tuple[tuple[str, str, dict[str, str], bytes] | None, bytes]:
    while b"\r\n\r\n" not in pending:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _version = line.split(" ")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += conn.recv(65536)
    return (method, target, headers, rest[:length]), rest[length:]


@pytest.fixture
def server() -> Iterator[Server]:
    listener = socket.create_server(("127.0.0.1", 0))
    state = Server(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        answered, pending = 0, b""
        with conn:
            while not stop.is_set():
                request, pending = _read_request(conn, pending)
                if request is None:
                    return
                state.requests.append(request)
                conn.sendall(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\n"
                    + f"Content-Length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )
                answered += 1
                if state.close_after is not None and answered >= state.close_after:
                    conn.close()
                    state.closed.release()
                    return

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            state.connections += 1
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield state
    stop.set()
    thread.join(timeout=2.0)
    listener.close()


def _transport() -> KeptAliveTransport:
    return KeptAliveTransport((0.5, 0.5))


def test_requests_share_one_connection(server: Server) -> None:
    transport = _transport()
    answers = [
        transport.request("POST", f"{server.url}/m.json", form={"To": "+1"}) for _ in range(3)
    ]
    assert [a[0] for a in answers] == [201, 201, 201]
    assert answers[0][1] == ANSWER.decode()
    assert answers[0][2]["content-type"].startswith("application/json")
    assert server.connections == 1
    assert len(server.requests) == 3


def test_a_connection_the_server_closed_is_not_written_to(server: Server) -> None:
    """Each request arrives once: the one after the server closed the idle connection
    goes out on a new connection, and is not sent (and lost) on the closed one."""
    server.close_after = 1
    transport = _transport()
    for n in range(3):
        assert transport.request("POST", f"{server.url}/m.json", form={"n": str(n)})[0] == 201
        assert server.closed.acquire(timeout=2.0)
    assert [parse_qs(r[3].decode())["n"] for r in server.requests] == [["0"], ["1"], ["2"]]
    assert server.connections == 3


def test_the_form_query_and_credentials_are_sent_as_requests_sends_them(server: Server) -> None:
    transport = _transport()
    transport.request(
        "POST",
        f"{server.url}/2010-04-01/Accounts/AC1/Messages.json?x=1",
        params={"PageSize": 20, "Skipped": None},
        form={"To": "+447700900123", "Body": "Café & 1+1=2", "MediaUrl": ["a", "b"], "No": None},
        headers={"Accept": "application/json", "X-Unset": None},  # type: ignore[dict-item]
        auth=("AC1", "secret"),
    )
    [(method, target, headers, body)] = server.requests
    assert (method, target) == ("POST", "/2010-04-01/Accounts/AC1/Messages.json?x=1&PageSize=20")
    assert parse_qs(body.decode()) == {
        "To": ["+447700900123"],
        "Body": ["Café & 1+1=2"],
        "MediaUrl": ["a", "b"],
    }
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["authorization"] == "Basic QUMxOnNlY3JldA=="
    assert headers["accept"] == "application/json"
    assert "x-unset" not in headers


def test_a_get_carries_no_body(server: Server) -> None:
    _transport().request("GET", f"{server.url}/m.json", params={"To": "+1"}, form={})
    [(method, target, headers, body)] = server.requests
    assert (method, target, body) == ("GET", "/m.json?To=%2B1", b"")
    assert "content-type" not in headers


def test_no_connection_is_a_connection_error_that_sent_nothing() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as raised:
        _transport().request("POST", f"http://127.0.0.1:{port}/m.json", form={"a": "b"})
    assert never_connected(raised.value)


def test_the_client_rebases_twilio_urls_and_wraps_the_answer(server: Server) -> None:
    client = BoundedHttpClient(TwilioSettings("AC1", "token", api_base=server.url))
    response = client.request(
        "POST", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", data={"To": "+1"}
    )
    assert (response.status_code, response.text, response.ok) == (201, ANSWER.decode(), True)
    [(_method, target, _headers, _body)] = server.requests
    assert target == "/2010-04-01/Accounts/AC1/Messages.json"


def test_a_request_http_client_refuses_leaves_no_broken_connection(server: Server) -> None:
    transport = _transport()
    assert transport.request("GET", f"{server.url}/m.json")[0] == 201
    with pytest.raises(UnicodeEncodeError):  # not a URL http.client will send
        transport.request("GET", f"{server.url}/m\u00e9.json")
    assert transport.request("GET", f"{server.url}/m.json")[0] == 201
    assert [r[1] for r in server.requests] == ["/m.json", "/m.json"]
