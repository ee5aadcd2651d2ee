"""The demo's web server: the app in processes of its own, taking the simulator's webhooks.

While the month runs, the simulator's webhooks (status callbacks, replies, calls asking
for their TwiML, survey forms) are answered by a few processes that each build the same
app on the same SQLite file and take turns at one listening socket, so that they use
both cores while the demo's own process waits for the simulator to finish a round.

They queue no jobs: their queue hands nothing to Redis, as if Redis were down, and the
demo queues the replies they stored after each round, as the clock's sweep queues
replies whose jobs Redis lost (`shards.queue_new_replies`).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from werkzeug.serving import make_server

from app import create_app
from app.core.clock import SharedClock
from app.queueing import JobName, JobQueue, connect

#: Processes that take the webhooks: with the simulator, as many as the cores they share.
WEB_PROCESSES = 2


class LeftForTheSweep(JobQueue):
    """The web processes' queue: queues nothing (the demo queues what they stored), and
    counts what it was given in `handed`, shared with the demo's process."""

    def __init__(self, connection: Any, handed: Synchronized) -> None:  # type: ignore[type-arg]
        super().__init__(connection)
        self._handed = handed

    def enqueue(self, job: JobName, *ids: int, queued_at: datetime | None = None) -> None:
        self._count()

    def wake(self, job: JobName, group: int) -> bool:
        self._count()
        return False

    def _count(self) -> None:
        with self._handed.get_lock():
            self._handed.value += 1


def listening_socket(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:`port` (0: any free port) for the web processes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    # Every process waits on it: the one that loses the race to accept a connection
    # goes back to waiting instead of blocking in accept().
    sock.setblocking(False)
    return sock


def _serve(
    conn: Connection,
    sock: socket.socket,
    now: Synchronized,  # type: ignore[type-arg]
    handed: Synchronized,  # type: ignore[type-arg]
    settings: dict[str, Any],
) -> None:
    # Ctrl-C is the demo's to handle: it stops this process with the others.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        own = {"CLOCK": SharedClock(now), "JOB_QUEUE": LeftForTheSweep(connect(None), handed)}
        app = create_app(settings | own)
        host, port = sock.getsockname()[:2]
        server = make_server(str(host), int(port), app, fd=sock.fileno())
    except Exception as exc:
        conn.send(f"{type(exc).__name__}: {exc}")
        raise
    conn.send(None)
    conn.close()
    server.serve_forever()


class WebProcesses:
    """Processes serving, on `sock`, the app that `settings` make with the simulated
    time `now` (POSIX seconds the demo sets). They are forked: start them before this
    process opens a database connection or starts a thread."""

    def __init__(
        self,
        sock: socket.socket,
        now: Synchronized,  # type: ignore[type-arg]
        settings: dict[str, Any],
        processes: int = WEB_PROCESSES,
    ) -> None:
        context = multiprocessing.get_context("fork")
        #: How many jobs the processes would have queued (each for a reply they stored).
        self.handed = context.Value("q", 0)
        self._processes: list[BaseProcess] = []
        self._ready: list[Connection] = []
        for index in range(processes):
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(child, sock, now, self.handed, settings),
                name=f"demo-web-{index}",
                daemon=True,
            )
            process.start()
            child.close()
            self._processes.append(process)
            self._ready.append(parent)

    def wait_ready(self) -> None:
        """Block until every process serves; raise if one of them could not start."""
        for conn in self._ready:
            try:
                failure = conn.recv()
            except EOFError:
                failure = "it exited while starting"
            conn.close()
            if failure is not None:
                raise RuntimeError(f"a web process of the demo did not start: {failure}")
        self._ready = []

    def check(self) -> None:
        """Raise if a web process has died: webhooks it would have taken would be lost."""
        dead = [p.name for p in self._processes if not p.is_alive()]
        if dead:
            raise RuntimeError(f"the demo's web process {', '.join(dead)} stopped")

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(timeout=5)
        self._processes = []
