"""Declarative base with a constraint naming convention and UTC timestamp types."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, registry, scoped_session

from app.core.errors import Invalid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no offset, so values are normalised to UTC on the way in and tagged
    UTC on the way out. Naive datetimes are refused: they are a bug, not a default.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant: datetime = value
        if instant.tzinfo is None:
            return instant.replace(tzinfo=UTC)
        return instant.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def state_enum(enum_class: type[enum.Enum], length: int) -> Enum:
    """A portable enum column that stores each member's value ("pending"), so the
    database reads the same as the code and raw SQL stays legible."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def commit_import(session: Session | scoped_session[Any]) -> None:
    """Commit an import, turning a clash with a concurrent import into Invalid."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Invalid("another import changed the same rows at the same time; try again") from None


#: Rows of each index ANALYZE reads on SQLite: enough to tell a selective index from a
#: broad one, and a bounded cost however large the file grows.
ANALYSIS_LIMIT = 1000


def refresh_statistics(session: Session | scoped_session[Any]) -> bool:
    """Give the query planner fresh statistics of the tables and indexes; True if it ran.

    SQLite keeps none until it is told to, and without them it may pick a broad index
    over a selective one: a lookup of a few appointments' messages that are also in
    one state read every message in that state. PostgreSQL's autovacuum keeps its own
    statistics, so there it does nothing. Commits.
    """
    if session.get_bind().dialect.name != "sqlite":
        return False
    session.execute(text(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"))
    session.execute(text("ANALYZE"))
    session.commit()
    return True


#: Statements that make SQLite take its write lock (pysqlite begins a transaction
#: before each of them when none is open).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: Seconds a writer waits its turn before it goes on and leaves it to SQLite's own
#: busy handler (which waits `busy_timeout` more and then fails the statement).
WRITER_TURN_TIMEOUT = 10.0


class WriterLock(Protocol):
    """A lock shared by processes (`multiprocessing.Lock`)."""

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool: ...

    def release(self) -> None: ...


def queue_writers(engine: Engine, lock: WriterLock) -> None:
    """Make the processes that share `lock` take turns to write to one SQLite file.

    SQLite lets one connection write at a time; another that wants to finds the file
    locked and sleeps in its busy handler, for 1, 2, 5 ... and then 100 ms at a time,
    however soon the lock is let go. Between processes that write a great deal (the
    demo's), that sleeping costs more than the writing. With the lock, a connection
    waits for `lock` before its transaction's first write and lets it go once the
    transaction has ended, and the next writer is woken the moment it does. Reads never
    wait. A writer that cannot have its turn within WRITER_TURN_TIMEOUT goes on
    without it, as if there were no lock.
    """

    holding: set[int] = set()  # the DBAPI connections of this process that hold it

    def take_turn(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        key = id(cursor.connection)
        if (
            key not in holding
            and statement.lstrip()[:7].upper().startswith(_WRITES)
            and lock.acquire(timeout=WRITER_TURN_TIMEOUT)
        ):
            holding.add(key)

    def ending(end: Callable[[Any], None]) -> Callable[[Any], None]:
        def end_and_give_way(connection: Any) -> None:
            try:
                end(connection)
            finally:
                # The pool rolls back through its proxy for the DBAPI connection.
                key = id(getattr(connection, "dbapi_connection", connection))
                if key in holding:
                    holding.discard(key)
                    lock.release()

        return end_and_give_way

    event.listen(engine, "before_cursor_execute", take_turn)
    dialect: Any = engine.dialect
    dialect.do_commit = ending(dialect.do_commit)
    dialect.do_rollback = ending(dialect.do_rollback)
    dialect.do_close = ending(dialect.do_close)
