"""A lean HTTP/1.1 form POST for the simulator's webhooks over plain HTTP.

The simulator posts one webhook for every status change and reply, thousands in a run.
`requests` spends most of the simulator's time on each (its hooks, the proxies it
looks up in the environment, the e-mail parser it reads headers with), and none of
that is Twilio's behaviour. This sends the request line exactly as given (Twilio
requests the URL byte for byte as it signed it), asks the server to close the
connection, and reads the status and the body; an https URL is left to `requests`.

Once the request is sent the connection is half-closed: a server that, having
answered, waits a moment for more of a request it may not have read in full (as
werkzeug's does, for 10 ms) sees at once that there is none. The answer is read as
far as its stated length, not until the server closes.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit


class PostFailed(OSError):
    """The server could not be reached, or its answer was not HTTP."""


def is_plain_http(url: str) -> bool:
    return urlsplit(url).scheme == "http"


def post_form(
    url: str, form: Mapping[str, str], headers: Mapping[str, str], timeout: tuple[float, float]
) -> tuple[int, str]:
    """POST `form` (urlencoded) to a plain-HTTP `url` with `headers`: the status code
    and the body as text. `timeout` is (connect, read) in seconds. Raises PostFailed."""
    parts = urlsplit(url)
    target = url[len(f"{parts.scheme}://{parts.netloc}") :] or "/"
    body = urlencode(list(form.items())).encode()
    lines = [
        f"POST {target} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout[0]
        ) as sock:
            sock.settimeout(timeout[1])
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            return _answer(sock)
    except OSError as exc:
        raise PostFailed(str(exc)) from exc


def _answer(sock: socket.socket) -> tuple[int, str]:
    """Read the answer: its head, then a body of the stated length, a chunked one, or
    whatever comes before the server closes the connection."""
    received = bytearray()
    while b"\r\n\r\n" not in received:
        received += _more(sock)
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        raise PostFailed("the answer is not HTTP")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    if found.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunked(sock, body)
    elif found.get("content-length", "").isdigit():
        body = _exactly(sock, body, int(found["content-length"]))
    else:
        body = _to_the_close(sock, body)
    return int(fields[1]), body.decode("utf-8", errors="replace")


def _exactly(sock: socket.socket, start: bytes, length: int) -> bytes:
    body = bytearray(start)
    while len(body) < length:
        body += _more(sock)
    return bytes(body[:length])


def _to_the_close(sock: socket.socket, start: bytes) -> bytes:
    body = bytearray(start)
    while chunk := sock.recv(65536):
        body += chunk
    return bytes(body)


def _unchunked(sock: socket.socket, start: bytes) -> bytes:
    """A chunked body, read as far as its last (empty) chunk."""
    data, body = bytes(start), bytearray()
    while True:
        while b"\r\n" not in data:
            data += _more(sock)
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(body)
        while len(rest) < size + 2:
            rest += _more(sock)
        body += rest[:size]
        data = rest[size + 2 :]


def _more(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise PostFailed("the connection closed before the answer ended")
    return chunk
