"""WeSaid's processes as the Procfile starts them, for the benches: the environment
they read, the web app under gunicorn, `wesaid worker` and `wesaid clock`."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
WESAID = BIN / "wesaid"
#: Where a child's output goes: a file, a pipe, or nowhere.
Output = int | IO[Any] | None


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_env(
    *,
    database: str,
    redis: str | None,
    secret_key: str,
    account_sid: str,
    auth_token: str,
    public_base_url: str,
    api_base: str | None = None,
    log_level: str = "WARNING",
    **settings: str,
) -> dict[str, str]:
    """The environment of a WeSaid process (development rules, so that an http
    loopback address is allowed); `settings` adds or overrides variables."""
    env = {
        **os.environ,
        "WESAID_ENV": "development",
        "DATABASE_URL": database,
        "SECRET_KEY": secret_key,
        "PUBLIC_BASE_URL": public_base_url,
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "WESAID_LOG_LEVEL": log_level,
    }
    if redis:
        env["REDIS_URL"] = redis
    if api_base:
        env["TWILIO_API_BASE"] = api_base
    return env | settings


def start_web(
    env: dict[str, str],
    port: int,
    workers: int,
    *,
    access_log: bool = False,
    output: Output = subprocess.DEVNULL,
    own_session: bool = False,
) -> subprocess.Popen[bytes]:
    """gunicorn as the Procfile's `web` starts it, on 127.0.0.1:`port`; `own_session`
    puts it in a process group of its own, so that it can be killed whole."""
    command = [str(GUNICORN), "--config", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
    if not access_log:
        command += ["--access-logfile", os.devnull]
    return subprocess.Popen(
        [*command, "app:create_app()"],
        cwd=ROOT,
        env=env | {"PORT": str(port), "WEB_CONCURRENCY": str(workers)},
        stdout=output,
        stderr=output,
        start_new_session=own_session,
    )


def wait_until_serving(port: int, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Return once /healthz answers 200; raise SystemExit if the server exits or the
    time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer on port {port} within {seconds:g} s")


def start_process(
    name: str,
    env: dict[str, str],
    *args: str,
    stdout: Output = subprocess.DEVNULL,
    stderr: Output = None,
) -> subprocess.Popen[bytes]:
    """`wesaid <name>` ("worker" or "clock"), as the Procfile starts it."""
    return subprocess.Popen(
        [str(WESAID), name, *args], cwd=ROOT, env=env, stdout=stdout, stderr=stderr
    )
