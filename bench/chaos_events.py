"""The faults of a chaos run, at moments fixed by its seed, and what each did.

A kill SIGKILLs a worker that is running a job (chosen by the seed among the busy
ones). A held kill asks the provider to hold the next create unanswered, kills the
worker that made it once the provider holds it, then lets the provider take it: the
provider has the message, the database never heard, and the row stays in `sending`
for the reconciler. A Redis restart starts it empty (no persistence), and the run
measures how long after Redis answers again the first message whose job Redis lost
starts sending. The app (gunicorn, master and workers) and PostgreSQL are each
killed and started again.
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chaos_fleet import Fleet
from chaos_plan import ChaosPlan
from chaos_services import OwnRedis, PrivatePostgres, Simulator
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

#: How long a measurement of sending resuming after a Redis restart may wait.
RESUME_WAIT = 60.0
#: How long a kill may wait for a busy worker (or a create to hold).
BUSY_WAIT = 30.0
#: No worker is killed this long before a Redis restart, nor (as planned) this long
#: after one; in the run nothing happens after one until sending has resumed.
KILL_FREE_BEFORE = 8.0
KILL_FREE_AFTER = 15.0
#: How often a kill that found nothing to kill is tried, and how long after.
KILL_TRIES = 4
RETRY_AFTER = 10.0


@dataclass(frozen=True)
class Timeline:
    """(seconds from the start, fault) in time order, and the windows around each Redis
    restart in which no worker is killed."""

    events: tuple[tuple[float, str], ...]
    quiet: tuple[tuple[float, float], ...] = ()

    @classmethod
    def of(cls, plan: ChaosPlan) -> Timeline:
        """Redis restarts evenly over the span, the app and PostgreSQL restarts where the
        plan says (between two Redis restarts), and the kills evenly over what is left
        once the moments around each Redis restart are set aside: a worker warming up
        after a kill would be measured as sending slow to resume after Redis came back."""
        rng = random.Random(plan.seed)
        span = plan.chaos_seconds
        restarts = [
            (j + 0.5) * span / max(plan.redis_restarts, 1) for j in range(plan.redis_restarts)
        ]
        quiet = [(at - KILL_FREE_BEFORE, at + KILL_FREE_AFTER) for at in restarts]
        free = _free_stretches(span, quiet)
        room = sum(end - start for start, end in free)
        # The held kills early on, while there is surely sending to hold.
        held = {j * plan.kills // (2 * plan.held_kills) for j in range(plan.held_kills)}
        events: list[tuple[float, str]] = [(at, "restart_redis") for at in restarts]
        step = room / max(plan.kills, 1)
        for i in range(plan.kills):
            offset = (i + 0.5 + rng.uniform(-0.3, 0.3)) * step
            events.append((_place(free, offset), "held_kill" if i in held else "kill"))
        events += [(span * plan.app_restart_at, "restart_app")] * plan.app_restarts
        events += [(span * plan.postgres_restart_at, "restart_postgres")] * plan.postgres_restarts
        return cls(tuple(sorted(events)), tuple(quiet))


def _free_stretches(span: float, quiet: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of [0, span] outside every quiet window."""
    stretches, start = [], 0.0
    for low, high in sorted(quiet):
        if low > start:
            stretches.append((start, min(low, span)))
        start = max(start, high)
    if start < span:
        stretches.append((start, span))
    return stretches or [(0.0, span)]


def _place(stretches: list[tuple[float, float]], offset: float) -> float:
    """The moment `offset` seconds into the stretches laid end to end."""
    for start, end in stretches:
        if offset <= end - start:
            return start + offset
        offset -= end - start
    return stretches[-1][1]


def _message_id(callback: str | None) -> int | None:
    values = parse_qs(urlsplit(callback or "").query).get("m")
    return int(values[0]) if values and values[0].isdigit() else None


