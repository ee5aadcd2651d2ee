"""`wesaid demo`: a simulated month of reminders and replies on the embedded default.

Everything but the phone network is the production path: a SQLite file migrated with
the real migrations, the real import services, the clock's sweep, a real RQ worker on
an in-process Redis, the real `twilio` SDK talking to the simulator over loopback, and
signed webhooks from the simulator into the app over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import random
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.appointments.imports import import_appointment_rows
from app.audit.service import SYSTEM
from app.clinics import accounts
from app.clinics.queries import find_organisation, get_clinic_by_slug
from app.clinics.roles import Role
from app.clinics.service import create_clinic, ensure_organisation
from app.core.clock import FixedClock
from app.demo import goals, themes
from app.demo.outcomes import next_due, record_outcomes, summarise
from app.demo.results import store_snapshots, summarise_experiment, summarise_surveys
from app.experiments.queries import find_experiment
from app.experiments.service import create_experiment
from app.experiments.spec import parse_definition as parse_experiment
from app.extensions import db
from app.messaging.sweeps import sweep
from app.patients.service import import_patient_rows
from app.queueing import WORKER_QUEUES
from app.runtime import get_runtime
from app.simulator import goals as simulated_goals
from app.simulator.population import Behaviour, Persona, generate_population
from app.simulator.process import SimulatorProcess
from app.surveys.service import expire_sessions
from workers.worker import InProcessWorker, bind

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday; the clocks go forward on 29 March
DAYS = 28
#: Where the clock stands while `--serve` keeps the app running: the morning after the
#: demo's month (March) ends, so that the month's board report can be made.
SERVED_AT = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
ACCOUNT_SID = "AC" + "d" * 32
#: The demo's organisation (a trust): its slug and the name pages and reports show.
ORGANISATION = "demo-trust"
ORGANISATION_NAME = "WeSaid Demo Trust"
CLINICS = (
    ("north", "North Street Clinic", "+442071838750"),
    ("south", "South Road Clinic", "+441614960123"),
)
#: Seconds one round of deliveries may take before the demo gives up: a round left
#: unfinished would make the run differ from the next one with the same seed.
FLUSH_TIMEOUT = 600.0
#: Patients with a landline only: they are called (key presses for replies).
LANDLINE_SHARE = 0.03
#: Mobile users who prefer WhatsApp, and the web form for surveys.
APP_SHARES = (0.08, 0.08)
#: The clinics' approved WhatsApp templates (Content SIDs) for use outside the 24-hour
#: window, and their text as WhatsApp would hold it.
WHATSAPP_TEMPLATES = {
    "reminder": "HX" + "7e" * 16,
    "survey_invite": "HX" + "5f" * 16,
}
#: A two-arm reminder-wording experiment over the month: B states what a missed
#: appointment costs. The simulator gives that wording a true effect (see Behaviour).
EXPERIMENT: dict[str, Any] = {
    "slug": "cost-wording",
    "title": "Stating the cost of a missed appointment",
    "clinics": [slug for slug, _name, _sender in CLINICS],
    "seed": "demo-cost-wording",
    "starts_at": START.isoformat(),
    "baseline": 0.111,
    "min_difference": 0.027,
    "looks": 3,
    "arms": [
        {"name": "standard", "weight": 1},
        {
            "name": "cost",
            "weight": 1,
            "reminder": {
                "en": (
                    "%(clinic)s: your appointment is on %(date)s at %(time)s. A missed "
                    "appointment costs the NHS £160. Reply 1 to confirm, 2 to cancel or 3 to "
                    "ask for a new time. Reply STOP to opt out."
                )
            },
        },
    ],
}
TEMPLATE_TEXTS = {
    WHATSAPP_TEMPLATES["reminder"]: (
        "{{1}}: your appointment is on {{2}} at {{3}}. Reply 1 to confirm, 2 to cancel or 3 "
        "to ask for a new time. Reply STOP to opt out."
    ),
    WHATSAPP_TEMPLATES["survey_invite"]: (
        "{{1}}: thank you for your visit. Overall, how was your experience of our service? "
        "Reply with a number: 1 Very good, 2 Good, 3 Neither good nor poor, 4 Poor, "
        "5 Very poor, 6 Don't know."
    ),
}


@dataclass
class Booking:
    clinic: str
    external_id: str
    patient_external_id: str
    starts_at: datetime
    booked_at: datetime
    #: Imported into the clinic's system yet.
    done: bool = False
    #: The pathway, when not the clinic's usual one.
    pathway: str = ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clinic_of(personas: list[Persona]) -> dict[str, str]:
    """Each patient's clinic (by external id): the two clinics take turns."""
    return {p.external_id: CLINICS[index % 2][0] for index, p in enumerate(personas)}


