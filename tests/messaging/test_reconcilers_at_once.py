"""Two reconcilers at once (reconcile jobs queued behind a backlog run side by side on
several workers) never send a message twice.

One reconciler lists the provider's messages for an unknown send while the other finds
it there, adopts its sid and commits. The sid is then "known", so the first no longer
sees a match; it must not put the message back to pending for a second send.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from app.core.channels import ChannelPlugin, ProviderMessage
from app.core.clock import FixedClock
from app.messaging.reconcile import reconcile_unknown
from app.messaging.states import MessageState
from tests.integration import (
    PAST_GRACE,
    PATIENT_A,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    running_harness,
)


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


class Overtaken:
    """The real SMS channel, but the first listing waits while another reconciler runs
    to the end (as when two run on two workers and the other is quicker)."""

    def __init__(self, real: ChannelPlugin, other: Any) -> None:
        self._real = real
        self._other = other
        self.name = real.name
        self.timing = real.timing

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        found = self._real.list_messages(to=to, from_=from_, since=since)
        if self._other is not None:
            other, self._other = self._other, None
            other()
        return found


def test_a_message_another_reconciler_found_is_not_sent_again(h: Harness) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    [reminder] = h.outbox(kind="reminder")
    h.sim.faults.server_error_next = 1  # the provider keeps it; the worker cannot know
    h.sim.faults.callback_statuses = frozenset()  # the reconcilers alone settle it
    h.advance_to(REMINDER_DUE)
    assert h.message(reminder.id).state is MessageState.UNKNOWN
    h.clock.advance(PAST_GRACE)
    real = h.runtime.channel("sms")
    now = h.clock.now()
    quicker: dict[str, int] = {}
    slower = Overtaken(real, lambda: quicker.update(reconcile_unknown(now, real)))
    found = reconcile_unknown(now, slower)
    h.advance(PAST_GRACE)
    assert (h.creates(PATIENT_A), h.sim.duplicate_sends()) == (1, 0)
    assert (quicker["adopted"], found["adopted"], found["requeued"]) == (1, 0, 0)
    row = h.message(reminder.id)
    assert (row.state, row.provider_sid) == (MessageState.DELIVERED, h.sim.ledger[0].sid)
