"""How far each running import has got: a board in Redis that the worker writes as it
goes and the run's page reads.

The count is a hint for the page, not a record: it lives a day after its last change,
and the run's own row says how the import ended. A board that cannot be written (Redis
away for a moment) never stops an import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

#: How long a count is kept after its last change.
KEEP = timedelta(days=1)


def _key(run_id: int) -> str:
    return f"wesaid:import-progress:{run_id}"


@dataclass(frozen=True)
class RowCount:
    """Rows done of the rows in the file."""

    done: int
    total: int

    @property
    def percent(self) -> int:
        """Whole per cent done, rounded down (100 only when every row is done)."""
        return 100 * self.done // self.total if self.total > 0 else 0


class ProgressBoard:
    """The rows done by each running import, kept in Redis (`connection`)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def tell(self, run_id: int, done: int, total: int) -> None:
        """Note that run `run_id` has done `done` of its `total` rows."""
        try:
            self.connection.set(_key(run_id), f"{done} {total}", ex=KEEP)
        except RedisError:
            log.warning("import %s: progress not recorded", run_id)

    def read(self, run_id: int) -> RowCount | None:
        """The last count noted for run `run_id`, or None if there is none."""
        try:
            value = self.connection.get(_key(run_id))
        except RedisError:
            return None
        if value is None:
            return None
        done, _, total = (value.decode() if isinstance(value, bytes) else str(value)).partition(" ")
        try:
            return RowCount(int(done), int(total))
        except ValueError:
            return None
