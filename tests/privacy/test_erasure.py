"""Erasing a patient (app/privacy/service.py): every identifying field, every text,
what was still to happen, the survey responses kept under their pseudonym."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, or_, select

from app.appointments.models import Appointment
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.core.errors import NotFound
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient
from app.privacy import service as privacy
from app.privacy.models import ErasureKind, ErasureState, ProviderErasure
from app.results import recording
from app.results import service as results
from app.results.models import ResultSnapshot, SurveyResponse
from app.surveys.models import SessionState, SurveyAnswer, SurveySession
from tests.privacy.rows import (
    every_text_in_the_database,
    fresh,
    received,
    sent,
    sid,
    surveyed,
)
from tests.world import World

ADMIN = Actor(user_id=None, address="10.1.2.3")
VISIT = datetime(2026, 3, 20, 14, 0, tzinfo=UTC)
PHONE = "+447400199871"
#: What the patient is known by: none of it may be found after erasure.
SECRETS = {
    "external_id": "PX-77341",
    "appointment": "APPT-99812",
    "given_name": "Zelphine",
    "family_name": "Quarrington",
    "phone": PHONE,
    "sent": "Zelphine, your physio is on Friday at 2pm",
    "reply": "Can my carer Marguerite come too",
    "comment": "The nurse Ottoline was very kind",
}


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north")


def _patient(
    world: World, clinic: Clinic, external_id: str, phone: str, **extra: object
) -> Patient:
    return world.patient(
        clinic,
        external_id,
        phone=phone,
        given_name=extra.pop("given_name", "Ann"),
        family_name=extra.pop("family_name", "Other"),
        birth_year=1950,
        sex="F",
        ethnic_category="A",
        imd_quintile=2,
        **extra,
    )


def _the_patient(world: World, clinic: Clinic, clock: FixedClock) -> Patient:
    """The patient to erase, with everything WeSaid can hold of a person."""
    patient = _patient(
        world,
        clinic,
        SECRETS["external_id"],
        PHONE,
        given_name=SECRETS["given_name"],
        family_name=SECRETS["family_name"],
    )
    world.book(clinic, SECRETS["appointment"], SECRETS["external_id"], VISIT)
    earlier = clock.now() - timedelta(days=3)
    sent(patient, SECRETS["sent"], earlier, provider_sid=sid("SM"))
    sent(
        patient,
        "North Clinic: a reminder by telephone",
        earlier,
        channel=Channel.VOICE,
        provider_sid=sid("CA"),
    )
    received(world.clinics["north"], PHONE, SECRETS["reply"], earlier, patient=patient)
    # A key press on a call: stored as a reply, its sid names the call, not a message.
    received(
        world.clinics["north"],
        PHONE,
        "1",
        earlier,
        patient=patient,
        channel=Channel.VOICE,
        provider_sid=sid("CA") + "m1t01",
    )
    surveyed(world.clinics["north"], patient, earlier, "2", SECRETS["comment"])
    db.session.commit()
    return patient


@pytest.mark.storage
def test_no_query_can_find_the_person_again(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    patient = _the_patient(world, north, clock)
    before = every_text_in_the_database()
    assert all(value in before for value in SECRETS.values())

    report = privacy.erase_patient(patient.id, clock, ADMIN)

    after = every_text_in_the_database()
    assert [name for name, value in SECRETS.items() if value in after] == []
    assert not report.already
    erased = fresh(Patient, patient.id)
    assert erased.external_id == f"erased-patient-{patient.id}"
    assert (erased.phone, erased.given_name, erased.family_name) == ("", None, None)
    assert (erased.birth_year, erased.sex, erased.ethnic_category, erased.imd_quintile) == (
        None,
        None,
        None,
        None,
    )
    assert erased.locale == "en"
    assert erased.erased_at == clock.now()
    for column, value in (
        (Patient.phone, PHONE),
        (Patient.external_id, SECRETS["external_id"]),
        (Patient.given_name, SECRETS["given_name"]),
        (Patient.family_name, SECRETS["family_name"]),
    ):
        assert db.session.scalar(select(func.count()).where(column == value)) == 0
    found = db.session.scalar(
        select(func.count(InboundMessage.id)).where(
            or_(InboundMessage.from_number == PHONE, InboundMessage.body.is_not(None))
        )
    )
    assert found == 0
    [appointment] = db.session.scalars(select(Appointment)).all()
    assert appointment.external_id == f"erased-appointment-{appointment.id}"
    assert appointment.starts_at == VISIT  # the attendance figures still count it


def test_what_was_still_to_happen_is_ended(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    patient = _the_patient(world, north, clock)
    waiting = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.state == MessageState.PENDING)
    ).all()
    assert {m.kind for m in waiting} == {"reminder"}
    [session] = db.session.scalars(select(SurveySession)).all()
    session.state, session.current_question = SessionState.OPEN, "comment"
    db.session.commit()

    report = privacy.erase_patient(patient.id, clock, ADMIN)

    db.session.expire_all()
    assert report.counts["pending_ended"] == len(waiting) == 2
    assert {fresh(OutboundMessage, m.id).state for m in waiting} == {MessageState.CANCELLED}
    assert fresh(SurveySession, session.id).state is SessionState.ERASED
    assert report.counts["conversations_ended"] == 1


def test_the_providers_copies_are_listed_to_erase(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    patient = _the_patient(world, north, clock)
    sids = {
        m.channel: m.provider_sid
        for m in db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.provider_sid.is_not(None))
        )
    }
    [reply] = db.session.scalars(
        select(InboundMessage).where(InboundMessage.channel == Channel.SMS)
    ).all()

    report = privacy.erase_patient(patient.id, clock, ADMIN)

    rows = db.session.scalars(select(ProviderErasure).order_by(ProviderErasure.id)).all()
    listed = {(r.kind, r.channel, r.provider_sid) for r in rows}
    assert listed == {
        (ErasureKind.MESSAGE, Channel.SMS, sids[Channel.SMS]),
        (ErasureKind.CALL, Channel.VOICE, sids[Channel.VOICE]),
        (ErasureKind.MESSAGE, Channel.SMS, reply.provider_sid),
    }
    assert {r.state for r in rows} == {ErasureState.PENDING}
    assert report.counts["at_provider"] == 3


def test_the_erasure_is_audited_with_ids_and_counts_only(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    patient = _the_patient(world, north, clock)
    report = privacy.erase_patient(patient.id, clock, ADMIN)
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE_PATIENT)
    ).all()
    assert (event.record_type, event.record_ids, event.clinic_id, event.address) == (
        "patient",
        [patient.id],
        patient.clinic_id,
        "10.1.2.3",
    )
    assert event.organisation_id is not None
    assert event.detail == dict(report.counts)
    assert all(isinstance(value, int) for value in event.detail.values())
    assert event.detail["messages_blanked"] == 2
    assert event.detail["replies_blanked"] == 2
    assert event.detail["answers_blanked"] == 2
    assert event.detail["responses_kept"] == 1


def test_a_second_erasure_changes_nothing(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    patient = _the_patient(world, north, clock)
    first = privacy.erase_patient(patient.id, clock, ADMIN)
    after_first = every_text_in_the_database()
    clock.advance(timedelta(hours=1))

    second = privacy.erase_patient(patient.id, clock, ADMIN)

    assert second.already
    assert second.erased_at == first.erased_at
    assert every_text_in_the_database() == after_first
    erasures = select(func.count()).where(AuditEvent.action == AuditAction.ERASE_PATIENT)
    assert db.session.scalar(erasures) == 1


def test_another_clinics_patient_is_untouched(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    south = world.clinic("south", org="elsewhere")
    patient = _the_patient(world, north, clock)
    # The same number, and a reply from it, in another organisation's clinic.
    other = _patient(world, south, SECRETS["external_id"], PHONE, given_name="Zelphine")
    sent(other, "South Clinic: see you soon", clock.now(), provider_sid=sid("SM"))
    received(south, PHONE, "Thanks, see you", clock.now(), patient=other)
    surveyed(south, other, clock.now(), "1", "Lovely staff")
    db.session.commit()
    before = {
        "patient": _snapshot(fresh(Patient, other.id)),
        "sent": db.session.scalar(
            select(OutboundMessage.body).where(OutboundMessage.patient_id == other.id)
        ),
        "replies": db.session.scalars(
            select(InboundMessage.body).where(InboundMessage.clinic_id == south.id)
        ).all(),
        "answers": _answers_of(other.id),
    }

    privacy.erase_patient(patient.id, clock, ADMIN)

    after = {
        "patient": _snapshot(fresh(Patient, other.id)),
        "sent": db.session.scalar(
            select(OutboundMessage.body).where(OutboundMessage.patient_id == other.id)
        ),
        "replies": db.session.scalars(
            select(InboundMessage.body).where(InboundMessage.clinic_id == south.id)
        ).all(),
        "answers": _answers_of(other.id),
    }
    assert after == before
    assert before["answers"] == [
        ("answered", "very_good", "1"),
        ("answered", "Lovely staff", "Lovely staff"),
    ]
    assert (
        db.session.scalar(
            select(func.count(ProviderErasure.id)).where(ProviderErasure.patient_id == other.id)
        )
        == 0
    )


def test_a_reply_from_their_number_that_no_patient_took_is_erased(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    patient = _patient(world, north, "P1", PHONE)
    stray = received(world.clinics["north"], PHONE, "Who is this?", clock.now())
    db.session.commit()
    privacy.erase_patient(patient.id, clock, ADMIN)
    found = fresh(InboundMessage, stray.id)
    assert (found.body, found.from_number) == (None, "")


def test_an_unknown_patient_is_not_found(app: Flask, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        privacy.erase_patient(4242, clock, ADMIN)


@pytest.mark.storage
def test_stored_results_stay_valid(
    app: Flask, world: World, north: Clinic, clock: FixedClock
) -> None:
    """A snapshot computed before the erasure equals one recomputed after: the response
    stays under its pseudonym, with its weight."""
    clinic = world.clinics["north"]
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    people = [
        ("Q1", {"birth_year": 1950, "sex": "F"}, ("2", "Friendly")),
        ("Q2", {"birth_year": 1990, "sex": "M"}, ("4", "Long wait")),
        ("Q3", {"birth_year": 1950, "sex": "M"}, ("1",)),
        ("Q4", {"birth_year": 1990, "sex": "F"}, ()),
        ("Q5", {"birth_year": 1990, "sex": "F"}, ("2", "skip")),
    ]
    patients = {}
    for external_id, demographics, replies in people:
        patient = world.patient(clinic, external_id, **demographics)
        surveyed(clinic, patient, at, *replies)
        patients[external_id] = patient
    before = results.compute_snapshot("fft", "clinic", clinic.id, "2026-03", clock.now())
    assert before is not None
    assert before.diagnostics["responses"] == 4

    privacy.erase_patient(patients["Q1"].id, clock, ADMIN)

    unchanged, written = results.refresh_snapshot(
        "fft", "clinic", clinic.id, "2026-03", clock.now()
    )
    assert (written, unchanged.version) == (False, before.version)
    after = results.compute_snapshot("fft", "clinic", clinic.id, "2026-03", clock.now())
    assert after is not None
    assert after.version == before.version + 1
    for name in ("method", "estimates", "weights", "nonresponse", "diagnostics"):
        assert getattr(after, name) == getattr(before, name), name
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 4
    erased_response = _response_of(patients["Q1"])
    assert erased_response.fft == "good"
    assert erased_response.answers["comment"]["value"] is None
    assert erased_response.answers["comment"]["status"] == "answered"
    assert _response_of(patients["Q2"]).answers["comment"]["value"] == "Long wait"
    assert db.session.scalar(select(func.count(ResultSnapshot.id))) == 2


def _response_of(patient: Patient) -> SurveyResponse:
    key = recording.respondent_key(
        recording.pseudonym_secret("privacy-test-secret"), patient.clinic_id, patient.id
    )
    db.session.expire_all()
    return db.session.scalars(
        select(SurveyResponse).where(SurveyResponse.respondent_key == key)
    ).one()


def _snapshot(patient: Patient) -> tuple[object, ...]:
    return (
        patient.external_id,
        patient.phone,
        patient.given_name,
        patient.family_name,
        patient.birth_year,
        patient.erased_at,
    )


def _answers_of(patient_id: int) -> list[tuple[str, str | None, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(SurveyAnswer)
        .join(SurveySession, SurveySession.id == SurveyAnswer.session_id)
        .where(SurveySession.patient_id == patient_id)
        .order_by(SurveyAnswer.id)
    )
    return [(a.status, a.value, a.raw_text) for a in rows]
