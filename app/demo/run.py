"""`wesaid demo`: a simulated month of reminders and replies on the embedded default.

Everything but the phone network is the production path: a SQLite file migrated with
the real migrations, the real import services, the clock's sweep, the RQ jobs' own
functions, the real `twilio` SDK talking to the simulator over loopback, and signed
webhooks from the simulator into the app over HTTP.

The month keeps both cores busy. The simulator runs in a process of its own; the
webhooks are answered by two web processes (`app.demo.web`); the jobs run in two
processes at once, each patient's always in the same one (`app.demo.shards`). Between
the rounds of deliveries this process runs the clock's sweep, books the appointments
that fall due and records who attended.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
import secrets
import threading
import time
from bisect import bisect_right
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.appointments.imports import import_appointment_rows
from app.clinics.queries import get_clinic_by_slug
from app.clinics.service import create_clinic, ensure_organisation
from app.core.clock import FixedClock
from app.db import refresh_statistics
from app.demo import goals
from app.demo.month import (
    ACCOUNT_SID,
    APP_SHARES,
    CLINICS,
    DAYS,
    EXPERIMENT,
    LANDLINE_SHARE,
    ORGANISATION,
    ORGANISATION_NAME,
    SERVED_AT,
    START,
    TEMPLATE_TEXTS,
    WHATSAPP_TEMPLATES,
    bookings,
    clinic_of,
    patient_row,
)
from app.demo.outcomes import next_due, record_outcomes, summarise
from app.demo.results import store_snapshots, summarise_experiment, summarise_surveys
from app.demo.shards import ShardedQueue, ShardWorkers, queue_new_replies
from app.demo.summary import dashboard_urls, demo_admin, print_summary, themes_of_the_month
from app.demo.web import WebProcesses, listening_socket
from app.experiments.service import create_experiment
from app.experiments.spec import parse_definition as parse_experiment
from app.extensions import db
from app.messaging.sweeps import sweep
from app.patients.service import import_patient_rows
from app.queueing import WORKER_QUEUES, connect
from app.runtime import get_runtime
from app.simulator import goals as simulated_goals
from app.simulator.population import Behaviour, generate_population
from app.simulator.process import SimulatorProcess
from app.surveys.service import expire_sessions
from workers.worker import InProcessWorker, bind

#: Seconds one round of deliveries may take before the demo gives up: a round left
#: unfinished would make the run differ from the next one with the same seed.
FLUSH_TIMEOUT = 600.0


def app_settings(database: Path, port: int, sim_url: str, auth_token: str) -> dict[str, Any]:
    """The demo's app: development, with secrets of its own for this run only (the same
    in each of its processes). Staff sign in with a password alone (the second factor
    can be off in development only). The clock is each process's own (CLOCK)."""
    return {
        "WESAID_ENV": "development",
        "STAFF_SECOND_FACTOR": False,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database.resolve()}",
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_API_BASE": sim_url,
        "SQLITE_SYNCHRONOUS": "NORMAL",
        # One connection: threads queue for it in Python instead of sleeping in
        # SQLite's busy handler when two of them want to write at once.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
        # And the processes, forked from this one, take turns at writing likewise.
        "SQLITE_WRITER_LOCK": multiprocessing.get_context("fork").Lock(),
        # Every simulated patient and Twilio itself come from 127.0.0.1, and the month
        # runs in a minute or two of real time: rate limits counted in real time
        # would refuse webhooks and form posts as the machine is faster, and the
        # month would come out differently from one machine to the next.
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }


class Demo:
    def __init__(self, n_patients: int, seed: int, port: int, database: Path) -> None:
        self.clock = FixedClock(START)
        # The simulator runs in a process of its own and reads the simulated time here.
        self.shared_now = multiprocessing.get_context("spawn").Value("d", START.timestamp())
        self.personas = generate_population(
            n_patients, seed, landline_share=LANDLINE_SHARE, app_shares=APP_SHARES
        )
        self.behaviour = Behaviour(self.personas, seed)
        self.seed = seed
        self.goal_patients = simulated_goals.goal_patients(self.personas, seed)
        self.goal_visits = goals.visits(self.personas, self.goal_patients, seed, START)
        self.bookings = bookings(self.personas, random.Random(seed), self.goal_visits)
        # Kept so that each tick looks only at what changed: the bookings in the order
        # they fall due, how many are booked already, and when the appointments start.
        self.to_book = sorted(range(len(self.bookings)), key=lambda i: self.bookings[i].booked_at)
        self.booked = 0
        self.starts = sorted(b.starts_at for b in self.bookings)
        self.last_tick: datetime | None = None
        # The simulator signs its webhooks with it: a fresh one each run, never public.
        auth_token = secrets.token_hex(16)
        self.sim = SimulatorProcess(
            ACCOUNT_SID,
            auth_token,
            n_patients=n_patients,
            seed=seed,
            now=self.shared_now,
            landline_share=LANDLINE_SHARE,
            app_shares=APP_SHARES,
            content_templates=TEMPLATE_TEXTS,
            deliver_on_flush=True,
            goals_since=START,
            start_method="fork",
        )
        sim_url = self.sim.base_url
        database.parent.mkdir(parents=True, exist_ok=True)
        self.database = database
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        self.socket = listening_socket(port)
        self.port = port = int(self.socket.getsockname()[1])
        settings = app_settings(self.database, port, sim_url, auth_token)
        # The webhooks are taken by processes of their own (`app.demo.web`), and jobs
        # run in two (`app.demo.shards`): forked before this process builds its app.
        self.web = WebProcesses(self.socket, self.shared_now, settings)
        self.shards = ShardWorkers(self.shared_now, settings)
        self.queue = ShardedQueue(connect(None))
        self.app = create_app(settings | {"CLOCK": self.clock, "JOB_QUEUE": self.queue})
        self.server: BaseWSGIServer | None = None
        #: How many replies the web processes had stored when they were last queued,
        #: and the last one's id.
        self.replies_seen = 0
        self.last_reply = 0
        self.sim.set_inbound_url(f"http://127.0.0.1:{port}/webhooks/twilio/sms")
        bind(self.app)
        self.worker = InProcessWorker(
            [self.queue.queue(name) for name in WORKER_QUEUES], connection=self.queue.connection
        )

    def setup(self) -> None:
        with self.app.app_context():
            # Alembic announces each of its dozens of migrations at INFO; on a fresh
            # database made for the demo that says nothing to the person watching.
            logging.disable(logging.INFO)
            try:
                upgrade()
            finally:
                logging.disable(logging.NOTSET)
            ensure_organisation(ORGANISATION, ORGANISATION_NAME, self.clock)
            for slug, name, sender in CLINICS:
                clinic = create_clinic(
                    slug,
                    name=name,
                    timezone="Europe/London",
                    sender=sender,
                    org_slug=ORGANISATION,
                    clock=self.clock,
                )
                clinic.whatsapp_templates = dict(WHATSAPP_TEMPLATES)
            db.session.commit()
            create_experiment(parse_experiment(EXPERIMENT, "demo"), self.clock)
            for index, (slug, _name, _sender) in enumerate(CLINICS):
                rows = [patient_row(p) for p in self.personas[index::2]]
                clinic = get_clinic_by_slug(slug)
                report = import_patient_rows(
                    clinic.id, rows, source="demo", strict=True, clock=self.clock
                )
                if report.errors:
                    raise RuntimeError(f"demo patients refused: {report.errors[0]}")
            goals.set_goals(
                self.personas, self.goal_patients, clinic_of(self.personas), self.seed, self.clock
            )

    def book_due(self, now: datetime) -> None:
        """Import the bookings made by `now` that are not in yet, in the order listed."""
        end = bisect_right(
            self.to_book, now, lo=self.booked, key=lambda i: self.bookings[i].booked_at
        )
        due = [self.bookings[i] for i in sorted(self.to_book[self.booked : end])]
        self.booked = end
        for slug, _name, _sender in CLINICS:
            rows = [
                {
                    "external_id": b.external_id,
                    "patient_external_id": b.patient_external_id,
                    "starts_at": b.starts_at.isoformat(),
                    **({"pathway": b.pathway} if b.pathway else {}),
                }
                for b in due
                if b.clinic == slug
            ]
            if rows:
                clinic = get_clinic_by_slug(slug)
                import_appointment_rows(
                    clinic.id, rows, source="demo", strict=False, clock=self.clock
                )

    def drain(self) -> None:
        """Run jobs and let the simulator answer until nothing is left to do.

        The simulator holds whatever it would deliver until it is flushed, so each round
        has two steps that never overlap: the jobs send (and handle the replies of the
        round before), then the carrier delivers, calls back, rings and answers, and
        the replies the web processes stored are queued. Each patient's webhooks come
        one at a time, in the same order on every run, and each patient's jobs run in
        order in one process, so what the app sees depends on the seed and not on how
        threads and processes happen to run.
        """
        queue = self.queue

        def in_redis() -> bool:
            return queue.used_redis and any(queue.queue(q).count for q in WORKER_QUEUES)

        while True:
            if queue.holds():
                self.shards.run(queue.take())
            if in_redis():  # none in the month: what staff would ask for, say
                self.worker.work(burst=True, logging_level="WARNING")
            if not self.sim.flush(timeout=FLUSH_TIMEOUT):
                raise RuntimeError(f"the simulator did not deliver within {FLUSH_TIMEOUT:.0f} s")
            self.web.check()
            if self.web.handed.value != self.replies_seen:  # replies were stored
                self.replies_seen = self.web.handed.value
                with self.app.app_context():
                    self.last_reply = queue_new_replies(queue, self.last_reply)
            if not queue.holds() and not in_redis():
                return

    def tick(self, now: datetime) -> None:
        self.clock.set(now)
        self.shared_now.value = now.timestamp()
        with self.app.app_context():
            self.book_due(now)
            runtime = get_runtime(self.app)
            sweep(runtime.clock, runtime.queue)  # what the clock does at each sweep
            expire_sessions(now)
        self.drain()
        if self.appointments_started(now):
            with self.app.app_context():
                record_outcomes(self.behaviour, now, self.clock)
        self.last_tick = now

    def appointments_started(self, now: datetime) -> bool:
        """Whether an appointment started since the last tick (up to `now`): only then
        has an outcome to be recorded (every earlier one has its own already)."""
        since = bisect_right(self.starts, self.last_tick) if self.last_tick else 0
        return since < len(self.starts) and self.starts[since] <= now

    def run(self) -> None:
        end = START + timedelta(days=DAYS)  # the last appointment is on day DAYS - 1
        now = START
        day = -1
        while now <= end:
            new_day = (now - START).days != day
            if new_day:
                # As the clock does hourly: without them SQLite reads every message in
                # a state to find a few appointments' messages in it.
                with self.app.app_context():
                    refresh_statistics(db.session)
            self.tick(now)
            if new_day:
                day = (now - START).days
                _progress(day, self)
            now = self.next_tick(now)

    def next_tick(self, now: datetime) -> datetime:
        with self.app.app_context():
            candidate = next_due(now)
        booking = (
            self.bookings[self.to_book[self.booked]].booked_at
            if self.booked < len(self.to_book)
            else None
        )
        day_end = now + timedelta(hours=12)
        options = [t for t in [candidate, booking, day_end] if t is not None]
        return max(min(options), now + timedelta(minutes=5))

    def serve(self) -> None:
        """Serve the app from this process from now on, on the same socket, so that
        what staff ask for is queued for this process's worker."""
        self.web.stop()
        self.shards.stop()
        self.queue.sharding = False
        self.socket.setblocking(True)
        fd = self.socket.fileno()
        server = make_server("127.0.0.1", self.port, self.app, threaded=True, fd=fd)
        threading.Thread(target=server.serve_forever, name="demo-web", daemon=True).start()
        self.server = server

    def close(self) -> None:
        self.web.stop()
        self.shards.stop()
        if self.server is not None:
            self.server.shutdown()
        self.sim.stop()
        self.socket.close()


