"""WeSaid: a patient messaging gateway for clinics."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import load_config
from app.extensions import db, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. `config` overrides what the environment gives (tests use it)."""
    app = Flask(__name__)
    app.config.from_mapping(load_config())
    if config:
        app.config.update(config)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A server may drop idle connections; a file cannot.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    _configure_logging(app)
    _import_models()
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)

    from app.runtime import build_runtime

    app.extensions["wesaid"] = build_runtime(app)
    _register_blueprints(app)
    from app import cli

    cli.init_app(app)
    return app


def _import_models() -> None:
    # Mapped classes must be known to the metadata before migrations or create_all.
    from app.appointments import models as _appointments  # noqa: F401
    from app.attendance import models as _attendance  # noqa: F401
    from app.clinics import models as _clinics  # noqa: F401
    from app.messaging import models as _messaging  # noqa: F401
    from app.patients import models as _patients  # noqa: F401
    from app.results import models as _results  # noqa: F401
    from app.surveys import models as _surveys  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from app.api.routes import bp as api_bp
    from app.attendance.api import bp as attendance_api_bp
    from app.messaging.voice import bp as voice_bp
    from app.messaging.webhooks import bp as webhooks_bp
    from app.results.api import bp as results_api_bp
    from app.surveys.routes import bp as survey_web_bp
    from app.surveys.routes import init_web

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(voice_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(results_api_bp)
    app.register_blueprint(attendance_api_bp)
    app.register_blueprint(survey_web_bp)
    init_web(app)


def _tune_sqlite(app: Flask) -> None:
    from sqlalchemy import event

    # FULL survives power loss; NORMAL (safe in WAL mode against corruption, may lose
    # the last commits on power loss) is for throwaway databases such as the demo's.
    synchronous = "NORMAL" if app.config.get("SQLITE_SYNCHRONOUS") == "NORMAL" else "FULL"
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    logging.getLogger("app").setLevel(level)
    # The Twilio SDK logs request bodies (numbers and texts) at DEBUG/INFO.
    logging.getLogger("twilio").setLevel(logging.WARNING)
