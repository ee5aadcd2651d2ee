"""The servers a chaos run starts, owns and restarts: a PostgreSQL cluster in a
temporary directory, a Redis with no persistence, and the Twilio simulator in a
process of its own, driven through its control routes (`app.simulator.control`).

None of them is the machine's own: the machine's PostgreSQL and Redis are never
restarted.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from processes import ROOT, free_port
from redis import Redis
from redis.exceptions import RedisError

_PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


def _wait(ready: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start within {seconds:g} s")
        time.sleep(0.05)


class PrivatePostgres:
    """A PostgreSQL cluster of the run's own (initdb in a temporary directory, a free
    port), so that the run can crash and restart it. Debian's binaries; as root, the
    cluster runs as the `postgres` user, as .ci/services.sh runs its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="wesaid-chaos-pg-"))
        self._bin = _PG_BINS[-1] if _PG_BINS else None

    @staticmethod
    def available() -> bool:
        return bool(_PG_BINS) and (os.geteuid() != 0 or shutil.which("runuser") is not None)

    def _run(self, tool: str, *args: str) -> None:
        assert self._bin is not None
        command = [str(self._bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        if not (self.dir / "data").exists():
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres")
            self._run(
                "initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-N"
            )
        # No fsync: the machine does not crash, only PostgreSQL does, and what it wrote
        # is in the kernel's cache. A commit still waits for its WAL to be written, as
        # in production: with synchronous_commit off a crash loses commits that clients
        # were told had happened.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        self._run(
            "pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
            "-o", options, "start",
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def crash(self) -> None:
        """Stop at once, as a crash would (no checkpoint: the next start recovers)."""
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.crash()
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A redis-server of the run's own on a free port, with no persistence: a restart
    comes back empty, as a Redis that lost everything does."""

    def __init__(self, database: int) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/{database}"
        self._server: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        self._server = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        probe = Redis.from_url(self.url, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(probe.ping())
            except RedisError:
                return False

        _wait(answers, "redis-server")
        probe.close()

    def kill(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server.wait()

    def stop(self) -> None:
        self.kill()


class Simulator:
    """The Twilio simulator in its own process, and a client for its control routes."""

    def __init__(
        self, account_sid: str, auth_token: str, inbound_url: str, seed: int, log: Path
    ) -> None:
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._log = log.open("wb")
        self._process = subprocess.Popen(
            [
                sys.executable, "-m", "app.simulator.control",
                "--account-sid", account_sid, "--auth-token", auth_token,
                "--inbound-url", inbound_url, "--seed", str(seed),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )  # fmt: skip
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().decode().strip()
        if not self.base_url.startswith("http"):
            raise SystemExit("the Twilio simulator did not start")
        self._address = urlsplit(self.base_url)

    def call(
        self,
        method: str,
        name: str,
        body: dict[str, Any] | None = None,
        timeout: float = 60,
        **params: Any,
    ) -> dict[str, Any]:
        """One control request; its JSON answer."""
        path = f"/_control/{name}" + (f"?{urlencode(params)}" if params else "")
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": self._auth, "Content-Type": "application/json"}
        host, port = self._address.hostname or "127.0.0.1", self._address.port or 80
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request(method, path, body=payload, headers=headers)
            answer = connection.getresponse()
            data = json.loads(answer.read() or b"{}")
        finally:
            connection.close()
        if answer.status != 200:
            raise RuntimeError(f"simulator control {name}: {answer.status} {data}")
        result: dict[str, Any] = data
        return result

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
