"""What an operator's tools ask the web process: is it up, can it work, what is it doing.

- `GET /healthz`: the process is up and serving (no database or Redis is touched), for
  a load balancer's liveness check.
- `GET /readyz`: 200 when the database answers, Redis answers (where there is one) and
  the database's migrations are at this code's head; otherwise 503 naming each check
  that failed. For a deploy to wait on before it sends traffic.
- `GET /metrics`: Prometheus's text format (`app.metrics`), plus what is read now: the
  depth of each queue, and the age of the oldest message due and not yet sent. With
  `WESAID_METRICS_TOKEN` set it asks for that bearer token.

Every request gets a request id (the caller's `X-Request-Id` if it is plausible, else a
new one) that its log lines carry and its response echoes, and each webhook's time to
answer is measured.
"""

from __future__ import annotations

import hmac
import logging
import time
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import func, select, text

from app import logs, metrics
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.queueing import WORKER_QUEUES
from app.runtime import get_runtime

log = logging.getLogger(__name__)
bp = Blueprint("operations", __name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: The blueprints whose requests are webhooks from the provider.
WEBHOOK_BLUEPRINTS = frozenset({"webhooks", "voice"})


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": _database(), "redis": _redis(), "migrations": _migrations()}
    ready = all(result == "ok" for result in checks.values())
    if not ready:
        log.warning("not ready: %s", {k: v for k, v in checks.items() if v != "ok"})
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure is "not ready", whatever the driver raises
        db.session.rollback()
        return "unreachable"
    return "ok"


def _redis() -> str:
    """ "ok" when Redis answers within a second. A client of its own, with no retries,
    so that a check of a Redis that is down answers at once."""
    url = current_app.config.get("REDIS_URL")
    try:
        if url:
            with Redis.from_url(
                url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
            ) as probe:
                probe.ping()
        else:  # the embedded queue of the demo and the tests
            get_runtime().queue.connection.ping()
    except Exception:  # as above: the reason goes to the log, not to the caller
        log.warning("readiness: Redis did not answer")
        return "unreachable"
    return "ok"


def _migrations() -> str:
    """ "ok" when the database's revision is this code's head."""
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # no table yet: never migrated
        db.session.rollback()
        return "not migrated"
    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    return "ok" if current == heads else "behind" if current else "not migrated"


@bp.get("/metrics")
def metrics_page() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            return Response("a bearer token is needed\n", 401, {"WWW-Authenticate": "Bearer"})
    body = metrics.render(_readings())
    return Response(body, 200, {"Content-Type": metrics.CONTENT_TYPE})


def _readings() -> list[metrics.Reading]:
    now = get_runtime().clock.now()
    oldest = db.session.scalar(
        select(func.min(OutboundMessage.due_at)).where(
            OutboundMessage.state == MessageState.PENDING, OutboundMessage.due_at <= now
        )
    )
    if oldest is not None and oldest.tzinfo is None:  # SQLite keeps no zone
        oldest = oldest.replace(tzinfo=now.tzinfo)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    readings = [
        metrics.Reading(
            "wesaid_oldest_due_message_age_seconds",
            "Seconds since the oldest message due and not yet sent fell due (0: none).",
            (),
            (((), age),),
        )
    ]
    depths: tuple[tuple[tuple[str, ...], float], ...] = ()
    up = 1.0 if _redis() == "ok" else 0.0
    if up:
        queue = get_runtime().queue
        depths = tuple(((name,), float(queue.queue(name).count)) for name in WORKER_QUEUES)
    readings += [
        metrics.Reading("wesaid_queue_depth", "Jobs waiting in each queue.", ("queue",), depths),
        metrics.Reading("wesaid_redis_up", "1 if Redis answered this scrape.", (), (((), up),)),
    ]
    return readings


def _start() -> None:
    g.request_started = time.perf_counter()
    logs.set_request_id(logs.new_request_id(request.headers.get("X-Request-Id")))


def _finish(response: Response) -> Response:
    request_id = logs.current_request_id()
    if request_id:
        response.headers["X-Request-Id"] = request_id
    if request.blueprint in WEBHOOK_BLUEPRINTS and "request_started" in g:
        endpoint = request.endpoint or "unknown"
        metrics.observe_webhook(endpoint, time.perf_counter() - g.request_started)
    return response


def _forget(_error: BaseException | None) -> None:
    logs.set_request_id(None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