def _bookings(
    personas: list[Persona], rng: random.Random, goal_visits: list[goals.Visit]
) -> list[Booking]:
    """One appointment per patient (some two), over four weeks, mostly booked ahead;
    the patients of the goals pathway come weekly instead, booked from the start."""
    bookings: list[Booking] = []
    clinic_of = _clinic_of(personas)
    on_pathway = {visit.patient_external_id for visit in goal_visits}
    for index, persona in enumerate(personas):
        clinic = CLINICS[index % 2][0]
        for n in range(1 if rng.random() > 0.15 else 2):
            day = rng.randint(1, DAYS - 1)
            slot = timedelta(hours=9 + rng.randint(0, 15) * 0.5)
            starts_at = START.replace(hour=0) + timedelta(days=day) + slot
            lead = (
                timedelta(hours=rng.choice([6, 12, 20]))
                if rng.random() < 0.12
                else timedelta(days=30)
            )
            booked_at = max(START, (starts_at - lead).replace(minute=0))
            if persona.external_id not in on_pathway:
                bookings.append(
                    Booking(clinic, f"A{index:06d}-{n}", persona.external_id, starts_at, booked_at)
                )
    bookings += [
        Booking(
            clinic_of[visit.patient_external_id],
            f"G{visit.patient_external_id}-{visit.index}",
            visit.patient_external_id,
            visit.starts_at,
            START,
            pathway=simulated_goals.PATHWAY,
        )
        for visit in goal_visits
    ]
    return bookings


