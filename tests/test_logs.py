"""No personal data in logs: SQL errors without bound values, request logs without
survey link tokens (werkzeug's development server and gunicorn's access log)."""

from __future__ import annotations

import logging
import os
import runpy
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from gunicorn.config import Config
from gunicorn.glogging import Logger
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import make_server

from app.access_log import MARKER, LinkTokenFilter, redact_links
from app.extensions import db

ROOT = Path(__file__).resolve().parents[1]
PHONE = "+447400123456"
TOKEN = "MTIz.Zm9v-bar_Baz.3xQ9"  # the shape of a signed link token


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def gunicorn_access() -> Iterator[Collect]:
    """gunicorn's access logger as gunicorn.conf.py leaves it, and what it writes."""
    logger = logging.getLogger("gunicorn.access")
    filters, handlers = list(logger.filters), list(logger.handlers)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["accesslog"] == "-"
    collect = Collect()
    logger.addHandler(collect)
    yield collect
    logger.filters[:], logger.handlers[:] = filters, handlers


# -- SQL -------------------------------------------------------------------------------------


@pytest.mark.storage
def test_a_failed_statement_names_no_bound_value(app: Flask) -> None:
    assert db.engine.hide_parameters is True
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    with pytest.raises(SQLAlchemyError) as caught:
        db.session.execute(
            text("SELECT body FROM no_such_table WHERE phone = :phone"), {"phone": PHONE}
        )
    db.session.rollback()
    assert PHONE not in str(caught.value)
    assert "parameters hidden" in str(caught.value)


# -- the request logs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET /s/{TOKEN} HTTP/1.1" 200', f'"GET /s/{MARKER} HTTP/1.1" 200'),
        (f"POST /s/{TOKEN}?lang=pl", f"POST /s/{MARKER}?lang=pl"),
        (f"https://wesaid.example.org/s/{TOKEN}", f"https://wesaid.example.org/s/{MARKER}"),
        (f"/s/{TOKEN}/", f"/s/{MARKER}/"),
        ("GET /webhooks/twilio/sms HTTP/1.1", "GET /webhooks/twilio/sms HTTP/1.1"),
        (
            '"GET /api/v1/clinics/north/patients/RX1%20234?x=1 HTTP/1.1" 200',
            f'"GET /api/v1/clinics/north/patients/{MARKER}?x=1 HTTP/1.1" 200',
        ),
        (
            "GET /api/v1/clinics/north/appointments/A-77 HTTP/1.1",
            f"GET /api/v1/clinics/north/appointments/{MARKER} HTTP/1.1",
        ),
        (
            "GET /api/v1/clinics/north/patients?limit=5",
            "GET /api/v1/clinics/north/patients?limit=5",
        ),
    ],
)
def test_link_tokens_are_redacted(line: str, expected: str) -> None:
    assert redact_links(line) == expected


def test_the_filter_rewrites_a_record_and_keeps_it() -> None:
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s "%s" %s',
        ("127.0.0.1", f"GET /s/{TOKEN}", 200),
        None,
    )
    assert LinkTokenFilter().filter(record) is True
    assert record.getMessage() == f'127.0.0.1 "GET /s/{MARKER}" 200'


def test_the_development_servers_log_holds_no_token(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            url = f"http://127.0.0.1:{server.server_port}/s/{TOKEN}?from=sms"
            with pytest.raises(urllib.error.HTTPError):  # an unknown link: 404
                urllib.request.urlopen(url, timeout=10)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(f"/s/{MARKER}?from=sms" in line for line in logged), logged
    assert not any(TOKEN in line for line in logged)


def test_gunicorns_access_log_holds_no_token(gunicorn_access: Collect) -> None:
    """gunicorn's own Logger.access, with the atoms it builds from a request."""
    config = Config()
    config.set("accesslog", "-")
    config.set(
        "access_log_format",
        '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %({raw_uri}e)s',
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/s/{TOKEN}?lang=pl",
        "PATH_INFO": f"/s/{TOKEN}",
        "QUERY_STRING": "lang=pl",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_REFERER": f"https://wesaid.example.org/s/{TOKEN}",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    Logger(config).access(response, request, environ, timedelta(milliseconds=12))
    assert len(gunicorn_access.lines) == 1
    line = gunicorn_access.lines[0]
    assert TOKEN not in line
    assert f'"POST /s/{MARKER}?lang=pl HTTP/1.1" 200' in line
    assert f"https://wesaid.example.org/s/{MARKER}" in line


# -- a real gunicorn -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _gunicorn(tmp_path: Path, environ: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """gunicorn as the Procfile starts it, on a free port, with no WeSaid setting but
    `environ`."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WESAID_", "TWILIO_", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"))
    }
    # XDG_RUNTIME_DIR: where gunicorn 27 puts its control socket, one per run.
    env |= {"PORT": str(port), "WEB_CONCURRENCY": "1", "XDG_RUNTIME_DIR": str(tmp_path)}
    env |= environ
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "app:create_app()",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return server, port


@pytest.mark.slow
def test_gunicorn_refuses_to_start_on_an_unconfigured_machine(tmp_path: Path) -> None:
    server, _port = _gunicorn(tmp_path, {})
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode != 0
    assert "SECRET_KEY" in output
    assert "TWILIO_AUTH_TOKEN" in output


class _Output:
    """A server's output, read line by line as it comes by a thread of its own, so
    that a test can wait for a line without polling."""

    def __init__(self, server: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._came = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, args=(server,), daemon=True)
        self._reader.start()

    def _read(self, server: subprocess.Popen[str]) -> None:
        assert server.stdout is not None
        for line in server.stdout:
            with self._came:
                self.lines.append(line)
                self._came.notify_all()
        with self._came:
            self._ended = True
            self._came.notify_all()

    def wait_for(self, text: str, timeout: float) -> None:
        """Block until a line holding `text` has come; fail if the output ends or
        `timeout` passes first."""
        with self._came:
            found = self._came.wait_for(
                lambda: self._ended or any(text in line for line in self.lines), timeout
            )
            if not found or not any(text in line for line in self.lines):
                raise AssertionError(f"no {text!r} in the output: {''.join(self.lines)}")

    def text(self) -> str:
        """All of it, once the server has exited."""
        self._reader.join(timeout=30)
        with self._came:
            return "".join(self.lines)


@pytest.mark.slow
def test_gunicorn_logs_requests_without_link_tokens(tmp_path: Path) -> None:
    environ = {"WESAID_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}"}
    server, port = _gunicorn(tmp_path, environ)
    output = _Output(server)
    try:
        # Once gunicorn listens, a connection waits in its backlog until the worker,
        # still loading the app, takes it.
        output.wait_for("Listening at", timeout=60)
        url = f"http://127.0.0.1:{port}/s/{TOKEN}"
        with pytest.raises(urllib.error.HTTPError):  # no such survey: the request is logged
            urllib.request.urlopen(url, timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = output.text()
    assert f"GET /s/{MARKER} HTTP/1.1" in logged, logged
    assert TOKEN not in logged
