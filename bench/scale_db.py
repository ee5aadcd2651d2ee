"""The scratch PostgreSQL databases of the benchmarks, and the app on them."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app import create_app
from app.core.clock import FixedClock
from app.extensions import db


def _admin_engine(url: str) -> Engine:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def recreate_database(url: str) -> None:
    name = make_url(url).database
    with _admin_engine(url).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))


def drop_database(url: str) -> None:
    with _admin_engine(url).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def database_exists(url: str) -> bool:
    with _admin_engine(url).connect() as conn:
        found = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": make_url(url).database}
        )
    return found is not None


def scale_app(url: str, clock: FixedClock, redis_url: str | None = None) -> Flask:
    """The app on the scale database, with a fixed clock."""
    return create_app(
        {
            "WESAID_ENV": "development",
            "SECRET_KEY": "bench-secret-key-of-sufficient-length-0001",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
            "TWILIO_AUTH_TOKEN": "bench-auth-token",
            "CLOCK": clock,
            "LOG_LEVEL": "WARNING",
        }
    )


def default_url(database: str) -> str:
    """`database` on the server of DATABASE_URL (default: the local PostgreSQL)."""
    base = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def _secondary_indexes(tables: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    """(table, index, constraint) for every non-primary index of `tables`."""
    rows = db.session.execute(
        text(
            """SELECT t.relname, i.relname, c.conname
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid
               LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
               WHERE t.relname = ANY(:tables) AND NOT x.indisprimary"""
        ),
        {"tables": list(tables)},
    )
    return [(table, index, constraint) for table, index, constraint in rows]


def drop_indexes(tables: tuple[str, ...]) -> list[str]:
    """Drop the secondary indexes of `tables` (for a bulk load); returns the statements
    that rebuild them."""
    rebuild: list[str] = []
    for table, index, constraint in _secondary_indexes(tables):
        if constraint:
            definition = db.session.scalar(
                text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
                {"n": constraint},
            )
            db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"'))
            rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
        else:
            definition = db.session.scalar(
                text("SELECT pg_get_indexdef(oid) FROM pg_class WHERE relname = :n"), {"n": index}
            )
            db.session.execute(text(f'DROP INDEX "{index}"'))
            rebuild.append(str(definition))
    return rebuild


def analyze(*tables: str) -> None:
    """VACUUM ANALYZE `tables` (after a bulk load), outside any transaction."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM ANALYZE {table}"))
