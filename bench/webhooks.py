"""Twilio's webhooks under load: signed inbound texts and status callbacks, open loop,
against gunicorn as the Procfile runs it, on PostgreSQL and Redis.

Requests go out on a fixed schedule whatever the answers (open loop: a slow answer
does not slow the next request), half inbound texts (one in ten a repeat of an earlier
one, as Twilio retries) and half delivery callbacks of sent messages, each signed with
X-Twilio-Signature as Twilio signs it. Each latency counts from when its request was
due, so queueing is in the figure. The database and the Redis database are emptied
first: give ones of their own.

    .venv/bin/python bench/webhooks.py --database postgresql://postgres@127.0.0.1/wesaid_bench \\
        [--redis redis://127.0.0.1:6379/9] [--rates 100,200,300] [--seconds 20] \\
        [--gunicorn-workers 2]

Prints one JSON line per rate (p50_ms, p95_ms, p99_ms, max_ms, errors,
stored_exactly_once: every accepted text stored once, none twice) and a last line with
the highest rate whose p99 stayed under 50 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from urllib.parse import urlencode

from processes import free_port, process_env, start_web, wait_until_serving
from redis import Redis
from sqlalchemy import insert, text

from app import create_app
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient
from app.simulator.delivery import WebhookPoster

ACCOUNT_SID = "AC" + "c" * 32
AUTH_TOKEN = "bench-auth-token"
SECRET_KEY = "bench-secret-key-" + "w" * 32
SENDER = "+442071838750"
NOW = datetime.now(UTC).replace(microsecond=0)
#: Sent messages whose callbacks the run posts, and patients who text in.
MESSAGES = 20000
PATIENTS = 2000
DUPLICATE_SHARE = 0.1
P99_GOAL_MS = 50.0


def seed(database: str) -> None:
    """A clinic, its patients and sent messages awaiting their delivery callbacks."""
    app = create_app(
        {
            "WESAID_ENV": "development",
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database,
            "REDIS_URL": None,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
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
                    "phone": _phone(i),
                    "locale": "en",
                    "channel_preference": "sms",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(PATIENTS)
            ],
        )
        db.session.execute(
            insert(OutboundMessage),
            [
                {
                    "clinic_id": clinic.id,
                    "patient_id": 1 + i % PATIENTS,
                    "kind": "help",
                    "rule": "",
                    "plan_version": 1,
                    "channel": "sms",
                    "state": MessageState.ACCEPTED,
                    "provider_sid": _sid("SM", i),
                    "due_at": NOW,
                    "expires_at": NOW + timedelta(hours=6),
                    "accepted_at": NOW,
                    "body": "Reply 1 to confirm.",
                    "attempts": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(MESSAGES)
            ],
        )
        db.session.commit()
        db.engine.dispose()


def _phone(index: int) -> str:
    return f"+447700{index:06d}"


def _sid(prefix: str, index: int) -> str:
    return f"{prefix}{index:032x}"


def serve(database: str, redis: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = process_env(
        database=database,
        redis=redis,
        secret_key=SECRET_KEY,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        public_base_url=f"http://127.0.0.1:{port}",
        WESAID_WEBHOOK_RATE_LIMIT="1000000 per minute",
    )
    # As the Procfile starts it; the access log is left out of the measurement.
    server = start_web(env, port, workers)
    try:
        wait_until_serving(port, server)
    except SystemExit:
        server.terminate()
        raise
    return server


def plan(
    rate: float, seconds: float, offset: int, rng: random.Random
) -> list[tuple[str, dict[str, str]]]:
    """The run's requests in order: (path, form)."""
    requests: list[tuple[str, dict[str, str]]] = []
    texts: list[dict[str, str]] = []
    for index in range(int(rate * seconds)):
        if index % 2:
            message = offset + index // 2
            form = {"MessageSid": _sid("SM", message % MESSAGES), "MessageStatus": "delivered"}
            requests.append((f"/webhooks/twilio/status?m={1 + message % MESSAGES}", form))
            continue
        if texts and rng.random() < DUPLICATE_SHARE:
            requests.append(("/webhooks/twilio/sms", rng.choice(texts)))
            continue
        sender = _phone(rng.randrange(PATIENTS))
        form = {
            "MessageSid": _sid("SM", 10**9 + offset + index),
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "To": SENDER,
            "Body": "1",
            "NumSegments": "1",
        }
        texts.append(form)
        requests.append(("/webhooks/twilio/sms", form))
    return requests


def _post(port: int, path: str, form: dict[str, str], poster: WebhookPoster) -> int:
    body = urlencode(form)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": poster.sign(f"http://127.0.0.1:{port}{path}", form),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def load(port: int, rate: float, requests: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    poster = WebhookPoster(AUTH_TOKEN)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def one(index: int) -> None:
        due = start + index / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        path, form = requests[index]
        try:
            status = _post(port, path, form, poster)
        except OSError:
            status = 0
        elapsed = time.perf_counter() - due
        with lock:
            latencies.append(elapsed * 1000)
            if path.endswith("/sms") and status == 200:
                statuses[form["MessageSid"]] = status
            if status != 200:
                statuses.setdefault("errors", 0)
                statuses["errors"] += 1

    with ThreadPoolExecutor(max_workers=128) as pool:
        list(pool.map(one, range(len(requests))))
    ordered = sorted(latencies)

    def quantile(share: float) -> float:
        return round(ordered[int(share * (len(ordered) - 1))], 2)

    return {
        "requests": len(requests),
        "errors": statuses.pop("errors", 0),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": quantile(0.95),
        "p99_ms": quantile(0.99),
        "max_ms": round(ordered[-1], 2),
        "accepted_texts": sorted(statuses),
    }


def stored_exactly_once(database: str, sids: list[str]) -> bool:
    app = create_app(
        {
            "WESAID_ENV": "development",
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    with app.app_context():
        stored = db.session.execute(
            text("SELECT provider_sid, count(*) FROM inbound_messages GROUP BY provider_sid")
        ).all()
        db.engine.dispose()
    counts = {str(row[0]): int(row[1]) for row in stored}
    return all(counts.get(sid) == 1 for sid in sids) and all(c == 1 for c in counts.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL of its own")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--rates", default="100,200,300")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    args = parser.parse_args()
    database = args.database.replace("postgresql://", "postgresql+psycopg://", 1)
    Redis.from_url(args.redis).flushdb()
    seed(database)
    port = free_port()
    server = serve(database, args.redis, port, args.gunicorn_workers)
    best = 0.0
    offset = 0
    try:
        for rate in (float(r) for r in args.rates.split(",")):
            requests = plan(rate, args.seconds, offset, random.Random(int(rate)))
            offset += len(requests)
            found = load(port, rate, requests)
            sids = found.pop("accepted_texts")
            found["stored_exactly_once"] = stored_exactly_once(database, sids)
            line = {"name": "webhooks", "rate": rate, "seconds": args.seconds, **found}
            line["gunicorn_workers"] = args.gunicorn_workers
            print(json.dumps(line), flush=True)
            if found["p99_ms"] < P99_GOAL_MS and not found["errors"]:
                best = max(best, rate)
    finally:
        server.terminate()
        server.wait(timeout=30)
        Redis.from_url(args.redis).flushdb()
    print(json.dumps({"name": "webhooks_capacity", "max_rate_p99_under_50ms": best}))


if __name__ == "__main__":
    main()
