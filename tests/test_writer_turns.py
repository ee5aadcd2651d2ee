"""Writers to one SQLite file take turns through a shared lock (`app.db.queue_writers`):
a transaction holds the lock from its first write until it ends, however it ends, and
reads never take it."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.db import queue_writers


def _engine(path: Path, lock: threading.Lock) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    queue_writers(engine, lock)
    return engine


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "turns.db"
    with create_engine(f"sqlite:///{path}").begin() as conn:
        conn.execute(text("PRAGMA journal_mode=WAL"))
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    return path


def test_a_transaction_holds_the_turn_from_its_first_write_until_it_ends(
    database: Path,
) -> None:
    lock = threading.Lock()
    engine = _engine(database, lock)
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM notes"))
        assert not lock.locked()  # a read takes no turn
        conn.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert lock.locked()
        conn.execute(text("UPDATE notes SET body = 'b'"))  # the same turn, not a second
        conn.commit()
        assert not lock.locked()
        conn.execute(text("  delete from notes"))
        assert lock.locked()
        conn.rollback()
        assert not lock.locked()
        assert conn.execute(text("SELECT body FROM notes")).scalar_one() == "b"


def test_a_session_given_back_unfinished_gives_its_turn_back(database: Path) -> None:
    lock = threading.Lock()
    engine = _engine(database, lock)
    session = Session(engine)
    session.execute(text("INSERT INTO notes (body) VALUES ('a')"))
    assert lock.locked()
    session.close()  # the pool rolls the connection back
    assert not lock.locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar_one() == 0


def test_a_writer_waits_for_the_turn_and_goes_once_it_is_given_back(database: Path) -> None:
    lock = threading.Lock()
    first, second = _engine(database, lock), _engine(database, lock)
    order: list[str] = []
    with first.connect() as holder:
        holder.execute(text("INSERT INTO notes (body) VALUES ('first')"))

        def write() -> None:
            with second.connect() as conn:
                conn.execute(text("INSERT INTO notes (body) VALUES ('second')"))
                order.append("second wrote")
                conn.commit()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=0.2)
        assert writer.is_alive()  # waiting for the turn, not failing on a locked file
        order.append("first commits")
        holder.commit()
        writer.join(timeout=5)
        assert not writer.is_alive()
    assert order == ["first commits", "second wrote"]
    assert not lock.locked()
    with first.connect() as conn:
        bodies = conn.execute(text("SELECT body FROM notes ORDER BY id")).scalars().all()
    assert bodies == ["first", "second"]


def test_a_writer_that_waits_too_long_goes_on_without_the_turn(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (`app.db` the module: the package's `db` is the SQLAlchemy extension)
    monkeypatch.setattr(sys.modules["app.db"], "WRITER_TURN_TIMEOUT", 0.05)
    lock = threading.Lock()
    engine = _engine(database, lock)
    lock.acquire()  # held by someone who never gives it back
    try:
        started = time.monotonic()
        with engine.connect() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES ('a')"))
            conn.commit()  # and does not give back a turn it never had
        assert time.monotonic() - started < 5
        assert lock.locked()
    finally:
        lock.release()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar_one() == 1