class Chaos:
    """Runs a timeline against the processes and servers of one run."""

    def __init__(
        self,
        fleet: Fleet,
        redis: OwnRedis,
        pg: PrivatePostgres | None,
        sim: Simulator,
        engine: Engine,
        seed: int,
    ) -> None:
        self.fleet = fleet
        self.redis = redis
        self.pg = pg
        self.sim = sim
        self.engine = engine
        self._rng = random.Random(seed)
        self.kills = 0
        #: Rows whose worker was killed while the provider held their create.
        self.held: list[int] = []
        self.redis_restarts = 0
        self.app_restarts = 0
        self.postgres_restarts = 0
        #: Seconds from Redis answering again to the first lost job's message sending.
        self.resumed: list[float | None] = []
        self.notes: list[dict[str, Any]] = []
        self._born = time.monotonic()
        self._wait = BUSY_WAIT

    def run(self, timeline: Timeline) -> None:
        """Each fault at its moment, or later. A Redis restart waits for both workers to
        be up, and nothing else happens until sending has resumed after it, so that
        Redis alone is measured; a fault that comes late delays the ones after it as
        much, so that they keep their spacing rather than bunch. A kill that finds no
        busy worker (or no create to hold) before the next Redis restart is due is
        tried again later, up to KILL_TRIES times."""
        start = time.monotonic()
        late = 0.0
        restarts = [at for at, fault in timeline.events if fault == "restart_redis"]
        due = [(at, order, fault, 1) for order, (at, fault) in enumerate(timeline.events)]
        heapq.heapify(due)
        order = len(due)
        while due:
            at, _, fault, tries = heapq.heappop(due)
            time.sleep(max(0.0, start + at + late - time.monotonic()))
            now = time.monotonic() - start
            late = max(late, now - at)
            ahead = [r + late - KILL_FREE_BEFORE - now for r in restarts if r + late > now]
            self._wait = max(1.0, min([BUSY_WAIT, *ahead]))
            if getattr(self, fault)() is False and tries < KILL_TRIES:
                heapq.heappush(due, (now - late + RETRY_AFTER, order, fault, tries + 1))
                order += 1

    def note(self, event: str, **details: Any) -> None:
        """Add to the run's timeline (seconds since the servers were up)."""
        seconds = round(time.monotonic() - self._born, 2)
        at = datetime.now(UTC).time().isoformat(timespec="milliseconds")
        self.notes.append({"t": seconds, "at": at, "event": event, **details})

    def kill(self) -> bool:
        busy = self.fleet.busy(seconds=self._wait)
        if not busy:
            self.note("kill", skipped="no worker was busy")
            return False
        slot = self._rng.choice(sorted(busy, key=lambda s: s.index))
        job = slot.job
        self.note("kill", worker=slot.index, pid=self.fleet.kill(slot), job=job)
        self.kills += 1
        return True

    def held_kill(self) -> bool:
        self.sim.call("POST", "hold", {"count": 1})
        held = self.sim.call("GET", "held", wait=self._wait, timeout=self._wait + 30)["held"]
        if not held:
            self.sim.call("POST", "hold", {"count": 0})
            self.note("held_kill", skipped="no create came")
            return False
        message_id = _message_id(held[0]["status_callback"])
        slot = self.fleet.sending(message_id, seconds=5) if message_id is not None else None
        if slot is None or message_id is None:
            self.sim.call("POST", "release")
            self.note("held_kill", skipped="no worker was seen sending it", message=message_id)
            return False
        pid = self.fleet.kill(slot)
        self.sim.call("POST", "release")
        self.held.append(message_id)
        self.kills += 1
        self.note("held_kill", worker=slot.index, pid=pid, message=message_id)
        return True

    def restart_redis(self) -> None:
        # Both workers up first (a restart after a kill takes seconds): what is measured
        # is how soon sending resumes once Redis is back, not how soon a worker warms.
        self.fleet.wait_ready()
        # Rows claimed whose job is in Redis (not in a worker's hands) lose it now.
        in_hand = self.fleet.jobs_in_hand()
        with self.engine.connect() as conn:
            claimed = [
                int(i)
                for (i,) in conn.execute(
                    text("SELECT id FROM outbound_messages WHERE state = 'claimed'")
                )
                if int(i) not in in_hand
            ]
        self.redis.kill()
        self.redis.start()
        up = datetime.now(UTC)
        self.redis_restarts += 1
        resumed = self._resume(claimed, up)
        self.resumed.append(resumed)
        self.note("redis", lost_jobs_of=len(claimed), resumed_after_s=resumed)

    def _resume(self, claimed: list[int], up: datetime) -> float | None:
        """Seconds from `up` to the first of `claimed` starting to send (None: none
        within RESUME_WAIT, or none to send)."""
        if not claimed:
            return None
        query = text(
            "SELECT min(sending_at) FROM outbound_messages WHERE id IN :ids AND sending_at >= :up"
        ).bindparams(bindparam("ids", expanding=True))
        deadline = time.monotonic() + RESUME_WAIT
        while time.monotonic() < deadline:
            try:
                with self.engine.connect() as conn:
                    first = conn.scalar(query, {"ids": claimed, "up": up})
            except SQLAlchemyError:
                first = None  # PostgreSQL restarting: ask again
            if first is not None:
                return round(float((first - up).total_seconds()), 2)
            time.sleep(0.2)
        return None

    def restart_app(self) -> None:
        self.note("app", down_s=round(self.fleet.restart_web(), 2))
        self.app_restarts += 1

    def restart_postgres(self) -> None:
        if self.pg is None:
            return
        down = time.monotonic()
        self.pg.crash()
        self.pg.start()
        self.postgres_restarts += 1
        self.note("postgres", down_s=round(time.monotonic() - down, 2))
