"""WeSaid: a patient messaging gateway for clinics."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app import access_log, cli, limits, operations, web, web_assets
from app.api import appointments as api_appointments
from app.api import attendance as api_attendance
from app.api import goals as api_goals
from app.api import imports as api_imports
from app.api import patients as api_patients
from app.api import problems as api_problems
from app.api import reference as api_reference
from app.api import results as api_results
from app.api import subscriptions as api_subscriptions
from app.appointments import models as appointments_models
from app.attendance import models as attendance_models
from app.audit import models as audit_models
from app.casework import models as casework_models
from app.clinics import models as clinics_models
from app.config import load_config
from app.db import Base, queue_writers
from app.events import models as events_models
from app.experiments import models as experiments_models
from app.extensions import db, migrate
from app.goals import models as goals_models
from app.messaging import models as messaging_models
from app.patients import models as patients_models
from app.privacy import models as privacy_models
from app.public import goal_form, survey_form
from app.public import page as public_page
from app.reports import models as reports_models
from app.results import models as results_models
from app.runtime import build_runtime
from app.surveys import models as surveys_models
from app.themes import models as themes_models
from app.uploads import models as uploads_models
from app.web import pages as web_pages
from app.webhooks import twilio as twilio_webhooks
from app.webhooks import voice as voice_webhooks
from app.wiring import wire
from app.yousaid import models as yousaid_models

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. `config` overrides what the environment gives (tests use it)."""
    app = Flask(__name__)
    app.config.from_mapping(load_config(overrides=config))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    _configure_logging(app)
    _import_models()
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)

    app.extensions["wesaid"] = build_runtime(app)
    wire()
    web_assets.init_app(app)
    app.register_error_handler(HTTPException, _http_error)
    _register_blueprints(app)
    limits.init_app(app)
    access_log.init_app(app)
    operations.init_app(app)
    cli.init_app(app)
    return app


def _engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A server may drop idle connections; a file cannot.
        options.setdefault("pool_pre_ping", True)
    # A failed statement's error names no bound value (numbers, message bodies), so
    # neither the logs nor an error report can hold them.
    options["hide_parameters"] = True
    return options


def _import_models() -> None:
    # Mapped classes must be known to the metadata before migrations or create_all; the
    # imports at the top of this module bring in every package's models.
    for module in (
        appointments_models,
        attendance_models,
        audit_models,
        casework_models,
        clinics_models,
        events_models,
        experiments_models,
        goals_models,
        messaging_models,
        patients_models,
        privacy_models,
        reports_models,
        results_models,
        surveys_models,
        themes_models,
        uploads_models,
        yousaid_models,
    ):
        assert module.Base is Base


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(twilio_webhooks.bp)
    app.register_blueprint(voice_webhooks.bp)
    app.register_blueprint(api_imports.bp)
    app.register_blueprint(api_results.bp)
    app.register_blueprint(api_attendance.bp)
    app.register_blueprint(api_goals.bp)
    app.register_blueprint(api_patients.bp)
    app.register_blueprint(api_subscriptions.bp)
    app.register_blueprint(api_appointments.bp)
    app.register_blueprint(api_reference.bp)
    app.register_blueprint(survey_form.bp)
    survey_form.init_web(app)
    app.register_blueprint(goal_form.bp)
    goal_form.init_web(app)
    public_page.init_app(app)
    web.init_app(app)


def _http_error(error: HTTPException) -> Response | HTTPException | tuple[str, int]:
    # Errors raised before any blueprint is chosen (an unknown route, a body over the
    # limit) take the shape of the part of the site they were meant for.
    if api_problems.is_api_request():
        return api_problems.http_error(error)
    if web.is_staff_page():
        return web_pages.http_error(error)
    return error


def _tune_sqlite(app: Flask) -> None:
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

        # Processes forked from one parent may share a lock to take turns at writing.
        if app.config.get("SQLITE_WRITER_LOCK") is not None:
            queue_writers(engine, app.config["SQLITE_WRITER_LOCK"])


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    logging.getLogger("app").setLevel(level)
    # The Twilio SDK logs request bodies (numbers and texts) at DEBUG/INFO.
    logging.getLogger("twilio").setLevel(logging.WARNING)
