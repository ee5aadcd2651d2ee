"""Changes staff make for a patient: how they are reached, and an opt-out on their behalf
(which stops what is pending exactly as a STOP reply does)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.messaging.dispatcher import SendSettings, claim_due_messages
from app.messaging.models import OutboundMessage
from app.messaging.sending import send_message
from app.messaging.states import MessageState
from app.patients import service
from app.patients.consent import is_opted_out
from app.patients.models import ConsentEvent, Patient
from app.surveys.models import SessionState, SurveySession
from tests.casework import cases
from tests.web.staff import StaffDesk
from tests.world import World

LANDLINE = "+442071234567"


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north")


@pytest.fixture
def staff(desk: StaffDesk, north: Clinic) -> Actor:
    return Actor(user_id=desk.member(Role.RECEPTIONIST, ["north"]).user_id, address="192.0.2.1")


def _audit(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _stored(patient_id: int) -> Patient:
    db.session.expire_all()
    found = db.session.get(Patient, patient_id)
    assert found is not None
    return found


def test_the_channel_and_language_change_and_are_audited(
    world: World, clock: FixedClock, north: Clinic, staff: Actor
) -> None:
    patient = world.patient(north, "P1")
    changed = service.change_contact(
        patient.id, channel=Channel.WHATSAPP, locale="pl", actor=staff, clock=clock
    )
    assert changed == ["channel", "locale"]
    stored = _stored(patient.id)
    assert (stored.channel_preference, stored.locale) == (Channel.WHATSAPP, "pl")
    [event] = _audit(AuditAction.CHANGE_PATIENT)
    assert (event.record_ids, event.clinic_id, event.actor_user_id, event.address) == (
        [patient.id],
        north.id,
        staff.user_id,
        "192.0.2.1",
    )
    assert event.detail == {"fields": "channel,locale", "channel": "whatsapp", "locale": "pl"}
    # The same again changes nothing and records nothing.
    again = service.change_contact(
        patient.id, channel=Channel.WHATSAPP, locale="pl", actor=staff, clock=clock
    )
    assert again == []
    assert len(_audit(AuditAction.CHANGE_PATIENT)) == 1


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP, Channel.WEB])
def test_a_landline_takes_calls_only(
    world: World, clock: FixedClock, north: Clinic, staff: Actor, channel: Channel
) -> None:
    patient = world.patient(north, "L1", phone=LANDLINE, channel="voice")
    with pytest.raises(service.ChannelRefused) as refused:
        service.change_contact(patient.id, channel=channel, locale="en", actor=staff, clock=clock)
    assert (refused.value.channel, refused.value.reason_code) == (channel, "landline")
    assert LANDLINE not in str(refused.value)
    assert _stored(patient.id).channel_preference is Channel.VOICE
    assert _audit(AuditAction.CHANGE_PATIENT) == []
    # Its language may still change, on the channel it can take.
    assert service.change_contact(
        patient.id, channel=Channel.VOICE, locale="cy", actor=staff, clock=clock
    ) == ["locale"]


def test_a_mobile_may_take_any_channel(
    world: World, clock: FixedClock, north: Clinic, staff: Actor
) -> None:
    patient = world.patient(north, "P1")
    for channel in (Channel.VOICE, Channel.WEB, Channel.SMS):
        service.change_contact(patient.id, channel=channel, locale="en", actor=staff, clock=clock)
        assert _stored(patient.id).channel_preference is channel


def test_what_a_change_refuses(
    world: World, clock: FixedClock, north: Clinic, staff: Actor
) -> None:
    patient = world.patient(north, "P1")
    with pytest.raises(Invalid, match="not a language"):
        service.change_contact(
            patient.id, channel=Channel.SMS, locale="fr", actor=staff, clock=clock
        )
    with pytest.raises(NotFound):
        service.change_contact(999_999, channel=Channel.SMS, locale="en", actor=staff, clock=clock)
    assert _stored(patient.id).locale == "en"


def test_an_opt_out_for_the_patient_is_in_the_ledger_and_the_audit_log(
    world: World, clock: FixedClock, north: Clinic, staff: Actor
) -> None:
    patient = world.patient(north, "P1")
    assert service.opt_out_for_patient(patient.id, actor=staff, clock=clock) is True
    [event] = db.session.scalars(select(ConsentEvent))
    assert (event.patient_id, event.channel, event.action, event.source) == (
        patient.id,
        "all",
        "opt_out",
        f"staff:{staff.user_id}",
    )
    assert is_opted_out(patient.id, north.id, "sms")
    # A second time changes nothing in the ledger, but is still recorded as done.
    assert service.opt_out_for_patient(patient.id, actor=staff, clock=clock) is False
    assert len(list(db.session.scalars(select(ConsentEvent)))) == 1
    audited = _audit(AuditAction.OPT_OUT_FOR_PATIENT)
    assert [(e.record_ids, e.clinic_id, e.detail) for e in audited] == [
        ([patient.id], north.id, {"changed": True}),
        ([patient.id], north.id, {"changed": False}),
    ]
    with pytest.raises(Invalid):
        service.opt_out_for_patient(patient.id, actor=Actor(), clock=clock)


def test_an_opt_out_for_the_patient_stops_what_is_pending_as_stop_does(
    world: World, clock: FixedClock, north: Clinic, staff: Actor
) -> None:
    patient = world.patient(north, "P1")
    world.book(north, "A1", "P1", datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    survey = cases.survey_session(patient, clock.now(), {}, state="open")
    service.opt_out_for_patient(patient.id, actor=staff, clock=clock)
    # The opt-out listeners closed the open survey conversation.
    db.session.expire_all()
    closed = db.session.get(SurveySession, survey.id)
    assert closed is not None
    assert closed.state is SessionState.OPTED_OUT
    # The pending reminders are suppressed when they fall due, never sent.
    clock.advance(timedelta(days=4))
    claimed = claim_due_messages(clock.now())
    assert claimed
    settings = SendSettings("https://wesaid.example.org", 3600)
    for message_id in claimed:
        assert send_message(message_id, clock, {}, settings) is None
    states = db.session.scalars(
        select(OutboundMessage.state).where(OutboundMessage.id.in_(claimed))
    )
    assert set(states) == {MessageState.SUPPRESSED}
