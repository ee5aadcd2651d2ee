"""Routing of patients' replies end to end: the simulator posts each text to the app's
signed webhook, a worker routes it, and the answer goes back out through Twilio."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from redis import Redis

from app.appointments.models import AppointmentStatus
from app.core.clock import FixedClock
from app.messaging.states import InboundState, MessageState
from tests.integration import (
    CLINIC_SENDER,
    PATIENT_A,
    PATIENT_C,
    REMINDER_DUE,
    SOUTH_SENDER,
    STRANGER_SENDER,
    TOMORROW,
    Harness,
    Person,
    running_harness,
)

WEEK_AHEAD = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
TWO_WEEKS_AHEAD = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
SEVEN_DAY_DUE = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
ONE_DAY_DUE = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
REPLIED_AT = SEVEN_DAY_DUE + timedelta(minutes=20)


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _reminded(h: Harness, locale: str = "en") -> tuple[Person, int]:
    """Patient A, booked a week ahead under the default rules, has had the 7-day reminder;
    the 1-day one is still pending."""
    person = h.add_patient(h.add_clinic(rules=None), PATIENT_A, locale)
    appointment_id = h.book(person, WEEK_AHEAD)
    h.advance_to(SEVEN_DAY_DUE)
    h.clock.set(REPLIED_AT)
    return person, appointment_id


def _answers(h: Harness, inbound_id: int) -> list[tuple[str, MessageState]]:
    return [(m.kind, m.state) for m in h.outbox(reply_to_id=inbound_id)]


@pytest.mark.parametrize(
    ("body", "locale", "kind", "status", "reminder_left"),
    [
        ("1", "en", "confirmed", AppointmentStatus.BOOKED, MessageState.PENDING),
        (" 1 ", "en", "confirmed", AppointmentStatus.BOOKED, MessageState.PENDING),
        ("১", "bn", "confirmed", AppointmentStatus.BOOKED, MessageState.PENDING),
        ("2", "en", "cancelled", AppointmentStatus.CANCELLED_PATIENT, MessageState.CANCELLED),
        ("3", "en", "rebook", AppointmentStatus.BOOKED, MessageState.PENDING),
    ],
)
def test_menu_reply_acts_on_the_appointment(
    h: Harness,
    body: str,
    locale: str,
    kind: str,
    status: AppointmentStatus,
    reminder_left: MessageState,
) -> None:
    _person, appointment_id = _reminded(h, locale)
    h.reply(PATIENT_A, body)
    [inbound] = h.inbox()
    appointment = h.appointment(appointment_id)
    [_sent, one_day] = h.outbox(kind="reminder")
    assert (inbound.state, inbound.appointment_id) == (InboundState.PROCESSED, appointment_id)
    assert _answers(h, inbound.id) == [(kind, MessageState.DELIVERED)]
    assert appointment.status is status
    assert appointment.confirmed_at == (REPLIED_AT if kind == "confirmed" else None)
    assert appointment.rebook_requested_at == (REPLIED_AT if kind == "rebook" else None)
    lead = (WEEK_AHEAD - REPLIED_AT) // timedelta(minutes=1) if kind == "cancelled" else None
    assert appointment.cancel_lead_minutes == lead
    assert one_day.state is reminder_left
    h.advance_to(ONE_DAY_DUE)
    reminders_sent = 1 if kind == "cancelled" else 2
    assert h.creates(PATIENT_A) == reminders_sent + 1  # and the one answer


def test_confirmation_names_the_appointment(h: Harness) -> None:
    _reminded(h)
    h.reply(PATIENT_A, "1")
    [answer] = h.outbox(kind="confirmed")
    assert answer.body == "Thank you. Your appointment on Thursday 12 March at 14:00 is confirmed."
    assert h.sim.ledger[-1].body == answer.body


def test_several_pending_appointments_get_a_menu_naming_them(h: Harness) -> None:
    person, first = _reminded(h)
    second = h.book(person, TWO_WEEKS_AHEAD)
    h.reply(PATIENT_A, "1")
    [ask] = h.inbox()
    [menu] = h.outbox(kind="which_one")
    assert (ask.state, ask.appointment_id) == (InboundState.PROCESSED, None)
    assert menu.state is MessageState.DELIVERED
    assert menu.body is not None
    assert "A Thursday 12 March 14:00" in menu.body
    assert "B Thursday 19 March 09:30" in menu.body
    assert h.appointment(first).confirmed_at is None
    assert h.appointment(second).confirmed_at is None
    h.reply(PATIENT_A, "1B")
    [_ask, choice] = h.inbox()
    [confirmation] = h.outbox(kind="confirmed")
    assert choice.appointment_id == confirmation.appointment_id == second
    assert h.appointment(second).confirmed_at == REPLIED_AT
    assert h.appointment(first).confirmed_at is None


@pytest.mark.parametrize(
    "body", ["Can I bring my daughter with me?", "4", "yes please but later", "🙂"]
)
def test_free_text_is_flagged_for_staff_and_attached_to_nothing(h: Harness, body: str) -> None:
    _person, appointment_id = _reminded(h)
    sent_before = h.creates(PATIENT_A)
    h.reply(PATIENT_A, body)
    [inbound] = h.inbox()
    appointment = h.appointment(appointment_id)
    assert (inbound.state, inbound.flag_reason) == (InboundState.FLAGGED, "not_understood")
    assert (inbound.appointment_id, inbound.body) == (None, body)
    assert (appointment.confirmed_at, appointment.status) == (None, AppointmentStatus.BOOKED)
    assert h.creates(PATIENT_A) == sent_before


@pytest.mark.parametrize(
    ("sender", "to", "reason", "has_clinic"),
    [
        pytest.param(PATIENT_C, CLINIC_SENDER, "unknown_sender", True, id="unknown-patient"),
        pytest.param(PATIENT_A, STRANGER_SENDER, "unknown_clinic", False, id="unknown-clinic"),
    ],
)
def test_reply_nobody_matches_is_flagged(
    h: Harness, sender: str, to: str, reason: str, has_clinic: bool
) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = h.book(person, TOMORROW)
    h.reply(sender, "1", to=to)
    [inbound] = h.inbox()
    assert (inbound.state, inbound.flag_reason) == (InboundState.FLAGGED, reason)
    assert (inbound.patient_id, inbound.appointment_id) == (None, None)
    assert inbound.clinic_id == (person.clinic_id if has_clinic else None)
    assert h.appointment(appointment_id).confirmed_at is None
    assert h.outbox(kind="confirmed") == []


@pytest.mark.parametrize("texted", ["north", "south"])
def test_reply_stays_in_the_clinic_it_was_sent_to(h: Harness, texted: str) -> None:
    """One number, a patient at two clinics: the number texted decides, not the text."""
    north = h.add_patient(h.add_clinic("north", CLINIC_SENDER), PATIENT_A)
    south = h.add_patient(h.add_clinic("south", SOUTH_SENDER), PATIENT_A)
    booked = {"north": h.book(north, TOMORROW), "south": h.book(south, TOMORROW)}
    h.reply(PATIENT_A, "1", to=CLINIC_SENDER if texted == "north" else SOUTH_SENDER)
    [inbound] = h.inbox()
    other = "south" if texted == "north" else "north"
    clinic_id = (north if texted == "north" else south).clinic_id
    assert (inbound.clinic_id, inbound.appointment_id) == (clinic_id, booked[texted])
    assert h.appointment(booked[texted]).confirmed_at == h.clock.now()
    assert h.appointment(booked[other]).confirmed_at is None
    [answer] = h.outbox(kind="confirmed")
    assert answer.clinic_id == clinic_id
    assert h.sim.ledger[-1].from_ == (CLINIC_SENDER if texted == "north" else SOUTH_SENDER)


@pytest.mark.parametrize(
    ("first", "second", "claimed_before"),
    [
        ("STOP", "STOP", False),
        ("stop", "STOPALL", False),
        ("Unsubscribe", "quit", False),
        ("STOP", "STOP", True),
    ],
)
def test_opt_out_is_confirmed_once_and_suppresses_reminders(
    h: Harness, first: str, second: str, claimed_before: bool
) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    if claimed_before:
        # The reminder is claimed and its job queued; the reply is routed first.
        h.clock.set(REMINDER_DUE)
        assert h.sweep().claimed == 1
    h.reply(PATIENT_A, first)
    h.reply(PATIENT_A, second)
    h.advance_to(REMINDER_DUE + timedelta(minutes=5))
    [reminder] = h.outbox(kind="reminder")
    acks = h.outbox(kind="opt_out_ack")
    assert h.opted_out(person)
    assert [a.state for a in acks] == [MessageState.DELIVERED]
    assert reminder.state is MessageState.SUPPRESSED
    assert [i.intent for i in h.inbox()] == ["opt_out", "opt_out"]
    assert h.creates(PATIENT_A) == 1


def test_start_opts_back_in_and_reminders_resume(h: Harness) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    h.reply(PATIENT_A, "STOP")
    h.reply(PATIENT_A, "START")
    h.advance_to(REMINDER_DUE)
    kinds = [(m.kind, m.state) for m in h.outbox()]
    assert not h.opted_out(person)
    assert kinds == [
        ("reminder", MessageState.DELIVERED),
        ("opt_out_ack", MessageState.DELIVERED),
        ("opt_in_ack", MessageState.DELIVERED),
    ]
    assert h.creates(PATIENT_A) == 3


@pytest.mark.parametrize("word", ["HELP", "help", "Info"])
def test_help_gets_the_help_text(h: Harness, word: str) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.book(person, TOMORROW)
    h.reply(PATIENT_A, word)
    [answer] = h.outbox(kind="help")
    assert answer.body == (
        "North Clinic appointment messages. Reply 1 to confirm, 2 to cancel or 3 to ask for a "
        "new time. Reply STOP to opt out. For anything else please phone the clinic."
    )
    assert answer.state is MessageState.DELIVERED
    assert not h.opted_out(person)


def test_cancel_reaches_a_reminder_already_claimed(h: Harness) -> None:
    """The clock claimed the reminder and queued its job; the reply is routed first."""
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = h.book(person, TOMORROW)
    h.clock.set(REMINDER_DUE)
    assert h.sweep().claimed == 1
    h.reply(PATIENT_A, "2")
    [reminder] = h.outbox(kind="reminder")
    assert reminder.state is MessageState.CANCELLED
    assert h.appointment(appointment_id).status is AppointmentStatus.CANCELLED_PATIENT
    assert [m.kind for m in h.outbox(state=MessageState.DELIVERED)] == ["cancelled"]
    assert h.creates(PATIENT_A) == 1
