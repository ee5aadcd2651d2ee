"""Migrations: one head, up and down on a fresh PostgreSQL, on SQLite, and no drift
between the migrated schema and the models."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from app import MIGRATIONS_DIR
from app.core.clock import FixedClock
from app.extensions import db
from tests.conftest import PG_URL, make_test_app

MIGRATIONS_DB = f"{make_url(PG_URL).database}_migrations"


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head() -> None:
    heads = _script().get_heads()
    assert len(heads) == 1, f"several heads {heads}: merge them with `flask db merge`"


def test_there_is_exactly_one_base() -> None:
    assert len(_script().get_bases()) == 1


def _admin(url: URL) -> Any:
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _drop_postgres(url: URL) -> None:
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    url = make_url(PG_URL).set(database=MIGRATIONS_DB)
    _drop_postgres(url)
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{MIGRATIONS_DB}"'))
    admin.dispose()
    yield url.render_as_string(hide_password=False)
    _drop_postgres(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    # migrations/env.py runs logging.config.fileConfig, which disables every logger that
    # already exists and replaces the root handlers; later tests must not inherit that.
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    disabled = {logger.name: logger.disabled for logger in loggers}
    root_handlers, root_level = logging.root.handlers[:], logging.root.level
    yield
    for logger in loggers:
        logger.disabled = disabled[logger.name]
    logging.root.handlers[:] = root_handlers
    logging.root.setLevel(root_level)


@pytest.fixture
def make_app(clock: FixedClock, redis_conn: Any) -> Iterator[Any]:
    made: list[Flask] = []

    def make(url: str) -> Flask:
        made.append(make_test_app(url, clock, redis_conn))
        return made[-1]

    yield make
    for flask_app in made:
        with flask_app.app_context():
            db.session.remove()
            db.engine.dispose()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _model_tables() -> set[str]:
    return set(db.metadata.tables)


def _drift() -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, db.metadata))


def test_postgres_upgrade_downgrade_upgrade(postgres_url: str, make_app: Any) -> None:
    head = _script().get_current_head()
    with make_app(postgres_url).app_context():
        assert _tables() == set()
        upgrade()
        assert _tables() == _model_tables() | {"alembic_version"}
        assert _current_revision() == head
        downgrade(revision="base")
        assert _tables() == {"alembic_version"}
        assert _current_revision() is None
        upgrade()
        assert _tables() == _model_tables() | {"alembic_version"}
        assert _current_revision() == head


def test_sqlite_upgrade_downgrade_upgrade(sqlite_url: str, make_app: Any) -> None:
    head = _script().get_current_head()
    with make_app(sqlite_url).app_context():
        upgrade()
        assert _tables() == _model_tables() | {"alembic_version"}
        downgrade(revision="base")
        assert _tables() == {"alembic_version"}
        upgrade()
        assert _current_revision() == head


@pytest.mark.parametrize("url_fixture", ["postgres_url", "sqlite_url"])
def test_migrated_schema_matches_the_models(
    url_fixture: str, make_app: Any, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(url_fixture)
    with make_app(url).app_context():
        upgrade()
        assert _drift() == []
