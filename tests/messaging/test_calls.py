"""Calls and WhatsApp end to end: the clock's sweep, an RQ worker, the twilio SDK, the
simulator placing the call and playing the app's TwiML over HTTP, and signed webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select

from app.appointments.models import AppointmentStatus
from app.appointments.service import record_outcome
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging import voice
from app.messaging.states import MessageState
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.simulator.calls import Prompt
from app.surveys.models import SessionState, SurveyAnswer, SurveySession
from tests.integration import (
    CLINIC_SENDER,
    PATIENT_A,
    REMINDER_DUE,
    TOMORROW,
    Harness,
    Person,
    running_harness,
)

LANDLINE = "+441134960123"
TEMPLATE = "HX" + "2" * 32


class ScriptedCallee:
    """Answers every call and presses the given keys in turn (None: no key)."""

    def __init__(self, *keys: str | None, outcome: str = "answered") -> None:
        self.keys = list(keys)
        self.outcome = outcome
        self.prompts: list[Prompt] = []

    def answer_call(self, *, to: str, from_: str) -> str:
        return self.outcome

    def press(self, *, to: str, prompt: Prompt) -> str | None:
        self.prompts.append(prompt)
        return self.keys.pop(0) if self.keys else None


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        if "voice" not in harness.app.blueprints:
            harness.app.register_blueprint(voice.bp)
        yield harness


def _patient(h: Harness, clinic_id: int, phone: str, channel: str, locale: str = "en") -> Person:
    row = {"external_id": "P9", "phone": phone, "locale": locale, "channel": channel}
    report = import_patient_rows(clinic_id, [row], source="test", strict=True, clock=h.clock)
    assert not report.errors, report.errors
    patient_id = db.session.scalars(select(Patient.id).where(Patient.phone == phone)).one()
    return Person(patient_id, clinic_id, "P9", phone)


def _says(h: Harness, sid: str) -> list[Any]:
    call = h.sim.calls.find(sid)
    assert call is not None
    return [(e.text, e.language) for e in call.transcript if e.kind == "say"]


def test_a_voice_patient_is_called_and_a_key_confirms(h: Harness) -> None:
    callee = ScriptedCallee("1")
    h.sim.callee = callee
    person = _patient(h, h.add_clinic(), LANDLINE, "voice")
    appointment_id = h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    [call] = h.outbox(kind="reminder")
    assert (call.channel, call.state) == ("voice", MessageState.DELIVERED)
    assert h.appointment(appointment_id).confirmed_at is not None
    assert h.creates(LANDLINE) == 1


def test_a_landline_reminder_falls_back_to_a_call_and_a_key_confirms(h: Harness) -> None:
    callee = ScriptedCallee("1")
    h.sim.callee = callee
    person = _patient(h, h.add_clinic(), LANDLINE, "voice")
    # A record that still says SMS for a number that is now a landline (ported, or
    # entered by hand before the policy): Twilio answers 30006 and we call instead.
    patient = db.session.get(Patient, person.id)
    assert patient is not None
    patient.channel_preference = "sms"
    db.session.commit()
    appointment_id = h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    h.advance(timedelta(minutes=1))
    [text, call] = h.outbox(kind="reminder")
    assert (text.channel, text.state, text.error_code) == ("sms", MessageState.UNDELIVERED, 30006)
    assert (call.channel, call.fallback_for_id, call.state) == (
        "voice",
        text.id,
        MessageState.DELIVERED,
    )
    assert (call.provider_sid or "").startswith("CA")
    assert h.appointment(appointment_id).confirmed_at is not None
    said = _says(h, call.provider_sid or "")
    assert said[0][0].startswith("This is North Clinic. Your appointment is on Tuesday 3 March")
    assert said[-1] == (
        "Thank you. Your appointment on Tuesday 3 March at 14:00 is confirmed.",
        "en-GB",
    )
    assert "Press 1 to confirm" in callee.prompts[0].text
    assert h.sim.duplicate_sends() == 0


def test_an_unanswered_call_is_undelivered_and_changes_nothing(h: Harness) -> None:
    h.sim.callee = ScriptedCallee(outcome="no-answer")
    person = _patient(h, h.add_clinic(), LANDLINE, "voice")
    appointment_id = h.book(person, TOMORROW)
    h.advance_to(REMINDER_DUE)
    h.advance(timedelta(minutes=1))
    call = h.outbox(kind="reminder", channel="voice")[0]
    assert call.state is MessageState.UNDELIVERED
    assert h.appointment(appointment_id).confirmed_at is None


def test_a_telephone_survey_records_the_key_and_skips_free_text(h: Harness) -> None:
    h.sim.callee = ScriptedCallee(None, "2")
    person = _patient(h, h.add_clinic(), LANDLINE, "voice")
    h.clock.set(TOMORROW - timedelta(days=3))
    appointment_id = h.book(person, TOMORROW)
    h.advance_to(TOMORROW + timedelta(minutes=30))
    record_outcome(appointment_id, AppointmentStatus.ATTENDED, h.clock)
    db.session.commit()
    [invite] = h.outbox(kind="survey_invite")
    assert invite.channel == "voice"
    h.advance_to(invite.due_at)
    h.advance(timedelta(minutes=1))
    invite = h.message(invite.id)
    session = db.session.scalars(select(SurveySession)).one()
    answers = {
        a.question_id: (a.status, a.value, a.channel)
        for a in db.session.scalars(select(SurveyAnswer))
    }
    said = [text for text, _ in _says(h, invite.provider_sid or "")]
    assert invite.state is MessageState.DELIVERED
    assert (session.state, session.channel) == (SessionState.COMPLETED, "voice")
    assert answers == {
        "fft": ("answered", "good", "voice"),
        "comment": ("skipped", None, "voice"),
    }
    assert said[0].startswith("Hello. This is North Clinic")
    assert said.count("Overall, how was your experience of our service?") == 2  # asked again
    assert said[-1] == "Thank you for your answers. North Clinic reads every one."


def test_whatsapp_replies_are_stored_as_whatsapp(h: Harness) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.sim.inject_inbound("whatsapp:" + PATIENT_A, "whatsapp:" + CLINIC_SENDER, "HELP")
    h.drain()
    [inbound] = h.inbox()
    assert (inbound.channel, inbound.from_number, inbound.to_number, inbound.patient_id) == (
        "whatsapp",
        PATIENT_A,
        CLINIC_SENDER,
        person.id,
    )


class _Confirms:
    def reply(self, *, to: str, from_: str, body: str) -> str | None:
        return "1" if "Reply 1 to confirm" in body else None


def test_a_whatsapp_reminder_outside_the_window_goes_as_a_template(h: Harness) -> None:
    h.sim.responder = _Confirms()
    h.sim.content_templates[TEMPLATE] = (
        "{{1}}: your appointment is on {{2}} at {{3}}. Reply 1 to confirm, 2 to cancel or 3 "
        "to ask for a new time."
    )
    clinic_id = h.add_clinic()
    clinic = db.session.get(Clinic, clinic_id)
    assert clinic is not None
    clinic.whatsapp_templates = {"reminder": TEMPLATE}
    db.session.commit()
    person = _patient(h, clinic_id, PATIENT_A, "whatsapp")
    appointment_id = h.book(person, TOMORROW)
    [planned] = h.outbox(kind="reminder")
    planned.channel = "whatsapp"  # reminders are planned on SMS; this one goes on WhatsApp
    db.session.commit()
    h.advance_to(REMINDER_DUE)
    [reminder] = h.outbox(kind="reminder")
    entry, answer = h.sim.ledger
    stored = h.sim.messages.find(entry.sid or "")
    assert (reminder.channel, reminder.state) == ("whatsapp", MessageState.DELIVERED)
    assert (entry.to, entry.content_sid) == ("whatsapp:" + PATIENT_A, TEMPLATE)
    assert stored is not None
    assert stored.body.startswith("North Clinic: your appointment is on Tuesday 3 March at 14:00")
    [reply] = h.inbox()
    assert (reply.channel, reply.from_number, reply.body) == ("whatsapp", PATIENT_A, "1")
    assert h.appointment(appointment_id).confirmed_at is not None
    # The reply opened the window, so the confirmation goes as free text and arrives.
    confirmation = h.sim.messages.find(answer.sid or "")
    assert (answer.to, answer.content_sid) == ("whatsapp:" + PATIENT_A, None)
    assert confirmation is not None
    assert confirmation.status == "delivered"
