"""Sending end to end: the clock's sweep, an RQ worker, the twilio SDK and the simulator,
whose signed status callbacks come back to the app over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from redis import Redis

from app.appointments.models import Appointment
from app.appointments.service import move_appointment
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.states import MessageState
from app.patients.models import ConsentEvent
from app.simulator.faults import CreateOutcome
from tests.integration import (
    PAST_GRACE,
    PATIENT_A,
    REMINDER_DUE,
    REMINDER_EXPIRES,
    TOMORROW,
    Harness,
    Person,
    running_harness,
)


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _one_reminder(h: Harness) -> tuple[Person, int]:
    """Patient A, booked for tomorrow: one reminder, due at 10:00 today."""
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    [reminder] = h.outbox(kind="reminder")
    return person, reminder.id


def test_due_reminder_is_sent_once_and_delivered(h: Harness) -> None:
    _person, message_id = _one_reminder(h)
    assert h.advance(timedelta(minutes=59)).claimed == 0
    report = h.advance_to(REMINDER_DUE)
    h.advance(timedelta(minutes=10))
    row = h.message(message_id)
    [entry] = h.sim.ledger
    assert report.claimed == 1
    assert (row.state, row.attempts, row.provider_sid) == (MessageState.DELIVERED, 1, entry.sid)
    assert row.body is not None
    assert "Tuesday 3 March at 14:00" in row.body
    assert entry.body == row.body
    assert entry.status_callback == f"{h.base_url}/webhooks/twilio/status?m={message_id}"
    # The app's validity (4 hours) is shorter than the time left before expiry (26 hours).
    assert entry.validity_period == 4 * 3600
    assert h.sim.duplicate_sends() == 0


@pytest.mark.parametrize(
    ("code", "opted_out"),
    [(21211, False), (21614, False), (21408, False), (21610, True)],
)
def test_provider_refusals_fail_at_once(h: Harness, code: int, opted_out: bool) -> None:
    person, message_id = _one_reminder(h)
    h.sim.faults.reject_numbers = {PATIENT_A: code}
    h.advance_to(REMINDER_DUE)
    h.advance(timedelta(hours=1))
    row = h.message(message_id)
    sources = list(db.session.scalars(db.select(ConsentEvent.source)))
    assert (row.state, row.error_code, row.attempts) == (MessageState.FAILED, code, 1)
    assert (len(h.sim.ledger), h.creates(PATIENT_A)) == (1, 0)
    assert h.opted_out(person) is opted_out
    assert sources == (["provider"] if opted_out else [])


def test_rate_limited_send_waits_and_goes_out_on_a_later_sweep(h: Harness) -> None:
    _person, message_id = _one_reminder(h)
    h.sim.faults.rate_limit_next = 1
    h.advance_to(REMINDER_DUE)
    held = h.message(message_id)
    assert held.state is MessageState.PENDING
    assert REMINDER_DUE + timedelta(seconds=2) <= held.due_at <= REMINDER_DUE + timedelta(seconds=4)
    assert h.sweep().claimed == 0  # not yet due again
    assert h.advance(timedelta(seconds=5)).claimed == 1
    row = h.message(message_id)
    outcomes = [e.outcome for e in h.sim.ledger]
    assert (row.state, row.attempts) == (MessageState.DELIVERED, 2)
    assert outcomes == [CreateOutcome.RATE_LIMITED, CreateOutcome.ACCEPTED]
    assert (h.creates(PATIENT_A), h.sim.duplicate_sends()) == (1, 0)


@pytest.mark.parametrize(
    ("callbacks", "adopted"),
    [
        pytest.param(True, 0, id="callbacks-settle-it"),
        pytest.param(False, 1, id="reconciler-adopts-the-sid"),
    ],
)
def test_server_error_is_settled_without_a_second_create(
    h: Harness, callbacks: bool, adopted: int
) -> None:
    _person, message_id = _one_reminder(h)
    h.sim.faults.server_error_next = 1
    if not callbacks:
        h.sim.faults.callback_statuses = frozenset()
    h.advance_to(REMINDER_DUE)
    if not callbacks:
        assert h.message(message_id).state is MessageState.UNKNOWN
        assert h.message(message_id).provider_sid is None
    h.advance(PAST_GRACE)
    counts = h.reconcile()
    h.advance(timedelta(minutes=5))
    row = h.message(message_id)
    [entry] = h.sim.ledger
    assert counts["adopted"] == adopted
    assert counts["requeued"] == 0
    assert (entry.outcome, row.provider_sid) == (CreateOutcome.SERVER_ERROR, entry.sid)
    assert row.state is MessageState.DELIVERED
    assert (h.creates(PATIENT_A), h.sim.duplicate_sends()) == (1, 0)


@pytest.mark.parametrize("claimed_first", [False, True], ids=["pending", "claimed"])
def test_expired_reminder_is_dropped_and_never_sent(h: Harness, claimed_first: bool) -> None:
    _person, message_id = _one_reminder(h)
    if claimed_first:
        h.clock.set(REMINDER_DUE)
        assert h.sweep().claimed == 1  # the job is queued but no worker runs yet
    h.clock.set(REMINDER_EXPIRES + timedelta(minutes=1))
    report = h.sweep()
    h.drain()
    row = h.message(message_id)
    assert report.expired == 1
    assert row.state is MessageState.EXPIRED
    assert h.sim.ledger == []


def test_job_that_runs_after_expiry_drops_the_message(h: Harness) -> None:
    _person, message_id = _one_reminder(h)
    h.clock.set(REMINDER_DUE)
    h.sweep()
    h.clock.set(REMINDER_EXPIRES)  # no sweep in between: the worker must check itself
    h.drain()
    row = h.message(message_id)
    assert (row.state, row.attempts) == (MessageState.EXPIRED, 1)
    assert h.sim.ledger == []


WEEK_AHEAD = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
MOVED_TO = datetime(2026, 3, 19, 14, 0, tzinfo=UTC)


def test_moving_an_appointment_replans_and_leaves_what_was_sent(h: Harness) -> None:
    clinic_id = h.add_clinic(rules=None)  # 7 days and 1 day before, at 10:00
    person = h.add_patient(clinic_id, PATIENT_A)
    appointment_id = h.book(person, WEEK_AHEAD)
    h.advance_to(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    appointment = db.session.get(Appointment, appointment_id)
    clinic = db.session.get(Clinic, clinic_id)
    assert appointment is not None
    assert clinic is not None
    move_appointment(appointment, clinic, MOVED_TO, h.clock)
    db.session.commit()
    rows = [(r.plan_version, r.rule, r.state, r.due_at) for r in h.outbox(kind="reminder")]
    assert rows == [
        (1, "7d", MessageState.DELIVERED, datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
        (1, "1d", MessageState.CANCELLED, datetime(2026, 3, 11, 10, 0, tzinfo=UTC)),
        (2, "7d", MessageState.PENDING, datetime(2026, 3, 12, 10, 0, tzinfo=UTC)),
        (2, "1d", MessageState.PENDING, datetime(2026, 3, 18, 10, 0, tzinfo=UTC)),
    ]
    assert h.advance_to(datetime(2026, 3, 11, 10, 0, tzinfo=UTC)).claimed == 0
    h.advance_to(datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    [_old, _cancelled, new, _later] = h.outbox(kind="reminder")
    assert new.state is MessageState.DELIVERED
    assert new.body is not None
    assert "Thursday 19 March at 14:00" in new.body
    assert h.creates(PATIENT_A) == 2


def test_retried_send_keeps_the_carriers_error_code(h: Harness) -> None:
    """A 429 on the first try is not the message's error: the carrier's code is."""
    _person, message_id = _one_reminder(h)
    h.sim.faults.rate_limit_next = 1
    h.sim.faults.undelivered_numbers = {PATIENT_A: 30003}
    h.advance_to(REMINDER_DUE)
    h.advance(timedelta(seconds=5))
    row = h.message(message_id)
    assert row.state is MessageState.UNDELIVERED
    assert row.error_code == 30003


def test_ambiguous_send_keeps_the_carriers_error_code(h: Harness) -> None:
    """A 500 on create is not the message's error: the carrier's code is."""
    _person, message_id = _one_reminder(h)
    h.sim.faults.server_error_next = 1
    h.sim.faults.undelivered_numbers = {PATIENT_A: 30003}
    h.sim.faults.callback_statuses = frozenset()  # the reconciler alone settles it
    h.advance_to(REMINDER_DUE)
    h.advance(PAST_GRACE)
    assert h.reconcile()["adopted"] == 1
    row = h.message(message_id)
    assert row.state is MessageState.UNDELIVERED
    assert row.error_code == 30003
