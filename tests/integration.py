"""End-to-end harness: the app served over HTTP, the Twilio simulator, a real RQ worker.

`running_harness` starts the simulator, builds the app pointed at it (the real `twilio`
SDK, signed webhooks checked against PUBLIC_BASE_URL), serves the app with werkzeug on
a free loopback port so the simulator's webhooks reach it, and binds the app for jobs.
Work runs through RQ's SimpleWorker on the test Redis, in this process. Clinics,
patients and appointments are made with the real services. Time is the FixedClock: the
simulator reads it too, so the provider's timestamps agree with the app's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from redis import Redis
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app.appointments.imports import import_appointment_rows
from app.appointments.models import Appointment
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.sweeps import SweepReport, sweep
from app.patients.consent import is_opted_out
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.queueing import WORKER_QUEUES
from app.runtime import Runtime, get_runtime
from app.simulator.delivery import WebhookPoster
from app.simulator.server import TwilioSimulator
from app.surveys.service import expire_sessions
from tests.conftest import make_test_app
from workers.jobs import reconcile as reconcile_job
from workers.worker import InProcessWorker, bind

ACCOUNT_SID = "AC" + "3" * 32
AUTH_TOKEN = "integration-auth-token"
CLINIC_SENDER = "+442071838750"
SOUTH_SENDER = "+441614960123"
#: A valid London number that no clinic owns.
STRANGER_SENDER = "+442071838751"
PATIENT_A = "+447400123456"
PATIENT_B = "+447400123457"
PATIENT_C = "+447400123458"
INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"

#: One reminder, the day before at 10:00 local time.
ONE_DAY_RULE: list[dict[str, Any]] = [
    {"name": "1d", "offset_minutes": 24 * 60, "delivery": "10:00"}
]
#: Tomorrow 14:00 (London is on GMT in early March, so local = UTC).
TOMORROW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
#: When the one-day reminder of TOMORROW is due, and when it expires.
REMINDER_DUE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
REMINDER_EXPIRES = TOMORROW - timedelta(hours=2)
#: Past the dispatcher's stale thresholds (claims and sends: 2 minutes; inbound: 30 s).
PAST_STALE = timedelta(minutes=3)
#: Past the reconciler's grace period for unknown sends (1 minute).
PAST_GRACE = timedelta(minutes=2)
#: Drain rounds before concluding that work never settles.
MAX_ROUNDS = 20


@dataclass(frozen=True)
class Person:
    """A patient as the tests know them: ids and the number, nothing that goes stale."""

    id: int
    clinic_id: int
    external_id: str
    phone: str


class _LateApp:
    """A WSGI callable whose app is set once the server's port (and so the app's public
    base URL) is known."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "the app is not built yet"
        return self.app(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@dataclass
class Harness:
    """The running system; methods act through the real services, jobs and HTTP."""

    app: Flask
    sim: TwilioSimulator
    clock: FixedClock
    base_url: str
    worker: InProcessWorker
    poster: WebhookPoster
    _people: int = field(default=0)
    _bookings: int = field(default=0)

    @property
    def runtime(self) -> Runtime:
        return get_runtime(self.app)

    # -- data through the real services ---------------------------------------------

    def add_clinic(
        self,
        slug: str = "north",
        sender: str = CLINIC_SENDER,
        rules: list[dict[str, Any]] | None = ONE_DAY_RULE,
    ) -> int:
        """A clinic in London; `rules=None` gives the default 7-day and 1-day reminders."""
        clinic = create_clinic(
            slug,
            name=f"{slug.title()} Clinic",
            timezone="Europe/London",
            sender=sender,
            clock=self.clock,
            reminder_rules=rules,
        )
        return clinic.id

    def add_patient(self, clinic_id: int, phone: str, locale: str = "en") -> Person:
        self._people += 1
        external_id = f"P{self._people:04d}"
        row = {"external_id": external_id, "phone": phone, "locale": locale}
        report = import_patient_rows(clinic_id, [row], source="test", strict=True, clock=self.clock)
        assert not report.errors, report.errors
        found = db.session.scalars(
            select(Patient.id).where(
                Patient.clinic_id == clinic_id, Patient.external_id == external_id
            )
        ).one()
        return Person(found, clinic_id, external_id, phone)

    def book(self, person: Person, starts_at: datetime) -> int:
        """Book an appointment through the importer, which plans its reminders."""
        self._bookings += 1
        external_id = f"A{self._bookings:04d}"
        row = {
            "external_id": external_id,
            "patient_external_id": person.external_id,
            "starts_at": starts_at.isoformat(),
        }
        report = import_appointment_rows(
            person.clinic_id, [row], source="test", strict=True, clock=self.clock
        )
        assert not report.errors, report.errors
        return db.session.scalars(
            select(Appointment.id).where(
                Appointment.clinic_id == person.clinic_id, Appointment.external_id == external_id
            )
        ).one()

    # -- running the system ----------------------------------------------------------

    def sweep(self) -> SweepReport:
        """One pass of the clock's sweeps: the outbox and inbox, and open conversations."""
        report = sweep(self.runtime.clock, self.runtime.queue)
        expire_sessions(self.clock.now())
        return report

    def drain(self) -> None:
        """Run queued jobs and let the simulator post its webhooks until all is quiet.

        Raises AssertionError with the traceback if any job failed.
        """
        queues = [self.runtime.queue.queue(name) for name in WORKER_QUEUES]
        for _ in range(MAX_ROUNDS):
            assert self.sim.flush(), "the simulator did not settle"
            self.worker.work(burst=True, logging_level="WARNING")
            assert self.sim.flush(), "the simulator did not settle"
            _raise_failed_jobs(queues)
            if not any(q.count for q in queues):
                return
        raise AssertionError("jobs kept coming; the system never settled")

    def advance_to(self, instant: datetime) -> SweepReport:
        """Move the clock, sweep, and run everything that follows."""
        self.clock.set(instant)
        report = self.sweep()
        self.drain()
        return report

    def advance(self, delta: timedelta) -> SweepReport:
        return self.advance_to(self.clock.now() + delta)

    def reconcile(self) -> dict[str, int]:
        """Run the reconcile job (as the clock queues it), then whatever it queued."""
        counts = reconcile_job()
        self.drain()
        return counts

    def reply(self, phone: str, body: str, to: str = CLINIC_SENDER) -> str:
        """A patient texts in through the simulator; returns the MessageSid."""
        sid = self.sim.inject_inbound(phone, to, body)
        self.drain()
        return sid

    def post(self, path: str, form: Mapping[str, str]) -> int | None:
        """POST a webhook signed as Twilio signs it; returns the app's status code."""
        kind = "status" if path.startswith(STATUS_PATH) else "inbound"
        return self.poster.post(kind, self.base_url + path, form)

    # -- reading what happened -------------------------------------------------------

    def outbox(self, **where: Any) -> list[OutboundMessage]:
        """Outbound rows, oldest first, read fresh; `where` filters by column value."""
        db.session.expire_all()
        query = select(OutboundMessage).filter_by(**where).order_by(OutboundMessage.id)
        return list(db.session.scalars(query))

    def message(self, message_id: int) -> OutboundMessage:
        [row] = self.outbox(id=message_id)
        return row

    def inbox(self, **where: Any) -> list[InboundMessage]:
        db.session.expire_all()
        query = select(InboundMessage).filter_by(**where).order_by(InboundMessage.id)
        return list(db.session.scalars(query))

    def appointment(self, appointment_id: int) -> Appointment:
        db.session.expire_all()
        found = db.session.get(Appointment, appointment_id)
        assert found is not None
        return found

    def opted_out(self, person: Person) -> bool:
        db.session.expire_all()
        return is_opted_out(person.id, person.clinic_id, "sms")

    def creates(self, phone: str) -> int:
        """Messages the provider holds for `phone` (refused creates do not count)."""
        return self.sim.creates_to(phone, stored_only=True)


def _raise_failed_jobs(queues: list[Any]) -> None:
    for queue in queues:
        registry = queue.failed_job_registry
        for job_id in registry.get_job_ids():
            job = queue.fetch_job(job_id)
            info = job.latest_result().exc_string if job and job.latest_result() else "?"
            raise AssertionError(f"job {job_id} failed:\n{info}")


@contextmanager
def running_harness(
    database_url: str, clock: FixedClock, redis_conn: Redis, **extra: Any
) -> Iterator[Harness]:
    """Start everything; stop it all and release every database connection on exit.

    Use it inside a test that also takes the `app` fixture, which creates and empties
    the tables around the test.
    """
    sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, seed=11, clock=clock.now)
    sim_url = sim.start()
    late = _LateApp()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, late, threaded=True, request_handler=_QuietHandler
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = make_test_app(
        database_url,
        clock,
        redis_conn,
        PUBLIC_BASE_URL=base_url,
        TWILIO_API_BASE=sim_url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        LOG_LEVEL="ERROR",
    )
    late.app = app
    sim.inbound_url = base_url + INBOUND_PATH
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    bind(app)
    runtime = get_runtime(app)
    worker = InProcessWorker(
        [runtime.queue.queue(name) for name in WORKER_QUEUES], connection=redis_conn
    )
    poster = WebhookPoster(AUTH_TOKEN)
    context = app.app_context()
    context.push()
    try:
        yield Harness(app, sim, clock, base_url, worker, poster)
    finally:
        sim.stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5.0)
        poster.close()
        db.session.remove()
        db.engine.dispose()
        context.pop()
