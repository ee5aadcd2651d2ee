"""Erasure reaches Twilio: the whole system runs (the clock's sweep, an RQ worker, the
real `twilio` SDK, the simulator and signed webhooks), and the simulator shows the
message texts blanked and the call records deleted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from app.audit.service import SYSTEM
from app.core.clock import FixedClock
from app.core.erasure import EraseOutcome
from app.extensions import db
from app.messaging.channels.twilio_common import TwilioSettings, build_client
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.privacy import service as privacy
from app.privacy.models import ErasureKind, ErasureState, ProviderErasure
from app.queueing import QueueName
from tests.integration import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PATIENT_A,
    PATIENT_B,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    Person,
    running_harness,
)
from workers.clock import schedule

LANDLINE = "+441134960123"


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _sdk(h: Harness) -> Any:
    """A client of our own, as an operator looking at the Twilio account would use."""
    return build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=h.sim.base_url))


def _voice_patient(h: Harness, clinic_id: int) -> Person:
    row = {"external_id": "V1", "phone": LANDLINE, "locale": "en", "channel": "voice"}
    report = import_patient_rows(clinic_id, [row], source="test", strict=True, clock=h.clock)
    assert not report.errors, report.errors
    patient_id = db.session.scalars(select(Patient.id).where(Patient.phone == LANDLINE)).one()
    return Person(patient_id, clinic_id, "V1", LANDLINE)


def _erasures(person: Person) -> list[ProviderErasure]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ProviderErasure)
            .where(ProviderErasure.patient_id == person.id)
            .order_by(ProviderErasure.id)
        )
    )


def _clock_task(h: Harness) -> None:
    """The clock's periodic task for provider erasures, then the jobs it queued."""
    [task] = [t for t in schedule(5.0) if t.name == "provider erasures"]
    task.run(h.runtime)
    h.drain()


def test_erasure_deletes_the_texts_and_their_numbers_at_twilio(h: Harness) -> None:
    clinic_id = h.add_clinic()
    person, other = h.add_patient(clinic_id, PATIENT_A), h.add_patient(clinic_id, PATIENT_B)
    h.book(person, TOMORROW)
    h.book(other, TOMORROW)
    h.advance_to(REMINDER_DUE)
    reply_sid = h.reply(PATIENT_A, "1")  # confirms, and gets an answer
    theirs = [m.provider_sid for m in h.outbox(patient_id=person.id) if m.provider_sid]
    others = [m.provider_sid for m in h.outbox(patient_id=other.id) if m.provider_sid]
    assert len(theirs) == 2
    assert all(h.sim.messages.find(s).body for s in [*theirs, reply_sid])  # type: ignore[union-attr]

    report = privacy.erase_patient(person.id, h.clock, SYSTEM, h.runtime.queue)
    assert h.runtime.queue.queue(QueueName.MAINTENANCE).count == 1
    h.drain()

    sdk = _sdk(h)
    for sid in [*theirs, reply_sid]:
        assert h.sim.messages.find(sid) is None
        with pytest.raises(TwilioRestException) as gone:
            sdk.messages(sid).fetch()
        assert gone.value.status == 404
    assert [h.sim.messages.find(s).body != "" for s in others] == [True]  # type: ignore[union-attr]
    assert PATIENT_A not in {m.to for m in h.sim.messages.all()} | {
        m.from_number for m in h.sim.messages.all()
    }
    rows = _erasures(person)
    assert report.counts["at_provider"] == len(rows) == 3
    assert {(r.kind, r.state, r.last_outcome) for r in rows} == {
        (ErasureKind.MESSAGE, ErasureState.DONE, EraseOutcome.ERASED.value)
    }
    assert [m.body for m in h.outbox(patient_id=person.id)] == [None, None]
    assert [m.body for m in h.inbox(provider_sid=reply_sid)] == [None]


def test_erasure_deletes_the_call_records_at_twilio(h: Harness) -> None:
    person = _voice_patient(h, h.add_clinic())
    h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    [call] = h.outbox(kind="reminder")
    assert call.channel == "voice"
    call_sid = call.provider_sid or ""
    assert h.sim.calls.find(call_sid) is not None

    privacy.erase_patient(person.id, h.clock, SYSTEM, h.runtime.queue)
    h.drain()

    assert h.sim.calls.find(call_sid) is None
    with pytest.raises(TwilioRestException) as gone:
        _sdk(h).calls(call_sid).fetch()
    assert gone.value.status == 404
    [row] = _erasures(person)
    assert (row.kind, row.state, row.provider_sid) == (
        ErasureKind.CALL,
        ErasureState.DONE,
        call_sid,
    )


def test_a_call_still_under_way_is_deleted_once_it_has_ended(h: Harness) -> None:
    person = _voice_patient(h, h.add_clinic())
    h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    [call] = h.outbox(kind="reminder")
    call_sid = call.provider_sid or ""
    h.sim.calls.update(call_sid, status="in-progress")

    privacy.erase_patient(person.id, h.clock, SYSTEM, h.runtime.queue)
    h.drain()

    [row] = _erasures(person)
    assert (row.state, row.attempts, row.last_outcome) == (ErasureState.PENDING, 1, "not_yet")
    assert row.next_attempt_at == h.clock.now() + timedelta(minutes=5)
    assert h.sim.calls.find(call_sid) is not None
    _clock_task(h)  # not due yet: nothing is asked
    assert _erasures(person)[0].attempts == 1

    h.sim.calls.update(call_sid, status="completed")
    h.clock.advance(timedelta(minutes=5))
    _clock_task(h)

    [row] = _erasures(person)
    assert (row.state, row.attempts) == (ErasureState.DONE, 2)
    assert h.sim.calls.find(call_sid) is None


def test_a_lost_job_is_queued_again_by_the_clock(h: Harness) -> None:
    clinic_id = h.add_clinic()
    person = h.add_patient(clinic_id, PATIENT_A)
    h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    [reminder] = h.outbox(kind="reminder")

    privacy.erase_patient(person.id, h.clock, SYSTEM, queue=None)  # as if Redis lost it
    assert [r.state for r in _erasures(person)] == [ErasureState.PENDING]
    _clock_task(h)

    assert [r.state for r in _erasures(person)] == [ErasureState.DONE]
    assert h.sim.messages.find(reminder.provider_sid or "") is None


def test_a_message_that_was_on_its_way_is_erased_afterwards(h: Harness) -> None:
    clinic_id = h.add_clinic()
    person = h.add_patient(clinic_id, PATIENT_A)
    h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    privacy.erase_patient(person.id, h.clock, SYSTEM, h.runtime.queue)
    h.drain()
    # A send that was under way at the moment of erasure records its sid and text later.
    late = _sdk(h).messages.create(to=PATIENT_A, from_="+442071838750", body="Late text")
    [reminder] = h.outbox(kind="reminder")
    reminder.provider_sid, reminder.body = late.sid, "Late text"
    db.session.commit()

    _clock_task(h)

    assert h.message(reminder.id).body is None
    assert h.sim.messages.find(late.sid) is None
    assert [r.state for r in _erasures(person)] == [ErasureState.DONE, ErasureState.DONE]
