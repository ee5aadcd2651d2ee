"""Counting the statements code sends to the database, for tests of its round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class Count:
    """How many statements have run so far (an executemany counts once)."""

    def __init__(self) -> None:
        self.statements = 0

    def note(self, *_args: Any) -> None:
        self.statements += 1


@contextmanager
def counting(engine: Engine) -> Iterator[Count]:
    """Count the statements `engine` runs inside the block."""
    count = Count()
    event.listen(engine, "before_cursor_execute", count.note)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", count.note)
