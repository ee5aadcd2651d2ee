"""Clocks: services take one as an argument so tests and the demo can set the time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


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
