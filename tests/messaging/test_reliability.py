"""Never twice, never lost: workers that die, a Redis that forgets, replayed jobs.

A dying worker is a forked child process that runs the real send job with the real
Twilio channel and ends with `os._exit` either before the provider call or just after
the provider accepted the message. The parent then plays the clock: sweeps after the
stale thresholds and runs the reconciler, and the simulator's ledger shows how many
times the message really went out.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

import pytest
from flask import Flask
from redis import Redis

from app.core.channels import OutboundRequest, ProviderMessage, SendResult, StatusUpdate
from app.core.clock import FixedClock
from app.messaging.channels.registry import twilio_settings
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from app.messaging.states import InboundState, MessageState
from app.queueing import JobName, QueueName
from app.runtime import get_runtime
from tests.integration import (
    CLINIC_SENDER,
    PAST_GRACE,
    PAST_STALE,
    PATIENT_A,
    PATIENT_B,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    running_harness,
)
from workers.jobs import send_messages
from workers.worker import bound_app

KILLED = 1


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


class DyingChannel:
    """The real SMS channel in a worker that is killed around the provider call."""

    name = "sms"

    def __init__(self, real: TwilioSMSChannel, *, after_send: bool) -> None:
        self._real = real
        self._after_send = after_send

    def send(self, request: OutboundRequest) -> SendResult:
        if self._after_send:
            self._real.send(request)
        os._exit(KILLED)

    def parse_status(self, form: Mapping[str, str]) -> StatusUpdate | None:
        return self._real.parse_status(form)

    def verify(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        return self._real.verify(url, form, signature)

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        return self._real.list_messages(to=to, from_=from_, since=since)


def _die_while_sending(message_id: int, after_send: bool) -> None:
    # In the child: a fresh Twilio client (no connection shared with the parent), then
    # the real job, which gets its own database connections in a forked process.
    app = bound_app()
    runtime = get_runtime(app)
    real = TwilioSMSChannel(twilio_settings(app.config))
    runtime.channels["sms"] = DyingChannel(real, after_send=after_send)
    send_messages(message_id)


def _run_dying_worker(message_id: int, after_send: bool) -> int | None:
    child = multiprocessing.get_context("fork").Process(
        target=_die_while_sending, args=(message_id, after_send)
    )
    child.start()
    child.join(timeout=20)
    return child.exitcode


def _booked(h: Harness, phone: str = PATIENT_A) -> int:
    """One patient booked for tomorrow; returns the id of their one reminder."""
    clinic_id = h.add_clinic()
    h.book(h.add_patient(clinic_id, phone), TOMORROW)
    [reminder] = h.outbox(kind="reminder")
    return reminder.id


@pytest.mark.parametrize(
    ("after_send", "callbacks", "state_after_crash", "counts"),
    [
        pytest.param(
            False, True, MessageState.SENDING, {"requeued": 1, "adopted": 0}, id="before-the-call"
        ),
        pytest.param(
            True,
            True,
            MessageState.DELIVERED,
            {"requeued": 0, "adopted": 0},
            id="after-accept-callbacks-settle-it",
        ),
        pytest.param(
            True,
            False,
            MessageState.SENDING,
            {"requeued": 0, "adopted": 1},
            id="after-accept-reconciler-adopts",
        ),
    ],
)
def test_killed_worker_sends_exactly_once(
    h: Harness,
    after_send: bool,
    callbacks: bool,
    state_after_crash: MessageState,
    counts: dict[str, int],
) -> None:
    message_id = _booked(h)
    if not callbacks:
        h.sim.faults.callback_statuses = frozenset()
    h.clock.set(REMINDER_DUE)
    assert h.sweep().claimed == 1
    h.runtime.queue.connection.flushdb()  # the queued job goes to the dying worker instead
    assert _run_dying_worker(message_id, after_send) == KILLED
    assert h.sim.flush()
    assert h.message(message_id).state is state_after_crash
    stuck = h.advance(PAST_STALE).unknown
    assert stuck == (1 if state_after_crash is MessageState.SENDING else 0)
    h.clock.advance(PAST_GRACE)
    found = h.reconcile()
    h.advance(timedelta(seconds=1))  # a requeued message is sent by the next sweep
    h.advance(PAST_STALE)
    row = h.message(message_id)
    assert {k: found[k] for k in counts} == counts
    assert row.state is MessageState.DELIVERED
    assert row.provider_sid == h.sim.ledger[-1].sid
    assert (len(h.sim.ledger), h.creates(PATIENT_A), h.sim.duplicate_sends()) == (1, 1, 0)


def test_flushed_redis_loses_no_send_and_no_reply(h: Harness) -> None:
    clinic_id = h.add_clinic()
    reminded = h.add_patient(clinic_id, PATIENT_A)
    replying = h.add_patient(clinic_id, PATIENT_B)
    h.book(reminded, TOMORROW)
    replying_appointment = h.book(replying, TOMORROW + timedelta(hours=1))
    h.clock.set(REMINDER_DUE - timedelta(minutes=1))
    h.sim.inject_inbound(PATIENT_B, CLINIC_SENDER, "1")
    assert h.sim.flush()  # the webhook stored the reply and queued its job
    h.clock.set(REMINDER_DUE)
    assert h.sweep().claimed == 2  # both reminders are due at 10:00
    h.runtime.queue.connection.flushdb()
    h.drain()
    assert {m.state for m in h.outbox(kind="reminder")} == {MessageState.CLAIMED}
    assert [i.state for i in h.inbox()] == [InboundState.RECEIVED]
    # The next sweep sees that Redis lost its jobs and queues everything again at once,
    # without waiting for the claims to look stale.
    report = h.sweep()
    assert (report.redis_reset, report.requeued, report.inbound_requeued) == (True, 2, 1)
    h.drain()
    h.sim.flush()
    assert {m.state for m in h.outbox(kind="reminder")} == {MessageState.DELIVERED}
    assert [i.state for i in h.inbox()] == [InboundState.PROCESSED]
    assert h.appointment(replying_appointment).confirmed_at == REMINDER_DUE
    assert h.sweep().requeued == 0  # and only once
    assert (h.creates(PATIENT_A), h.creates(PATIENT_B)) == (1, 2)  # B: reminder and answer
    assert h.sim.duplicate_sends() == 0


def test_a_long_send_queue_is_not_queued_again_but_a_lost_job_is(h: Harness) -> None:
    """Claims whose jobs still wait in the send queue are not queued a second time
    however long the queue; a job that left the queue without being run (its worker
    died) is queued again once its claims look stale."""
    clinic_id = h.add_clinic()
    h.book(h.add_patient(clinic_id, PATIENT_A), TOMORROW)
    h.book(h.add_patient(clinic_id, PATIENT_B), TOMORROW + timedelta(days=1))
    first, second = sorted(h.outbox(kind="reminder"), key=lambda m: m.due_at)
    h.clock.set(first.due_at)
    assert h.sweep().claimed == 1
    h.clock.set(second.due_at)
    assert h.sweep().claimed == 1
    h.clock.set(second.due_at + PAST_STALE)
    assert h.sweep().requeued == 0  # both jobs still wait
    send_queue = h.runtime.queue.queue(QueueName.SEND)
    assert send_queue.pop_job_id() is not None  # the first job, taken by a worker that died
    assert h.sweep().requeued == 1
    assert h.sweep().requeued == 0  # once
    h.drain()
    assert {h.message(m.id).state for m in (first, second)} == {MessageState.DELIVERED}
    assert (h.creates(PATIENT_A), h.creates(PATIENT_B), h.sim.duplicate_sends()) == (1, 1, 0)


def test_replies_waiting_in_a_long_queue_are_not_queued_again_but_a_lost_one_is(
    h: Harness,
) -> None:
    clinic_id = h.add_clinic()
    for phone in (PATIENT_A, PATIENT_B):
        h.add_patient(clinic_id, phone)
    start = REMINDER_DUE
    h.clock.set(start)
    h.sweep()  # the first sweep marks Redis (`JobQueue.lost_its_jobs`)
    for minutes, phone in enumerate((PATIENT_A, PATIENT_B)):
        h.clock.set(start + timedelta(minutes=minutes))
        h.sim.inject_inbound(phone, CLINIC_SENDER, "hello")
        assert h.sim.flush()  # stored, and its job queued with the time
    h.clock.set(start + timedelta(hours=1))
    assert h.sweep().inbound_requeued == 0  # both jobs still wait
    inbound = h.runtime.queue.queue(QueueName.INBOUND)
    lost = inbound.fetch_job(inbound.pop_job_id() or "")  # taken by a worker that died
    assert lost is not None
    assert h.sweep().inbound_requeued == 0  # until its group's mark lapses
    h.runtime.queue.let_sleep(JobName.ROUTE_REPLIES, *lost.args)
    assert h.sweep().inbound_requeued == 1
    assert h.sweep().inbound_requeued == 0
    h.drain()
    assert [i.state for i in h.inbox()] == [InboundState.FLAGGED] * 2  # routed: for staff


@pytest.mark.parametrize("copies", [1, 3])
def test_replayed_jobs_send_and_answer_once(h: Harness, copies: int) -> None:
    message_id = _booked(h)
    h.clock.set(REMINDER_DUE)
    h.sweep()
    for _ in range(copies):
        h.runtime.queue.enqueue(JobName.SEND_MESSAGES, message_id)
    h.drain()
    h.reply(PATIENT_A, "1")
    [inbound] = h.inbox()
    for _ in range(copies):
        h.runtime.queue.enqueue(JobName.PROCESS_INBOUND, inbound.id)
    h.drain()
    assert h.message(message_id).state is MessageState.DELIVERED
    assert [m.kind for m in h.outbox()] == ["reminder", "confirmed"]
    assert (h.creates(PATIENT_A), h.sim.duplicate_sends()) == (2, 0)


def test_reply_whose_webhook_never_came_is_imported_and_processed_once(h: Harness) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = h.book(person, TOMORROW)
    h.sim.faults.drop_inbound = 1.0
    h.reply(PATIENT_A, "1")
    assert h.inbox() == []
    h.clock.advance(timedelta(minutes=1))
    first = h.reconcile()
    second = h.reconcile()
    [inbound] = h.inbox()
    assert (first["inbound_imported"], second["inbound_imported"]) == (1, 0)
    assert (inbound.state, inbound.appointment_id) == (InboundState.PROCESSED, appointment_id)
    assert h.appointment(appointment_id).confirmed_at is not None
    assert [m.kind for m in h.outbox(kind="confirmed")] == ["confirmed"]
    assert h.creates(PATIENT_A) == 1


def test_a_queue_nobody_works_gets_no_second_jobs_however_long_it_waits(
    h: Harness,
) -> None:
    clinic_id = h.add_clinic()
    person = h.add_patient(clinic_id, PATIENT_A)
    h.book(person, TOMORROW)
    h.clock.set(REMINDER_DUE - timedelta(minutes=1))
    h.sim.inject_inbound(PATIENT_B, CLINIC_SENDER, "hello")
    assert h.sim.flush()
    h.clock.set(REMINDER_DUE)
    assert h.sweep().claimed == 1  # the first sweep also sees Redis's mark is new
    send = h.runtime.queue.queue(QueueName.SEND)
    inbound = h.runtime.queue.queue(QueueName.INBOUND)
    jobs = (send.count, inbound.count)
    # Nobody works the queues: the rows are past the thresholds, but their jobs still
    # wait in the queues (each job carries when it was queued), so no sweep (every 5 s)
    # queues them again.
    counts = []
    for seconds in range(5, 5 * 60, 5):
        h.clock.set(REMINDER_DUE + timedelta(seconds=seconds))
        report = h.sweep()
        counts.append((report.requeued, report.inbound_requeued))
    assert set(counts) == {(0, 0)}
    assert (send.count, inbound.count) == jobs
