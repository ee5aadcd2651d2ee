"""Send throughput on the production path, against the bare Twilio SDK in the same run.

WeSaid's side is what the Procfile runs: the clock's sweep claims the due messages and
queues their jobs in Redis, and `--workers` processes of `wesaid worker` (started as the
Procfile starts them) send them through the official `twilio` SDK to the Twilio
simulator and record the results in the database. The baseline is a bare SDK loop in as
many processes, sending the same number of messages to the same simulator in the same
run: `ratio_vs_bare_sdk` is WeSaid's time divided by the baseline's (1.0: as fast as
the SDK it wraps).

    .venv/bin/python bench/dispatch.py --database postgresql://postgres@127.0.0.1/wesaid_bench \\
        [--redis redis://127.0.0.1:6379/9] [--workers 2] [--messages 20000]

The database and the Redis database are emptied first: give ones of their own. Prints
one JSON line: messages_per_s, bare_sdk_per_s, ratio_vs_bare_sdk, sql_per_message
(database round trips per message: statements, commits, rollbacks and connection
checks, counted over a sample sent by the same warm worker in this process) and
sent_exactly_once (every message accepted once, none twice).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from processes import process_env, start_process
from redis import Redis
from sqlalchemy import event, insert, text

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
from app.simulator.server import TwilioSimulator
from workers.worker import WarmWorker, bind, warm_up

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
SECRET_KEY = "bench-secret-key-" + "x" * 32
SENDER = "+442071838750"
#: The workers read the real clock, so the messages fall due now.
NOW = datetime.now(UTC).replace(microsecond=0)
BODY = "North Street Clinic: your appointment is on Tuesday 3 March at 10:30. Reply 1 to confirm."
#: Messages whose database round trips are counted in this process.
SQL_SAMPLE = 300


def _config(sim_url: str, database: str, redis: str) -> dict[str, Any]:
    return {
        "WESAID_ENV": "development",
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database,
        "REDIS_URL": redis,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE": sim_url,
        "LOG_LEVEL": "WARNING",
    }


def phones(count: int) -> list[str]:
    return [f"+447700{i:06d}" for i in range(count)]


def seed_patients(count: int) -> None:
    """A new schema with one clinic (no quiet hours) sending from SENDER, and `count`
    patients on SMS, numbered from +447700000000."""
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
    rows = [
        {
            "clinic_id": clinic.id,
            "external_id": f"P{i}",
            "phone": phone,
            "locale": "en",
            "channel_preference": "sms",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, phone in enumerate(phones(count))
    ]
    db.session.execute(insert(Patient), rows)
    db.session.commit()


def due_messages(count: int, kind: str = "help") -> None:
    """`count` messages of `kind` due now, one to each of the first `count` patients,
    with their text written (no composer runs); the outbox is emptied first."""
    db.session.execute(text("DELETE FROM outbound_messages"))
    db.session.execute(
        insert(OutboundMessage),
        [
            {
                "clinic_id": 1,
                "patient_id": i + 1,
                "kind": kind,
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


def _accepted() -> int:
    db.session.remove()
    found = db.session.scalar(
        text("SELECT count(*) FROM outbound_messages WHERE state = 'accepted'")
    )
    db.session.remove()
    return int(found or 0)


def _bare_sdk(args: tuple[Any, list[str]]) -> None:
    settings, phones = args
    client = build_client(settings)
    for phone in phones:
        client.messages.create(to=phone, from_=SENDER, body=BODY, validity_period=3600)


def bench_bare_sdk(config: dict[str, Any], count: int, processes: int) -> float:
    """Seconds for `processes` bare SDK loops to send `count` messages between them."""
    numbers = phones(count)
    settings = twilio_settings(config)
    shares = [(settings, numbers[i::processes]) for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_bare_sdk, [(settings, numbers[:5])] * processes)  # imported and connected
        started = time.perf_counter()
        pool.map(_bare_sdk, shares)
        return time.perf_counter() - started


def _workers(
    config: dict[str, Any], count: int, redis: Redis, fork: bool
) -> list[subprocess.Popen[bytes]]:
    env = process_env(
        database=config["SQLALCHEMY_DATABASE_URI"],
        redis=config["REDIS_URL"],
        secret_key=SECRET_KEY,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        public_base_url=config["PUBLIC_BASE_URL"],
        api_base=config["TWILIO_API_BASE"],
    )
    started = [start_process("worker", env, *(["--fork"] if fork else [])) for _ in range(count)]
    deadline = time.monotonic() + 60
    while redis.scard("rq:workers") < count:  # each registers once it is warm and listening
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start within 60 s")
        time.sleep(0.1)
    return started


def bench_wesaid(app: Any, count: int, workers: int, redis: Redis, fork: bool = False) -> float:
    """Seconds from the sweep to every message accepted, with `workers` worker processes."""
    runtime = get_runtime(app)
    due_messages(count)
    processes = _workers(app.config, workers, redis, fork)
    try:
        started = time.perf_counter()
        sweep(runtime.clock, runtime.queue)
        while _accepted() < count:
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def sql_per_message(app: Any, count: int) -> float:
    """Database round trips per message, for a warm worker in this process."""
    runtime = get_runtime(app)
    due_messages(count)
    trips: Counter[str] = Counter()
    engine = db.engine

    def on_execute(*_args: Any) -> None:
        trips["statement"] += 1

    def on(kind: str) -> Any:
        def count_one(*_args: Any) -> None:
            trips[kind] += 1

        return count_one

    listeners = [
        (engine, "before_cursor_execute", on_execute),
        (engine, "commit", on("commit")),
        (engine, "rollback", on("rollback")),
        (engine.pool, "checkout", on("checkout")),
    ]
    sweep(runtime.clock, runtime.queue)  # claimed and queued: not the worker's cost
    warm_up(app)
    worker = WarmWorker(
        [runtime.queue.queue(q) for q in WORKER_QUEUES], connection=runtime.queue.connection
    )
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    # A pre-pinged checkout is one round trip more (PostgreSQL only; SQLite has none).
    pings = trips["checkout"] if engine.dialect.name == "postgresql" else 0
    return (trips["statement"] + trips["commit"] + trips["rollback"] + pings) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL of its own")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--fork", action="store_true", help="workers as `wesaid worker --fork`")
    args = parser.parse_args()
    database = args.database.replace("postgresql://", "postgresql+psycopg://", 1)
    sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN)
    sim.faults.callback_statuses = frozenset()  # the throughput of sending alone
    sim_url = sim.start()
    redis = Redis.from_url(args.redis)
    redis.flushdb()
    app = create_app(_config(sim_url, database, args.redis))
    bind(app)
    with app.app_context():
        seed_patients(args.messages)
        sdk = bench_bare_sdk(app.config, args.messages, args.workers)
        before = len(sim.ledger)
        ours = bench_wesaid(app, args.messages, args.workers, redis, args.fork)
        sent = len(sim.ledger) - before
        exactly_once = sent == args.messages and _accepted() == args.messages
        exactly_once = exactly_once and sim.duplicate_sends() == 0
        redis.flushdb()
        sql = sql_per_message(app, SQL_SAMPLE)
    sim.stop()
    redis.flushdb()
    line = {
        "name": "dispatch",
        "messages": args.messages,
        "workers": args.workers,
        "worker_mode": "fork" if args.fork else "warm",
        "seconds": round(ours, 2),
        "messages_per_s": round(args.messages / ours, 1),
        "bare_sdk_per_s": round(args.messages / sdk, 1),
        "ratio_vs_bare_sdk": round(ours / sdk, 2),
        "sql_per_message": round(sql, 2),
        "sent_exactly_once": exactly_once,
        "database": "postgresql",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
