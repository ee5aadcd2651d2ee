"""Query plans of what a piece of the app runs: record its SQL statements, then replay
each distinct one under EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back.

    with Recorder(db.engine) as recorded:
        sweep(clock, queue)
    for plan in explain(recorded.statements):
        print(plan)

`SET` statements are replayed as they were (a `SET LOCAL work_mem` changes the plans
after it), INSERTs are left out (what they wrote was committed: a replay would collide
with it), and nothing a replay writes is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_EXPLAINED = ("SELECT", "UPDATE", "DELETE", "WITH")
_EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")
_SPACE = re.compile(r"\s+")


@dataclass
class Recorded:
    """The statements sent, in order, with the parameters of their first run."""

    statements: list[tuple[str, Any]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add(self, statement: str, parameters: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb == "SET":
            self.statements.append((statement, parameters))
        elif verb in _EXPLAINED and statement not in self._seen:
            self._seen.add(statement)
            self.statements.append((statement, parameters))


class Recorder:
    """Records the statements `engine` sends while the block runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.recorded = Recorded()

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.recorded.add(statement, parameters)

    def __enter__(self) -> Recorded:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.recorded

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@dataclass(frozen=True)
class Plan:
    statement: str
    milliseconds: float | None
    lines: list[str]

    def summary(self, width: int = 160) -> str:
        """The statement on one line, cut to `width` characters."""
        flat = _SPACE.sub(" ", self.statement).strip()
        return flat if len(flat) <= width else flat[: width - 1] + "…"


def explain(engine: Engine, statements: list[tuple[str, Any]]) -> list[Plan]:
    """EXPLAIN (ANALYZE, BUFFERS) every recorded statement but the SETs, in order and in
    one transaction, rolled back at the end."""
    plans: list[Plan] = []
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            for statement, parameters in statements:
                if statement.lstrip().upper().startswith("SET"):
                    conn.exec_driver_sql(statement, parameters)
                    continue
                rows = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                ).all()
                lines = [str(row[0]) for row in rows]
                found = next(filter(None, map(_EXECUTION.search, lines)), None)
                plans.append(Plan(statement, float(found.group(1)) if found else None, lines))
        finally:
            transaction.rollback()
    return plans


def print_plans(engine: Engine, of: str, statements: list[tuple[str, Any]]) -> None:
    """`explain` the statements, one JSON line each: name "plan", of (what ran them),
    ms, statement (its first characters) and plan (its lines)."""
    for plan in explain(engine, statements):
        found = {
            "name": "plan",
            "of": of,
            "ms": plan.milliseconds,
            "statement": plan.summary(),
            "plan": plan.lines,
        }
        print(json.dumps(found), flush=True)