def _progress(day: int, demo: Demo) -> None:
    creates = demo.sim.stats()["creates"]
    click.echo(f"  day {day:2d}/{DAYS}: {creates} messages sent so far", err=True)


def run_demo(
    *, n_patients: int, seed: int, json_path: Path | None, serve: bool, database: Path
) -> None:
    """Run the month on a fresh SQLite file at `database` (replacing one there), print
    the summary (and write it to `json_path`), and with `serve` keep the app running."""
    started = time.monotonic()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("app").setLevel(logging.WARNING)
    demo = Demo(n_patients, seed, 5000 if serve else 0, database)
    click.echo(
        f"WeSaid demo: {n_patients} simulated patients, {DAYS} days from {START:%d %b %Y}", err=True
    )
    demo.setup()
    demo.web.wait_ready()
    demo.shards.wait_ready()
    demo.run()
    with demo.app.app_context():
        summary = summarise(demo.sim.stats()["duplicate_sends"], len(demo.personas))
        summary |= summarise_surveys(demo.behaviour)
        summary["experiment"] = summarise_experiment(str(EXPERIMENT["slug"]), demo.clock)
        summary["result_snapshots"] = store_snapshots(demo.clock.now())
        summary |= goals.summarise_goals(demo.goal_patients, demo.personas, seed, START, SERVED_AT)
        summary |= themes_of_the_month(seed, demo.clock.now())
    summary["public_page"] = f"/p/{ORGANISATION}"
    summary["elapsed_s"] = round(time.monotonic() - started, 2)
    print_summary(summary)
    if json_path is not None:
        json_path.write_text(json.dumps(summary, indent=2) + "\n")
        click.echo(f"summary written to {json_path}", err=True)
    if serve:
        demo.clock.set(SERVED_AT)
        demo.serve()
        with demo.app.app_context():
            email, password = demo_admin(demo.clock)
            dashboards = dashboard_urls(f"http://127.0.0.1:{demo.port}")
        click.echo("", err=True)
        click.echo(f"The staff workspace: http://127.0.0.1:{demo.port}/staff/", err=True)
        click.echo(f"  demo admin: {email}", err=True)
        click.echo(f"  password:   {password}", err=True)
        click.echo(f"The demo's month ({START:%B %Y}) for the whole trust:", err=True)
        for name, url in dashboards.items():
            click.echo(f"  {name + ':':<13} {url}", err=True)
        click.echo("(development only: no second factor; Ctrl-C to stop)", err=True)
        # Until Ctrl-C (which the worker takes as its signal to stop), the worker makes
        # what staff ask for on the pages: a board report is made in the background.
        demo.worker.work(logging_level="WARNING")
    demo.close()
