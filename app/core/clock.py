"""Clocks, and wall-clock times: services take a clock as an argument so tests and the
demo can set the time; `to_utc` reads a clinic's local time as one instant."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to; thread-safe for the demo's web thread."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class SharedClock:
    """A clock another process sets: it reads a shared float of POSIX seconds
    (a `multiprocessing.Value("d")`), so a simulation's processes agree on the time."""

    def __init__(self, seconds: Any) -> None:
        self._seconds = seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(float(self._seconds.value), UTC)


def to_utc(local_naive: datetime, zone: ZoneInfo) -> datetime:
    """Resolve a local wall-clock time in ``zone`` to one UTC instant, on every day.

    A local time that does not exist (the spring gap) is moved forward by the length of
    the gap: 01:30 on the UK spring-forward day becomes 02:30 BST, 01:30 UTC. A local
    time that happens twice (the autumn overlap) means its first occurrence: 01:30 on
    the UK fall-back day is 01:30 BST, 00:30 UTC. Refuses an aware ``local_naive``.
    """
    if local_naive.tzinfo is not None:
        raise ValueError("to_utc takes a naive local wall-clock time")
    # fold=0 reads a gap time with the offset in force before the change (so it lands
    # after the gap) and an overlap time as its earlier occurrence.
    return local_naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
