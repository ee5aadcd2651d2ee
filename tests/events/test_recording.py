"""Where events come from: replies, opt-outs, failed messages and survey responses each
write their event (and its deliveries) in their own transaction, and only what the
clinic's systems may see: external ids, never names, numbers or answers."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from app.audit.service import Actor
from app.clinics.models import Clinic, StaffUser
from app.clinics.roles import Role
from app.core.channels import StatusUpdate
from app.core.clock import FixedClock
from app.events.models import EventType
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.messaging.status import record_status
from app.patients.forgetting import count_everywhere, erase_everywhere
from app.patients.service import opt_out_for_patient
from app.surveys import service as surveys
from tests.events.conftest import Booked, deliveries, events, reply, subscribe
from tests.public.web_survey import add_clinic, invite_web
from tests.web.staff import StaffDesk

ALL_TYPES = tuple(t.value for t in EventType)
HOOK = "https://pas.example.nhs.uk/hooks"


def _reminder(booked: Booked) -> OutboundMessage:
    found = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.appointment_id == booked.appointment.id)
    ).first()
    assert found is not None
    return found


def test_no_subscriber_no_event(booked: Booked, clock: FixedClock) -> None:
    reply(booked, "2", clock)
    assert events() == []


def test_each_menu_answer_is_its_event(booked: Booked, clock: FixedClock) -> None:
    subscribe(booked.clinic, HOOK, *ALL_TYPES, now=clock.now())
    reply(booked, "3", clock, sid="SM" + "3" * 32)
    reply(booked, "3", clock, sid="SM" + "4" * 32)  # asked already: no second event
    reply(booked, "1", clock, sid="SM" + "5" * 32)
    reply(booked, "2", clock, sid="SM" + "6" * 32)
    assert [e.type for e in events()] == [
        EventType.APPOINTMENT_REBOOK_REQUESTED,
        EventType.APPOINTMENT_CONFIRMED,
        EventType.APPOINTMENT_CANCELLED_BY_PATIENT,
    ]
    assert len(deliveries()) == 3


def test_an_opt_out_is_one_event_whoever_records_it(
    booked: Booked, clock: FixedClock, desk: StaffDesk
) -> None:
    subscribe(booked.clinic, HOOK, EventType.PATIENT_OPTED_OUT.value, now=clock.now())
    reply(booked, "STOP", clock)
    reply(booked, "STOP", clock, sid="SM" + "7" * 32)
    [event] = events()
    assert event.data == {"patient": {"external_id": "P-1"}, "channel": "all", "source": "reply"}
    reply(booked, "START", clock, sid="SM" + "8" * 32)
    member = desk.member(Role.ADMIN)
    user = db.session.get(StaffUser, member.user_id)
    assert user is not None
    opt_out_for_patient(booked.patient.id, actor=Actor(user_id=user.id), clock=clock)
    db.session.commit()
    assert [e.data["source"] for e in events()] == ["reply", "staff"]


def test_a_failed_message_is_an_event_unless_another_channel_tries(
    booked: Booked, clock: FixedClock
) -> None:
    subscribe(booked.clinic, HOOK, EventType.MESSAGE_FAILED.value, now=clock.now())
    message = _reminder(booked)
    message.state = MessageState.ACCEPTED
    message.provider_sid = "SM" + "a" * 32
    db.session.commit()
    # 30006 (a landline) falls back to a call: not a failure the clinic must act on.
    record_status(message.id, StatusUpdate(message.provider_sid, "undelivered", 30006), clock.now())
    assert events() == []
    second = db.session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.appointment_id == booked.appointment.id,
            OutboundMessage.id != message.id,
            OutboundMessage.fallback_for_id.is_(None),
        )
    ).first()
    assert second is not None
    second.state = MessageState.ACCEPTED
    second.provider_sid = "SM" + "b" * 32
    db.session.commit()
    record_status(second.id, StatusUpdate(second.provider_sid, "failed", 30008), clock.now())
    record_status(second.id, StatusUpdate(second.provider_sid, "failed", 30008), clock.now())
    [event] = events()
    assert event.data["message"] == {
        "id": second.id,
        "kind": "reminder",
        "channel": "sms",
        "state": "failed",
        "error_code": 30008,
    }
    assert event.data["appointment"]["external_id"] == "APPT-1"
    assert "body" not in json.dumps(event.data)


def test_a_survey_response_event_names_no_one(app: Flask, clock: FixedClock) -> None:
    clinic_id = add_clinic(clock)
    clinic = db.session.get(Clinic, clinic_id)
    assert clinic is not None
    subscribe(clinic, HOOK, EventType.SURVEY_RESPONSE_RECORDED.value, now=clock.now())
    invite = invite_web(app, clinic_id, clock)
    surveys.answer_value(invite.session_id, "fft", "very_good", clock.now())
    db.session.commit()
    [event] = events()
    assert (event.type, event.data) == (EventType.SURVEY_RESPONSE_RECORDED, {"survey": "fft"})
    assert event.clinic_id == clinic_id
    # A second answer of the same conversation is the same response: no new event.
    surveys.answer_value(invite.session_id, "comment", "Lovely staff, Dr Jones", clock.now())
    db.session.commit()
    assert len(events()) == 1


def test_erasure_strips_the_patient_from_their_events(booked: Booked, clock: FixedClock) -> None:
    subscribe(booked.clinic, HOOK, *ALL_TYPES, now=clock.now())
    reply(booked, "1", clock)
    assert count_everywhere(booked.patient.id, booked.clinic.id)["events"] == 1
    erase_everywhere(booked.patient.id, booked.clinic.id, clock.now())
    db.session.commit()
    [event] = events()
    assert event.data == {"appointment": None, "patient": None, "channel": "sms"}
    assert event.patient_id is None
