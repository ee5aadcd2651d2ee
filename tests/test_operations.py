"""What operators' tools read: liveness, readiness with each failed check named,
Prometheus metrics that count real sends and webhooks (across processes too), request
ids on every response and in the logs, and JSON log lines with no personal data."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from redis import Redis
from sqlalchemy import text

from app import logs, metrics
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.outbox import plan_message
from app.operations import MIGRATIONS_DIR
from app.queueing import JobName
from tests.conftest import make_test_app
from tests.integration import PATIENT_A, REMINDER_DUE, TOMORROW, running_harness
from tests.world import World
from workers.clock import run_clock

ROOT = Path(__file__).resolve().parents[1]

PHONE = "+447400123456"


def _metric(page: str, name: str, **labels: str) -> float:
    """The value of one sample of the metrics page (0 if it is not there)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in page.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, value = line.rsplit(" ", 1)
        sample, _, rest = key.partition("{")
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if sample == name and found == wanted:
            return float(value)
    return 0.0


def test_healthz_answers_without_touching_anything(client: Any) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_readyz_names_the_migrations_until_the_database_is_at_head(client: Any) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "migrations": "not migrated",
    }
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    try:
        db.session.execute(text("INSERT INTO alembic_version VALUES ('0000aaaa0000')"))
        db.session.commit()
        assert client.get("/readyz").get_json()["checks"]["migrations"] == "behind"
        db.session.execute(text("DELETE FROM alembic_version"))
        for head in heads:
            db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
        db.session.commit()
        answer = client.get("/readyz")
        assert answer.status_code == 200
        assert answer.get_json()["status"] == "ready"
    finally:
        db.session.rollback()
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()


def test_readyz_says_redis_is_unreachable_and_metrics_still_answer(
    database_url: str, clock: FixedClock
) -> None:
    nowhere = "redis://127.0.0.1:1/0"
    app = make_test_app(database_url, clock, Redis.from_url(nowhere), REDIS_URL=nowhere)
    with app.app_context():
        client = app.test_client()
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json()["checks"]["redis"] == "unreachable"
        page = client.get("/metrics").get_data(as_text=True)
        assert _metric(page, "wesaid_redis_up") == 0.0
        db.session.remove()


def test_metrics_read_the_queues_and_the_oldest_message_due(
    app: Flask, client: Any, world: World, clock: FixedClock, redis_conn: Redis
) -> None:
    clinic = world.clinic("north")
    patient = world.patient(clinic, "P1", phone=PHONE)
    for minutes in (90, 30):
        plan_message(
            clinic_id=clinic.id,
            patient_id=patient.id,
            appointment_id=None,
            kind=MessageKind.REMINDER,
            channel=Channel.SMS,
            due_at=clock.now() - timedelta(minutes=minutes),
            expires_at=clock.now() + timedelta(days=1),
            now=clock.now() - timedelta(days=1),
            rule="test",
        )
    db.session.commit()
    app.extensions["wesaid"].queue.enqueue_batches(JobName.SEND_MESSAGES, [1, 2, 3])
    page = client.get("/metrics").get_data(as_text=True)
    assert _metric(page, "wesaid_oldest_due_message_age_seconds") == 90 * 60
    assert _metric(page, "wesaid_queue_depth", queue="send") == 1
    assert _metric(page, "wesaid_redis_up") == 1
    assert PHONE not in page


def test_metrics_ask_for_the_token_when_one_is_set(
    database_url: str, clock: FixedClock, redis_conn: Redis
) -> None:
    app = make_test_app(database_url, clock, redis_conn, METRICS_TOKEN="m" * 32)
    with app.app_context():
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"})
        assert right.status_code == 200
        db.session.remove()


def test_every_response_carries_a_request_id_and_keeps_a_plausible_one(client: Any) -> None:
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32
    assert client.get("/healthz").headers["X-Request-Id"] != made
    given = client.get("/healthz", headers={"X-Request-Id": "lb-1234.abc"})
    assert given.headers["X-Request-Id"] == "lb-1234.abc"
    odd = client.get("/healthz", headers={"X-Request-Id": "<script>" + PHONE})
    assert odd.headers["X-Request-Id"] != "<script>" + PHONE


def test_json_lines_carry_the_ids_and_redact_link_tokens() -> None:
    handler = logs.handler("json")
    record = logging.LogRecord("app.x", logging.INFO, __file__, 1, "opened /s/%s", ("T0K3N",), None)
    with logs.request_scope("req-1"):
        assert all(f.filter(record) for f in handler.filters)
        line = json.loads(handler.format(record))
    assert line["request_id"] == "req-1"
    assert line["job_id"] == "-"
    assert line["level"] == "info"
    assert "T0K3N" not in line["message"]
    with pytest.raises(ValueError, match="json, text"):
        logs.handler("xml")


#: app/metrics.py on its own, without the app it belongs to (quick to start).
_METRICS = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("metrics", {str(ROOT / "app" / "metrics.py")!r})
metrics = sys.modules["metrics"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(metrics)
"""


def test_counts_from_several_processes_add_up(tmp_path: Any) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = 'metrics.count_message("reminder", "sms", "accepted")\n'
    count += 'metrics.count_inbound("message", "stored")\n'
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _METRICS + count], env=env, check=True)
    scrape = _METRICS + "sys.stdout.write(metrics.render([]).decode())"
    done = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, capture_output=True, text=True
    )
    page = done.stdout
    labels = {"kind": "reminder", "channel": "sms", "status": "accepted"}
    assert _metric(page, "wesaid_messages_total", **labels) == 2
    assert _metric(page, "wesaid_inbound_total", kind="message", outcome="stored") == 2


def test_the_clock_says_what_each_sweep_did_in_json_lines(
    app: Flask, world: World, clock: FixedClock, capfd: pytest.CaptureFixture[str]
) -> None:
    clinic = world.clinic("north")
    patient = world.patient(clinic, "P1", phone=PHONE)
    plan_message(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=None,
        kind=MessageKind.REMINDER,
        channel=Channel.SMS,
        due_at=clock.now(),
        expires_at=clock.now() + timedelta(days=1),
        now=clock.now(),
        rule="test",
    )
    db.session.commit()
    app.config["LOG_FORMAT"] = "json"
    try:
        run_clock(app, once=True)
    finally:
        for name in ("app", "workers"):
            logger = logging.getLogger(name)
            logger.handlers[:] = [h for h in logger.handlers if h.get_name() != "wesaid"]
            logger.propagate = True
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("clock started: sweep every") for m in messages)
    assert any(m.startswith("sweep: ") and "claimed=1" in m for m in messages), messages
    assert PHONE not in err


def test_a_reminder_s_send_and_its_delivery_callback_are_counted(
    app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis
) -> None:
    def scrape() -> str:
        return metrics.render([]).decode()

    sent = {"kind": "reminder", "channel": "sms", "status": "accepted"}
    callback = {"endpoint": "webhooks.status_callback"}
    with running_harness(database_url, clock, redis_conn) as h:
        before = scrape()
        person = h.add_patient(h.add_clinic(), PATIENT_A)
        h.book(person, TOMORROW)
        h.advance_to(REMINDER_DUE)
        h.advance(timedelta(minutes=10))
        after = scrape()

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("wesaid_messages_total", **sent) == 1
    assert grew("wesaid_send_seconds_count", channel="sms") == 1
    assert grew("wesaid_inbound_total", kind="status", outcome="delivered") == 1
    assert grew("wesaid_webhook_seconds_count", **callback) >= 1
    assert PATIENT_A not in after
