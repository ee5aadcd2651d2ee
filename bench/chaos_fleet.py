"""WeSaid's own processes in a chaos run, as the Procfile starts them: the web app
under gunicorn, `wesaid clock` and `wesaid worker`s, with a supervisor that restarts
any worker that exits (in production that is systemd, a container orchestrator or the
Procfile platform's process manager).

What each worker is doing is read from its output: RQ logs every job it takes
("Worker …: send: workers.jobs.send_messages(4, 5, 6) (job id)") and how it ended
("Job OK", or an exception), so the run knows which workers are busy and which one is
sending a given message, without asking Redis (which the run keeps restarting).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from processes import start_process, start_web, wait_until_serving

_TAKEN = re.compile(r"Worker \S+: [\w-]+: workers\.jobs\.(\w+)\(([^)]*)\) \(")
_ENDED = ("Job OK (", "exception raised while executing")
_LISTENING = "started with PID"


@dataclass
class WorkerSlot:
    """One of the workers the supervisor keeps running."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    #: Listening for jobs (warm) since it last started.
    ready: bool = False
    #: The job it is running: its function and ids.
    job: tuple[str, tuple[int, ...]] | None = None
    exits: list[int] = field(default_factory=list)


class Fleet:
    """The web app, the clock and the workers of one run."""

    def __init__(self, env: dict[str, str], web_port: int, web_workers: int, logs: Path) -> None:
        self.env = env
        self.web_port = web_port
        self.web_workers = web_workers
        self.logs = logs
        self.web: subprocess.Popen[bytes] | None = None
        self.clock: subprocess.Popen[bytes] | None = None
        self.slots: list[WorkerSlot] = []
        #: The clock's log lines, parsed (None for a line that is not JSON).
        self.clock_lines: list[dict[str, Any] | None] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._files: list[IO[bytes]] = []
        self._threads: list[threading.Thread] = []

    def _log(self, name: str) -> IO[bytes]:
        handle = (self.logs / f"{name}.log").open("ab")
        self._files.append(handle)
        return handle

    def _thread(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- the web app ---------------------------------------------------------------

    def start_web(self, wait: bool = True) -> None:
        """Start the app; with `wait`, return once it answers (else see `wait_web`)."""
        self.web = start_web(
            self.env, self.web_port, self.web_workers, output=self._log("web"), own_session=True
        )
        if wait:
            self.wait_web()

    def wait_web(self) -> None:
        assert self.web is not None
        wait_until_serving(self.web_port, self.web, seconds=120)

    def restart_web(self) -> float:
        """Kill the app (master and workers at once, as a crash would) and start it
        again; the seconds it did not answer."""
        assert self.web is not None
        down = time.monotonic()
        os.killpg(self.web.pid, signal.SIGKILL)
        self.web.wait()
        self.start_web()
        return time.monotonic() - down

    # -- the clock -----------------------------------------------------------------

    def start_clock(self) -> None:
        env = self.env | {"WESAID_LOG_FORMAT": "json", "WESAID_LOG_LEVEL": "INFO"}
        self.clock = start_process(
            "clock", env, stdout=self._log("clock-stdout"), stderr=subprocess.PIPE
        )
        self._thread(self._read_clock, self.clock)

    def _read_clock(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        copy = self._log("clock")
        for raw in process.stderr:
            copy.write(raw)
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            with self._changed:
                self.clock_lines.append(line if isinstance(line, dict) else None)
                self._changed.notify_all()

    def wait_first_sweep(self, seconds: float = 120) -> None:
        """Until the clock has logged its first sweep (the due messages are claimed)."""

        def swept() -> bool:
            return any(
                line and str(line.get("message", "")).startswith("sweep: ")
                for line in self.clock_lines
            )

        with self._changed:
            if not self._changed.wait_for(swept, seconds):
                raise SystemExit(f"the clock did not sweep within {seconds:g} s")

    # -- the workers and their supervisor --------------------------------------------

    def start_workers(self, count: int) -> None:
        for index in range(count):
            slot = WorkerSlot(index)
            self.slots.append(slot)
            self._spawn(slot)
            self._thread(self._supervise, slot)

    def _spawn(self, slot: WorkerSlot) -> None:
        process = start_process(
            "worker",
            # Each send's outcome is logged at INFO ("message 12: accepted (…)").
            self.env | {"PYTHONUNBUFFERED": "1", "WESAID_LOG_LEVEL": "INFO"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        with self._changed:
            slot.process, slot.ready, slot.job = process, False, None
        self._thread(self._read_worker, slot, process)

    def _supervise(self, slot: WorkerSlot) -> None:
        """Restart the slot's worker whenever it exits, until the run stops."""
        while True:
            process = slot.process
            assert process is not None
            code = process.wait()
            with self._changed:
                if self._stopping:
                    return
                slot.exits.append(code)
            self._spawn(slot)

    def _read_worker(self, slot: WorkerSlot, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        copy = self._log(f"worker-{slot.index}")
        for raw in process.stdout:
            copy.write(raw)
            text = raw.decode(errors="replace")
            taken = _TAKEN.search(text)
            with self._changed:
                if slot.process is not process:
                    continue
                if taken is not None:
                    ids = tuple(int(i) for i in re.findall(r"\d+", taken.group(2)))
                    slot.job = (taken.group(1), ids)
                elif any(marker in text for marker in _ENDED):
                    slot.job = None
                elif _LISTENING in text:
                    slot.ready = True
                else:
                    continue
                self._changed.notify_all()
        with self._changed:
            if slot.process is process:
                slot.ready, slot.job = False, None
            self._changed.notify_all()

    def wait_ready(self, seconds: float = 120) -> None:
        """Until every worker is warm and listening."""
        with self._changed:
            if not self._changed.wait_for(lambda: all(s.ready for s in self.slots), seconds):
                raise SystemExit(f"the workers were not ready within {seconds:g} s")

    def busy(self, seconds: float) -> list[WorkerSlot]:
        """The workers running a job now, waiting up to `seconds` for there to be one."""
        with self._changed:
            self._changed.wait_for(lambda: any(s.ready and s.job for s in self.slots), seconds)
            return [s for s in self.slots if s.ready and s.job is not None]

    def sending(self, message_id: int, seconds: float) -> WorkerSlot | None:
        """The worker whose job holds `message_id`, waiting up to `seconds` to see it."""

        def holder() -> WorkerSlot | None:
            return next((s for s in self.slots if s.job and message_id in s.job[1]), None)

        with self._changed:
            self._changed.wait_for(lambda: holder() is not None, seconds)
            return holder()

    def jobs_in_hand(self) -> set[int]:
        """The ids every worker's current job holds."""
        with self._changed:
            return {i for s in self.slots if s.job for i in s.job[1]}

    def kill(self, slot: WorkerSlot) -> int:
        """SIGKILL the slot's worker and wait for it to be gone (the supervisor then
        starts another); its pid."""
        process = slot.process
        assert process is not None
        with self._changed:
            slot.ready, slot.job = False, None
        process.kill()
        process.wait()
        return process.pid

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
        running = [s.process for s in self.slots if s.process is not None]
        running += [p for p in (self.clock,) if p is not None]
        for process in running:
            process.terminate()
        if self.web is not None and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGTERM)
            running.append(self.web)
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        for handle in self._files:
            handle.close()
