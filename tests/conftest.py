"""Fixtures: real PostgreSQL and Redis; storage tests also run on SQLite.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server, database
`wesaid_test`, created and emptied here). Redis from TEST_REDIS_URL (default: local
server, db 15, flushed around every test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from werkzeug.routing import Rule

from app import create_app
from app.clinics.passwords import use_password_hasher
from app.core.clock import FixedClock
from app.extensions import db
from app.queueing import JobQueue
from tests.web.staff import StaffDesk
from tests.world import world

__all__ = ["world"]  # a fixture, shared by the service tests


def _for_this_worker(pg_url: str, redis_url: str) -> tuple[str, str]:
    """Under pytest-xdist each worker gets its own database (`…_gw1`) and its own Redis
    database number (counting down from the configured one), so workers never meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return pg_url, redis_url
    index = int(worker[2:])
    pg = make_url(pg_url)
    redis = urlsplit(redis_url)
    redis_db = int(redis.path.strip("/") or 0) - index
    if redis_db < 0:
        raise RuntimeError("too many test workers for the Redis databases available")
    return (
        pg.set(database=f"{pg.database}_{worker}").render_as_string(hide_password=False),
        urlunsplit(redis._replace(path=f"/{redis_db}")),
    )


PG_URL, REDIS_URL = _for_this_worker(
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/wesaid_test"),
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_created: set[str] = set()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        storage = metafunc.definition.get_closest_marker("storage") is not None
        metafunc.parametrize(
            "backend", ["postgresql", "sqlite"] if storage else ["postgresql"], scope="session"
        )


def _recreate_postgres(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        # A test database need not survive a power cut: commits skip the wait for disk.
        conn.execute(text(f'ALTER DATABASE "{target.database}" SET synchronous_commit = off'))
    admin.dispose()


def _drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()
    _created.discard(url)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> None:
    """argon2id at its lowest cost: the tests sign hundreds of staff in, and the
    production parameters (64 MiB, 3 passes) are checked in tests/clinics."""
    use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "postgresql":
        _recreate_postgres(PG_URL)
        yield PG_URL
        _drop_postgres(PG_URL)  # the run leaves no database behind
        return
    path: Path = tmp_path_factory.mktemp("sqlite") / "wesaid-test.sqlite3"
    yield f"sqlite:///{path}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    conn: Redis = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


class _CompiledTemplates(BytecodeCache):
    """Every test builds an app of its own, and each app's Jinja environment would parse
    and compile every template it renders again (most of a page test's time). The
    compiled code is kept here for the whole run instead; a bucket is keyed by the
    template and checked against its source, so an edited template compiles anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()

#: werkzeug compiles two URL builders from Python source for each rule of each app: 50
#: of the 60 ms an app takes to build, and every test builds one. A builder depends only
#: on the rule's parts and the names of its defaults (unless a default fills a part of
#: the path, which needs the rule's converter: those are compiled as usual), so one
#: compiled builder serves that rule in every app of the run.
_BUILDERS: dict[tuple[object, ...], Any] = {}
_compile_builder = Rule._compile_builder


def _shared_builder(self: Rule, append_unknown: bool = True) -> Any:
    defaults = self.defaults or {}
    if any(dynamic and part in defaults for dynamic, part in self._trace):
        return _compile_builder(self, append_unknown)
    key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
    if key not in _BUILDERS:
        _BUILDERS[key] = _compile_builder(self, append_unknown)
    return _BUILDERS[key]


Rule._compile_builder = _shared_builder  # type: ignore[method-assign]


#: Every test makes a new app, and a new engine would open a new PostgreSQL connection
#: for each test: a server process of its own, with its caches cold, which cost more
#: than most tests. The apps share one engine per set of options instead (a connection
#: goes back to its pool rolled back, and the pool checks it before use).
_ENGINES: dict[str, Engine] = {}
_make_engine = SQLAlchemy._make_engine


def _shared_engine(
    self: SQLAlchemy, bind_key: str | None, options: dict[str, Any], app: Flask
) -> Engine:
    if not str(options.get("url", "")).startswith("postgresql"):
        return _make_engine(self, bind_key, options, app)
    key = repr(sorted((name, repr(value)) for name, value in options.items()))
    if key not in _ENGINES:
        _ENGINES[key] = _make_engine(self, bind_key, options, app)
    return _ENGINES[key]


SQLAlchemy._make_engine = _shared_engine  # type: ignore[method-assign]


def make_test_app(database_url: str, clock: FixedClock, redis_conn: Any, **extra: Any) -> Flask:
    config: dict[str, Any] = {
        "WESAID_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-of-sufficient-length-000",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": REDIS_URL,
        "PUBLIC_BASE_URL": "https://wesaid.example.org",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "CLOCK": clock,
        "JOB_QUEUE": JobQueue(redis_conn),
    }
    config.update(extra)
    app = create_app(config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


#: Tables that refuse DELETE (append-only): emptied with TRUNCATE instead.
_APPEND_ONLY = frozenset({"audit_events"})


def _empty_tables() -> None:
    if db.engine.dialect.name == "postgresql":
        # A test writes to a few of ~70 tables, and TRUNCATE makes new files for every
        # table and index it names: ask which tables hold rows (one statement), DELETE
        # from those (children first), and restart every sequence.
        tables = db.metadata.sorted_tables
        probe = " UNION ALL ".join(
            f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"  # noqa: S608
            for t in tables
        )
        used = {row[0] for row in db.session.execute(text(probe))}
        for name in sorted(used & _APPEND_ONLY):  # they refer to others: first
            db.session.execute(text(f'TRUNCATE "{name}"'))
        for table in reversed(tables):
            if table.name in used and table.name not in _APPEND_ONLY:
                db.session.execute(table.delete())
        db.session.execute(
            text(
                "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
        )
    else:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url: str, clock: FixedClock, redis_conn: Any) -> Iterator[Flask]:
    flask_app = make_test_app(database_url, clock, redis_conn)
    with flask_app.app_context():
        if database_url not in _created:
            db.drop_all()
            db.create_all()
            _created.add(database_url)
        _empty_tables()
        yield flask_app
        # Tables are emptied before each test, not after: once is enough.
        db.session.remove()
        if db.engine.dialect.name != "postgresql":  # PostgreSQL's engine is shared
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def desk(app: Flask, clock: FixedClock) -> StaffDesk:
    """Makes staff members and signs them in (tests/web/staff.py)."""
    return StaffDesk(app, clock)
