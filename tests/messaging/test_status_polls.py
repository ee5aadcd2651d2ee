"""A final status whose callback never came is fetched from the provider once it has
been missing for the channel's wait; a message of an erased patient is not (its number
is gone, and Twilio no longer holds the message once erasure deleted it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from app.audit.service import SYSTEM
from app.core.channels import ProviderMessage
from app.core.clock import FixedClock
from app.messaging import reconcile
from app.messaging.states import MessageState
from app.privacy import service as privacy
from tests.integration import PATIENT_A, REMINDER_DUE, TOMORROW, Harness, running_harness


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


class CountingChannel:
    """The real SMS channel, counting the provider's lists it is asked for."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.lists: list[str | None] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        self.lists.append(to)
        found: list[ProviderMessage] = self._real.list_messages(to=to, from_=from_, since=since)
        return found


def _reminder_without_its_final_callback(h: Harness) -> int:
    h.sim.faults.callback_statuses = frozenset()  # the carrier delivers; nobody says so
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    [reminder] = h.outbox(kind="reminder")
    assert reminder.state is MessageState.ACCEPTED
    return reminder.id


def test_a_final_status_that_never_came_is_fetched_after_the_wait(h: Harness) -> None:
    reminder_id = _reminder_without_its_final_callback(h)
    channel = CountingChannel(h.runtime.channel("sms"))
    wait = h.runtime.channel("sms").timing.callback_wait
    assert reconcile.poll_statuses(h.clock.now(), channel, wait) == 0  # not missing yet
    assert channel.lists == []
    h.clock.advance(wait)
    assert reconcile.poll_statuses(h.clock.now(), channel, wait) == 1
    assert channel.lists == [PATIENT_A]
    assert h.message(reminder_id).state is MessageState.DELIVERED


def test_an_erased_patients_messages_are_not_polled(h: Harness) -> None:
    reminder_id = _reminder_without_its_final_callback(h)
    [person_id] = {m.patient_id for m in h.outbox(kind="reminder")}
    privacy.erase_patient(person_id, h.clock, SYSTEM, h.runtime.queue)
    h.drain()  # the provider's copy is deleted
    channel = CountingChannel(h.runtime.channel("sms"))
    wait = h.runtime.channel("sms").timing.callback_wait
    h.clock.advance(wait * 3)
    assert reconcile.poll_statuses(h.clock.now(), channel, wait) == 0
    assert channel.lists == []  # no list of every message on the account for it
    assert h.message(reminder_id).state is MessageState.ACCEPTED
