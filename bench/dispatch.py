"""Send throughput: WeSaid's claim → send → record path against the bare Twilio SDK.

Both sides talk to the Twilio simulator over loopback, so the baseline is the cost of
the SDK and the simulator alone, and the ratio is what the outbox, the compare-and-set
claims, the RQ worker and the database add per message.

    .venv/bin/python bench/dispatch.py [--messages 2000] [--runs 3]

Prints one JSON line per measurement. Uses a SQLite file and the in-process queue
unless DATABASE_URL / REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from rq import SimpleWorker
from sqlalchemy import insert, text

from app import create_app
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.channels.registry import twilio_settings
from app.messaging.channels.twilio_common import build_client
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.messaging.sweeps import sweep
from app.patients.models import Patient
from app.queueing import WORKER_QUEUES
from app.runtime import get_runtime
from app.simulator.population import generate_population
from app.simulator.server import TwilioSimulator
from workers.worker import bind

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
SENDER = "+442071838750"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BODY = "North Street Clinic: your appointment is on Tuesday 3 March at 10:30. Reply 1 to confirm."


def _app(sim_url: str, database_url: str) -> Any:
    return create_app(
        {
            "WESAID_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": os.environ.get("REDIS_URL"),
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE": sim_url,
            "CLOCK": FixedClock(NOW),
            "SQLITE_SYNCHRONOUS": "NORMAL",
            "LOG_LEVEL": "WARNING",
        }
    )


def _seed(phones: list[str]) -> None:
    db.drop_all()
    db.create_all()
    clinic = create_clinic(
        "bench",
        name="Bench",
        timezone="Europe/London",
        sender=SENDER,
        quiet_start=clock_time(0),
        quiet_end=clock_time(0),
        clock=FixedClock(NOW),
    )
    db.session.execute(
        insert(Patient),
        [
            {
                "clinic_id": clinic.id,
                "external_id": f"P{i}",
                "phone": phone,
                "locale": "en",
                "channel_preference": "sms",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i, phone in enumerate(phones)
        ],
    )
    db.session.commit()


def _queue_messages(count: int) -> None:
    db.session.execute(text("DELETE FROM outbound_messages"))
    db.session.execute(
        insert(OutboundMessage),
        [
            {
                "clinic_id": 1,
                "patient_id": i + 1,
                "kind": "help",
                "rule": "",
                "plan_version": 1,
                "channel": "sms",
                "state": MessageState.PENDING,
                "due_at": NOW,
                "expires_at": NOW + timedelta(hours=6),
                "body": BODY,
                "attempts": 0,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(count)
        ],
    )
    db.session.commit()


def bench_sdk(sim: TwilioSimulator, phones: list[str], app: Any) -> float:
    client = build_client(twilio_settings(app.config))
    started = time.perf_counter()
    for phone in phones:
        client.messages.create(to=phone, from_=SENDER, body=BODY, validity_period=3600)
    return time.perf_counter() - started


def bench_wesaid(app: Any, count: int) -> float:
    runtime = get_runtime(app)
    worker = SimpleWorker(
        [runtime.queue.queue(q) for q in WORKER_QUEUES], connection=runtime.queue.connection
    )
    _queue_messages(count)
    started = time.perf_counter()
    sweep(runtime.clock, runtime.queue)
    worker.work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - started
    accepted = db.session.scalar(
        text("SELECT count(*) FROM outbound_messages WHERE state = 'accepted'")
    )
    if accepted != count:
        raise SystemExit(f"only {accepted} of {count} messages were accepted")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    phones = [p.phone for p in generate_population(args.messages, seed=1)]
    sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN)
    sim.faults.callback_statuses = frozenset()  # throughput of sending alone
    sim_url = sim.start()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = _app(sim_url, database_url)
        bind(app)
        with app.app_context():
            _seed(phones)
            sdk = [bench_sdk(sim, phones, app) for _ in range(args.runs)]
            ours = [bench_wesaid(app, args.messages) for _ in range(args.runs)]
            backend = db.engine.dialect.name
    sim.stop()
    base = statistics.median(sdk)
    for name, runs in (("twilio_sdk_direct", sdk), ("wesaid_dispatch", ours)):
        seconds = statistics.median(runs)
        line = {
            "name": name,
            "n": args.messages,
            "runs": args.runs,
            "seconds": round(seconds, 3),
            "per_second": round(args.messages / seconds, 1),
            "database": backend,
        }
        if name == "wesaid_dispatch":
            line["ratio_vs_baseline"] = round(seconds / base, 2)
        print(json.dumps(line))


if __name__ == "__main__":
    main()
