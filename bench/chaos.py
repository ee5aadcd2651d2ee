"""Chaos: every message goes out once and every reply is kept, under faults, on the
production processes.

The run starts its own PostgreSQL cluster (restartable; the machine's is never
touched), its own Redis with no persistence, the Twilio simulator in a process of its
own, and WeSaid as the Procfile starts it: gunicorn, `wesaid clock` and two `wesaid
worker`s, with a supervisor that restarts a worker that exits. It seeds due reminders
and, while they are sent, has patients text in and posts every webhook the provider has
for the app (`chaos_load`), while it SIGKILLs busy workers (some while the provider holds
their create, between the provider call and the database update), restarts Redis, the
app and PostgreSQL, and the provider answers some creates with 429, 500 or nothing.
Once everything has settled it compares the database with the provider's records
(`chaos_truth`) and reads back what the clock logged.

    .venv/bin/python bench/chaos.py [--messages 20000] [--inbound 100000] [--seed 1]

Prints one JSON line; exits 1 if a message was sent twice or lost, a status or a reply
differs from the provider's records, a kill between the provider call and the database
update was not reconciled, or the clock's log does not say what its sweeps did. The
same seed kills at the same moments; which worker is busy then is up to the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from chaos_events import Chaos, Timeline
from chaos_fleet import Fleet
from chaos_load import Replies, WebhookPump
from chaos_plan import ChaosPlan
from chaos_services import OwnRedis, PrivatePostgres, Simulator
from chaos_truth import Verdict, compare, open_work, post_mortem, read_clock_log
from dispatch import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SECRET_KEY,
    SENDER,
    due_messages,
    phones,
    seed_patients,
)
from processes import free_port, process_env
from scale_db import default_url, recreate_database
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from app import create_app
from app.extensions import db


def _seed(url: str, plan: ChaosPlan) -> None:
    app = create_app(
        {
            "WESAID_ENV": "development",
            "SECRET_KEY": SECRET_KEY,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        seed_patients(plan.messages)
        due_messages(plan.messages, kind="reminder")
        db.session.remove()
        db.engine.dispose()


def _faults(plan: ChaosPlan, numbers: list[str]) -> dict[str, Any]:
    rng = random.Random(plan.seed)
    undelivered = rng.sample(numbers, round(plan.undelivered_share * len(numbers)))
    return {
        "callback_statuses": list(plan.callback_statuses),
        "reorder": True,
        "drop_callbacks": plan.drop_share,
        "drop_inbound": plan.drop_share,
        "rate_limit_share": plan.rate_limit_share,
        "server_error_share": plan.server_error_share,
        "hang_share": plan.hang_share,
        # Past the workers' 10 s read timeout: the send is ambiguous.
        "hang_seconds": 12.0,
        "undelivered_numbers": dict.fromkeys(undelivered, 30003),
    }


def _settle(
    engine: Engine, sim: Simulator, pump: WebhookPump, chaos: Chaos, deadline: float
) -> tuple[Verdict, bool]:
    """Wait until nothing is open, the pump is idle and the database agrees with the
    provider (or the deadline passes); the last comparison, and whether it settled."""
    checked = 0.0
    verdict: Verdict | None = None
    while True:
        quiet = pump.idle() and not any(open_work(engine).values())
        if quiet and not checked:
            chaos.note("quiet")
        if quiet and time.monotonic() - checked > 10:
            sim.call("POST", "flush", {"timeout": 30})
            verdict = compare(engine, sim.call("GET", "truth", timeout=300), chaos.held)
            checked = time.monotonic()
            if verdict.ok:
                return verdict, True
            keys = ("lost", "sent_twice", "status_matches_truth", "replies_stored")
            chaos.note("not settled yet", **{key: verdict.line[key] for key in keys})
        if time.monotonic() > deadline:
            if verdict is None or not quiet:
                verdict = compare(engine, sim.call("GET", "truth", timeout=300), chaos.held)
            return verdict, False
        time.sleep(1)


def run(plan: ChaosPlan, logs: Path) -> tuple[dict[str, Any], Verdict]:
    """One run; its JSON line and the comparison behind it."""
    started = time.monotonic()
    with ExitStack() as stack:
        pg = PrivatePostgres() if PrivatePostgres.available() else None
        if pg is not None:
            stack.callback(pg.stop)
            pg.start()
        else:
            plan = replace(plan, postgres_restarts=0)
        if pg is not None:
            url = pg.url(plan.database)
        elif plan.database_server:
            url = make_url(plan.database_server).set(database=plan.database).render_as_string(False)
        else:
            url = default_url(plan.database)
        recreate_database(url)
        _seed(url, plan)
        redis = OwnRedis(plan.redis_db)
        stack.callback(redis.stop)
        redis.start()
        web_port = free_port()
        inbound_url = f"http://127.0.0.1:{web_port}/webhooks/twilio/sms"
        sim = Simulator(ACCOUNT_SID, AUTH_TOKEN, inbound_url, plan.seed, logs / "simulator.log")
        stack.callback(sim.stop)
        numbers = phones(plan.messages)
        sim.call("POST", "faults", _faults(plan, numbers))
        env = process_env(
            database=url,
            redis=redis.url,
            secret_key=SECRET_KEY,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            public_base_url=f"http://127.0.0.1:{web_port}",
            api_base=sim.base_url,
            WESAID_WEBHOOK_RATE_LIMIT="100000000 per minute",
            **plan.timings.env(),
        )
        fleet = Fleet(env, web_port, plan.web_workers, logs)
        stack.callback(fleet.stop)
        fleet.start_web(wait=False)  # the app and the workers warm up side by side
        fleet.start_workers(plan.workers)
        fleet.wait_web()
        fleet.wait_ready()
        engine = create_engine(url, pool_pre_ping=True)
        stack.callback(engine.dispose)
        pump = WebhookPump(sim, AUTH_TOKEN, plan.seed, plan.duplicate_share)
        stack.callback(pump.stop)
        pump.start()
        replies = Replies(sim, pump, numbers, SENDER, plan.replies, plan.seed)
        stack.callback(replies.stop)
        chaos = Chaos(fleet, redis, pg, sim, engine, plan.seed)
        fleet.start_clock()
        fleet.wait_first_sweep()
        chaos.note("first sweep")
        replies.start()
        chaos.run(Timeline.of(plan))
        replies.release()
        replies.done.wait()
        verdict, settled = _settle(engine, sim, pump, chaos, time.monotonic() + plan.drain_seconds)
        chaos.note("settled" if settled else "gave up waiting", **open_work(engine))
        if not verdict.ok:
            truth = sim.call("GET", "truth", timeout=300)
            wanted = sorted({i for ids in verdict.examples.values() for i in ids} | set(chaos.held))
            found = post_mortem(engine, truth, wanted)
            (logs / "post-mortem.json").write_text(json.dumps(found, indent=1))
        clock_log = read_clock_log(fleet.clock_lines, chaos.redis_restarts)
        (logs / "timeline.json").write_text(json.dumps(chaos.notes, indent=1))
    line = {
        "name": "chaos",
        **verdict.line,
        "kills": chaos.kills,
        "redis_restarts": chaos.redis_restarts,
        "app_restarts": chaos.app_restarts,
        "postgres_restarts": chaos.postgres_restarts,
        "resume_after_redis_s": chaos.resumed,
        "webhooks_posted": pump.posted,
        "webhooks_repeated": sum(n for (_, o), n in pump.counts.items() if o == "repeat"),
        "webhooks_not_taken": sum(
            n for (_, o), n in pump.counts.items() if o in ("refused", "unreachable")
        ),
        "webhooks_dropped_by_provider": sum(pump.dropped_by_provider.values()),
        # Dropped by the provider or not taken by the app: the reconciler imported them.
        "replies_missed_by_webhook": verdict.line["replies_received"] - len(pump.inbound_ok),
        "clock_log": clock_log,
        "settled": settled,
        "seconds": round(time.monotonic() - started, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    line["ok"] = bool(settled and verdict.ok and clock_log["ok"])
    return line, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = ChaosPlan()
    parser.add_argument("--messages", type=int, default=defaults.messages)
    parser.add_argument("--inbound", type=int, default=defaults.inbound)
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--held-kills", type=int, default=defaults.held_kills)
    parser.add_argument("--redis-restarts", type=int, default=defaults.redis_restarts)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--logs", type=Path, help="where the processes' logs go")
    args = parser.parse_args()
    plan = replace(
        defaults,
        messages=args.messages,
        inbound=args.inbound,
        kills=args.kills,
        held_kills=args.held_kills,
        redis_restarts=args.redis_restarts,
        seed=args.seed,
    )
    logs = args.logs or Path(tempfile.mkdtemp(prefix="wesaid-chaos-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    line, verdict = run(plan, logs)
    print(json.dumps(line), flush=True)
    if not line["ok"]:
        print(f"logs: {logs}; examples: {json.dumps(verdict.examples)}", file=sys.stderr)
        print(f"plan: {json.dumps(asdict(plan))}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