def build_app(database: Path, port: int, clock: FixedClock, sim_url: str, auth_token: str) -> Flask:
    """The demo's app: development, with secrets of its own for this run only. Staff sign
    in with a password alone (the second factor can be off in development only)."""
    return create_app(
        {
            "WESAID_ENV": "development",
            "STAFF_SECOND_FACTOR": False,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database.resolve()}",
            "REDIS_URL": None,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": auth_token,
            "TWILIO_API_BASE": sim_url,
            "CLOCK": clock,
            "SQLITE_SYNCHRONOUS": "NORMAL",
            # One connection: threads queue for it in Python instead of sleeping in
            # SQLite's busy handler when two of them want to write at once.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
            # Every simulated patient and Twilio itself come from 127.0.0.1, and the month
            # runs in a minute or two of real time: rate limits counted in real time
            # would refuse webhooks and form posts as the machine is faster, and the
            # month would come out differently from one machine to the next.
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )


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
        self.bookings = _bookings(self.personas, random.Random(seed), self.goal_visits)
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
        )
        sim_url = self.sim.base_url
        database.parent.mkdir(parents=True, exist_ok=True)
        self.database = database
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        self.port = port
        self.app = build_app(self.database, port, self.clock, sim_url, auth_token)
        self.sim.set_inbound_url(f"http://127.0.0.1:{port}/webhooks/twilio/sms")
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, name="demo-web", daemon=True).start()
        bind(self.app)
        runtime = get_runtime(self.app)
        self.worker = InProcessWorker(
            [runtime.queue.queue(name) for name in WORKER_QUEUES],
            connection=runtime.queue.connection,
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
                rows = [_patient_row(p) for p in self.personas[index::2]]
                clinic = get_clinic_by_slug(slug)
                report = import_patient_rows(
                    clinic.id, rows, source="demo", strict=True, clock=self.clock
                )
                if report.errors:
                    raise RuntimeError(f"demo patients refused: {report.errors[0]}")
            goals.set_goals(
                self.personas, self.goal_patients, _clinic_of(self.personas), self.seed, self.clock
            )

    def book_due(self, now: datetime) -> None:
        due = [b for b in self.bookings if b.booked_at <= now and not b.done]
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
        for b in due:
            b.done = True

    def drain(self) -> None:
        """Run jobs and let the simulator answer until nothing is left to do.

        The simulator holds whatever it would deliver until it is flushed, so each round
        has two steps that never overlap: the worker sends (and handles the replies of
        the round before), then the carrier delivers, calls back, rings and answers.
        Each patient's webhooks come one at a time, in the same order on every run, so
        what the app sees depends on the seed and not on how threads happen to run.
        """
        runtime = get_runtime(self.app)
        while True:
            self.worker.work(burst=True, logging_level="WARNING")
            if not self.sim.flush(timeout=FLUSH_TIMEOUT):
                raise RuntimeError(f"the simulator did not deliver within {FLUSH_TIMEOUT:.0f} s")
            if not any(runtime.queue.queue(q).count for q in WORKER_QUEUES):
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
        with self.app.app_context():
            record_outcomes(self.behaviour, now, self.clock)

    def run(self) -> None:
        end = START + timedelta(days=DAYS)  # the last appointment is on day DAYS - 1
        now = START
        day = -1
        while now <= end:
            self.tick(now)
            if (now - START).days != day:
                day = (now - START).days
                _progress(day, self)
            now = self.next_tick(now)

    def next_tick(self, now: datetime) -> datetime:
        with self.app.app_context():
            candidate = next_due(now)
        bookings = [b.booked_at for b in self.bookings if not b.done]
        day_end = now + timedelta(hours=12)
        options = [t for t in [candidate, min(bookings, default=None), day_end] if t is not None]
        return max(min(options), now + timedelta(minutes=5))

    def close(self) -> None:
        self.server.shutdown()
        self.sim.stop()


#: Names for the demo's patients, so the workspace reads as it would in a clinic. Drawn
#: from the external id, not the population's random stream: the month runs the same.
GIVEN_NAMES = (
    "Amara", "Ben", "Chen", "Dafydd", "Eilidh", "Farah", "Gareth", "Hana", "Imran", "Joanna",
    "Kemi", "Lukas", "Maryam", "Niamh", "Oluwaseun", "Priya", "Rhys", "Sofia", "Tomasz", "Yusuf",
)  # fmt: skip
FAMILY_NAMES = (
    "Abdi", "Begum", "Campbell", "Davies", "Evans", "Fernandes", "Green", "Hughes", "Igwe",
    "Jones", "Kowalski", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Rahman", "Silva",
    "Thomas", "Williams",
)  # fmt: skip


def _demo_name(external_id: str) -> tuple[str, str]:
    digest = hashlib.sha256(external_id.encode()).digest()
    return GIVEN_NAMES[digest[0] % len(GIVEN_NAMES)], FAMILY_NAMES[digest[1] % len(FAMILY_NAMES)]


def _patient_row(p: Persona) -> dict[str, Any]:
    given, family = _demo_name(p.external_id)
    return {
        "given_name": given,
        "family_name": family,
        "external_id": p.external_id,
        "phone": p.phone,
        "channel": p.channel,
        "locale": p.locale,
        "birth_year": p.birth_year,
        "sex": p.sex,
        "ethnic_category": p.ethnic_category,
        "imd_quintile": p.imd_quintile,
    }


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
    demo = Demo(n_patients, seed, 5000 if serve else _free_port(), database)
    click.echo(
        f"WeSaid demo: {n_patients} simulated patients, {DAYS} days from {START:%d %b %Y}", err=True
    )
    demo.setup()
    demo.run()
    with demo.app.app_context():
        summary = summarise(demo.sim.stats()["duplicate_sends"], len(demo.personas))
        summary |= summarise_surveys(demo.behaviour)
        summary["experiment"] = summarise_experiment(str(EXPERIMENT["slug"]), demo.clock)
        summary["result_snapshots"] = store_snapshots(demo.clock.now())
        summary |= goals.summarise_goals(demo.goal_patients, demo.personas, seed, START, SERVED_AT)
        summary |= _summarise_themes(seed, demo.clock.now())
    summary["public_page"] = f"/p/{ORGANISATION}"
    summary["elapsed_s"] = round(time.monotonic() - started, 2)
    _print_summary(summary)
    if json_path is not None:
        json_path.write_text(json.dumps(summary, indent=2) + "\n")
        click.echo(f"summary written to {json_path}", err=True)
    if serve:
        demo.clock.set(SERVED_AT)
        with demo.app.app_context():
            email, password = _demo_admin(demo.clock)
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


def _summarise_themes(seed: int, now: datetime) -> dict[str, Any]:
    organisation = find_organisation(ORGANISATION)
    assert organisation is not None
    survey = get_clinic_by_slug(CLINICS[0][0]).survey_slug or "fft"
    return themes.summarise_themes(organisation.id, survey, seed, now)


def dashboard_urls(base: str) -> dict[str, str]:
    """The dashboards of the demo's organisation for its month, by name: weighted
    results, who is not heard, themes, goal outcomes, the wording experiment, the page
    that makes the month's board report (the month it offers first, once the clock is
    at SERVED_AT), and the trust's public "you said, we did" page."""
    organisation = find_organisation(ORGANISATION)
    experiment = find_experiment(str(EXPERIMENT["slug"]))
    assert organisation is not None
    assert experiment is not None
    survey = get_clinic_by_slug(CLINICS[0][0]).survey_slug or "fft"
    month = f"{START:%Y-%m}"
    results = f"where=organisation:{organisation.id}&survey={survey}&month={month}"
    return {
        "results": f"{base}/staff/results?{results}",
        "not heard": f"{base}/staff/results/heard?{results}",
        "themes": f"{base}/staff/themes?where=organisation:{organisation.id}&month={month}",
        "goals": f"{base}/staff/goals?where=organisation:{organisation.id}&first={month}"
        f"&last={month}",
        "experiment": f"{base}/staff/experiments/{experiment.id}",
        "board report": f"{base}/staff/reports",
        "public page": f"{base}/p/{ORGANISATION}",
    }


def _demo_admin(clock: FixedClock) -> tuple[str, str]:
    """An admin of the demo's organisation, with a password made for this run."""
    email = "admin@demo.wesaid.invalid"
    password = secrets.token_urlsafe(12)
    invitation = accounts.invite(
        email, ORGANISATION, Role.ADMIN, (), clock, SYSTEM, name="Demo Admin"
    )
    accounts.set_password(invitation.secret, password, clock, SYSTEM)
    return email, password


def _print_summary(summary: dict[str, Any]) -> None:
    width = max(len(k) for k in summary)
    click.echo("")
    for key, value in summary.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value}")
    sys.stdout.flush()
