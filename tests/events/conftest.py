"""Fixtures of the events tests: a clinic with a booked patient, a webhook receiver and
a FHIR server (both real HTTP servers on 127.0.0.1), and a worker that runs the
delivery jobs the clock's sweep queued."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select

from app.appointments.models import Appointment
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.events import service
from app.events.models import Delivery, Event
from app.events.outbox import DeliverySweep, sweep_deliveries
from app.extensions import db
from app.messaging.inbox import process_inbound, store_inbound
from app.patients.models import Patient
from app.queueing import QueueName
from app.runtime import get_runtime
from tests.events.fhir_server import FhirServer
from tests.events.receiver import Receiver
from tests.world import World
from workers.worker import InProcessWorker, bind

APPOINTMENT_AT = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
STAFF = Actor(address="127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture
def fhir() -> Iterator[FhirServer]:
    with FhirServer().running() as running:
        yield running


@dataclass
class Booked:
    clinic: Clinic
    patient: Patient
    appointment: Appointment


@pytest.fixture
def booked(world: World) -> Booked:
    """North clinic, patient P-1 (a Welsh name and a number the events must not carry),
    and appointment APPT-1 a week ahead."""
    clinic = world.clinic("north")
    patient = world.patient(clinic, "P-1", given_name="Gwenllian", family_name="Prys")
    appointment = world.book(clinic, "APPT-1", "P-1", APPOINTMENT_AT)
    return Booked(clinic, patient, appointment)


def subscribe(clinic: Clinic, url: str, *types: str, now: datetime) -> tuple[int, str]:
    subscription, secret = service.subscribe(
        clinic,
        service.NewSubscription(url, list(types)),
        STAFF,
        now,
        allow_loopback_http=True,
    )
    return subscription.id, secret


def reply(booked: Booked, body: str, clock: FixedClock, sid: str = "SM" + "1" * 32) -> None:
    """The patient texts `body` to the clinic, and the reply is processed."""
    inbound_id, _created, _patient = store_inbound(
        provider_sid=sid,
        from_number=booked.patient.phone,
        to_number=booked.clinic.sender,
        body=body,
        messaging_service_sid=None,
        channel=Channel.SMS,
        now=clock.now(),
    )
    db.session.commit()
    process_inbound(inbound_id, clock)


def events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.id)))


def deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


class Courier:
    """Sweeps the outbox as the clock does, and runs the queued jobs as a worker does."""

    def __init__(self, app: Flask, redis_conn: Redis) -> None:
        self.app = app
        self.runtime = get_runtime(app)
        bind(app)
        self.worker = InProcessWorker(
            [self.runtime.queue.queue(QueueName.MAINTENANCE)], connection=redis_conn
        )

    def sweep(self) -> DeliverySweep:
        return sweep_deliveries(self.runtime.clock, self.runtime.queue)

    def run_jobs(self) -> None:
        self.worker.work(burst=True, logging_level="WARNING")
        failed = self.runtime.queue.queue(QueueName.MAINTENANCE).failed_job_registry
        assert failed.count == 0, "a delivery job failed"

    def round(self) -> DeliverySweep:
        """One sweep and the jobs it queued."""
        report = self.sweep()
        self.run_jobs()
        db.session.expire_all()
        return report


@pytest.fixture
def courier(app: Flask, redis_conn: Redis) -> Courier:
    app.config["EVENT_TIMEOUTS"] = (2.0, 0.5)
    return Courier(app, redis_conn)


def json_of(body: bytes) -> Any:
    return json.loads(body)
