"""Surveys end to end over SMS: trigger, questions, answers, re-asks, STOP, expiry, limits.

Everything runs through the real path: the outcome service plans the invitation, the
clock's sweep claims it, an RQ job sends it with the twilio SDK to the simulator, and
replies come back as signed webhooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from app.messaging.models import InboundMessage, TemplateOverride
from app.patients.models import Patient
from app.surveys import service as surveys
from app.surveys.models import SessionState, SurveyAnswer, SurveySession, SurveyVersion
from tests.integration import PATIENT_A, PATIENT_B, Harness, Person, running_harness
from tests.statements import counting

VISIT = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # GMT: local = UTC
SURVEY_DUE = VISIT + timedelta(hours=2)


@pytest.fixture
def harness(
    app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis
) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as running:
        yield running


def _attend(h: Harness, person: Person, at: datetime = VISIT, **columns: Any) -> int:
    """Book, let the visit happen, record attendance (which plans the invitation)."""
    h.clock.set(at - timedelta(days=3))
    appointment_id = h.book(person, at)
    if columns:
        appointment = h.appointment(appointment_id)
        for name, value in columns.items():
            setattr(appointment, name, value)
        db.session.commit()
    h.advance_to(at + timedelta(minutes=30))
    record_outcome(appointment_id, AppointmentStatus.ATTENDED, h.clock)
    db.session.commit()
    return appointment_id


def _bodies(h: Harness, person: Person, *kinds: str) -> list[str]:
    return [m.body or "" for m in h.outbox(patient_id=person.id) if m.kind in kinds]


def _answers(session_id: int) -> dict[str, tuple[str, str | None, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.session_id == session_id))
    return {a.question_id: (a.status, a.value, a.raw_text) for a in rows}


def _session(person: Person) -> SurveySession:
    db.session.expire_all()
    return db.session.scalars(
        select(SurveySession).where(SurveySession.patient_id == person.id)
    ).one()


def test_a_friends_and_family_conversation(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = _attend(h, person)
    [invite] = h.outbox(kind="survey_invite")
    assert invite.due_at == SURVEY_DUE
    h.advance_to(SURVEY_DUE)
    invite = h.message(invite.id)
    assert invite.state.value == "delivered"
    assert "Overall, how was your experience of our service?" in (invite.body or "")
    assert "1 Very good, 2 Good, 3 Neither good nor poor, 4 Poor, 5 Very poor" in (
        invite.body or ""
    )
    session = _session(person)
    assert session.state is SessionState.OPEN
    assert session.appointment_id == appointment_id
    assert session.expires_at == SURVEY_DUE + timedelta(hours=48)

    h.reply(PATIENT_A, "2")
    assert _bodies(h, person, "survey_question")[-1].startswith(
        "What was good, and what could we do better?"
    )
    h.reply(PATIENT_A, "The nurse explained everything")
    assert "Thank you for your answers" in _bodies(h, person, "survey_thanks")[-1]

    session = _session(person)
    assert session.state is SessionState.COMPLETED
    assert _answers(session.id) == {
        "fft": ("answered", "good", "2"),
        "comment": ("answered", "The nurse explained everything", "The nurse explained everything"),
    }
    version = db.session.get(SurveyVersion, session.survey_version_id)
    assert version is not None
    assert (version.owner, version.slug, version.version) == ("builtin", "fft", 1)
    # A reply after the survey is over is not an answer: with nothing pending, it is flagged.
    h.reply(PATIENT_A, "1")
    assert h.inbox()[-1].flag_reason == "no_pending_appointment"


def test_one_reask_with_a_hint_then_the_words_are_kept(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    h.reply(PATIENT_A, "it was ok I suppose")
    reask = _bodies(h, person, "survey_question")[-1]
    assert reask.startswith("Sorry, we did not understand. Overall, how was your experience")
    h.reply(PATIENT_A, "meh")
    assert _bodies(h, person, "survey_question")[-1].startswith("What was good")
    h.reply(PATIENT_A, "skip")
    session = _session(person)
    assert session.state is SessionState.COMPLETED
    assert _answers(session.id) == {
        "fft": ("unparsed", "meh", "meh"),
        "comment": ("skipped", None, "skip"),
    }


def test_dont_know_and_skip_at_the_first_question(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    h.reply(PATIENT_A, "skip")  # required: asked once more, with a different hint
    assert "reply SKIP again" in _bodies(h, person, "survey_question")[-1]
    h.reply(PATIENT_A, "don't know")
    assert _answers(_session(person).id)["fft"] == ("dont_know", "dont_know", "don't know")


def test_stop_mid_survey_opts_out_and_ends_it(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    h.reply(PATIENT_A, "STOP")
    assert h.opted_out(person)
    assert _session(person).state is SessionState.OPTED_OUT
    assert len(_bodies(h, person, "opt_out_ack")) == 1
    assert _bodies(h, person, "survey_question") == []


def test_an_unanswered_session_expires_after_48_hours(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    h.advance_to(SURVEY_DUE + timedelta(hours=47))
    assert _session(person).state is SessionState.OPEN
    h.advance_to(SURVEY_DUE + timedelta(hours=48))
    assert _session(person).state is SessionState.EXPIRED
    h.reply(PATIENT_A, "1")
    assert _answers(_session(person).id) == {}
    assert h.inbox()[-1].flag_reason == "no_pending_appointment"


def test_a_patient_is_asked_at_most_once_in_thirty_days(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    second = VISIT + timedelta(days=20)
    _attend(h, person, second)
    assert len(h.outbox(kind="survey_invite")) == 1
    third = VISIT + timedelta(days=31)
    _attend(h, person, third)
    assert len(h.outbox(kind="survey_invite")) == 2


def test_the_interval_is_checked_again_at_send_time(harness: Harness) -> None:
    h = harness
    clinic_id = h.add_clinic()
    person = h.add_patient(clinic_id, PATIENT_A)
    _attend(h, person)
    # A second visit the same day, attended before the first invitation went out:
    # both invitations are planned, but only the first may reach the patient.
    second = _second_visit_planned_by_hand(h, person)
    h.advance_to(SURVEY_DUE + timedelta(hours=1))
    first, late = h.outbox(kind="survey_invite")
    assert h.message(first.id).state.value == "delivered"
    assert h.message(late.id).id == second
    assert h.message(second).state.value == "suppressed"
    assert h.creates(PATIENT_A) == 1


def _second_visit_planned_by_hand(h: Harness, person: Person) -> int:
    from app.messaging.models import OutboundMessage
    from app.messaging.states import MessageState

    appointment_id = h.book(person, VISIT + timedelta(minutes=10))
    appointment = h.appointment(appointment_id)
    appointment.status = AppointmentStatus.ATTENDED
    now = h.clock.now()
    row = OutboundMessage(
        clinic_id=person.clinic_id,
        patient_id=person.id,
        appointment_id=appointment_id,
        kind="survey_invite",
        channel="sms",
        state=MessageState.PENDING,
        due_at=SURVEY_DUE + timedelta(minutes=30),
        expires_at=SURVEY_DUE + timedelta(days=1),
        created_at=now,
        updated_at=now,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_suppressed_pathways_are_never_surveyed(harness: Harness) -> None:
    h = harness
    clinic_id = h.add_clinic()
    clinic = db.session.get(Clinic, clinic_id)
    assert clinic is not None
    clinic.survey_suppressed_pathways = ["pregnancy-loss"]
    db.session.commit()
    person = h.add_patient(clinic_id, PATIENT_A)
    _attend(h, person, pathway="pregnancy-loss")
    assert h.outbox(kind="survey_invite") == []
    other = h.add_patient(clinic_id, PATIENT_B)
    _attend(h, other, VISIT + timedelta(days=1), pathway="physiotherapy")
    assert len(h.outbox(kind="survey_invite")) == 1


def test_quiet_hours_move_the_invitation_to_the_morning(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    evening = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)  # +2 h = 21:30, inside 21:00–08:00
    _attend(h, person, evening)
    [invite] = h.outbox(kind="survey_invite")
    assert invite.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_a_corrected_outcome_withdraws_the_invitation(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = _attend(h, person)
    record_outcome(appointment_id, AppointmentStatus.DNA, h.clock)
    db.session.commit()
    h.advance_to(SURVEY_DUE)
    [invite] = h.outbox(kind="survey_invite")
    assert invite.state.value == "cancelled"
    assert h.creates(PATIENT_A) == 0


def test_opted_out_patients_are_not_invited(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.reply(PATIENT_A, "STOP")
    _attend(h, person)
    assert h.outbox(kind="survey_invite") == []


CLINIC_SURVEY: dict[str, Any] = {
    "slug": "fft",
    "questions": [
        {
            "id": "helpful",
            "type": "yes_no",
            "text": {"en": "Was the clinic helpful?", "pl": "Czy przychodnia pomogła?"},
            "next": [{"when": {"answer": ["yes"]}, "goto": "end"}],
        },
        {"id": "why", "type": "free_text", "text": "What could we do better?"},
    ],
}


def test_a_clinic_survey_version_and_its_skip_logic(harness: Harness) -> None:
    h = harness
    clinic_id = h.add_clinic()
    version = surveys.register_definition(CLINIC_SURVEY, clinic_id, h.clock.now())
    again = surveys.register_definition(CLINIC_SURVEY, clinic_id, h.clock.now())
    db.session.commit()
    assert again.id == version.id
    person = h.add_patient(clinic_id, PATIENT_A, locale="pl")
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    assert "Czy przychodnia pomogła?" in _bodies(h, person, "survey_invite")[0]
    h.reply(PATIENT_A, "tak")  # yes ends the survey by the rule
    session = _session(person)
    assert session.state is SessionState.COMPLETED
    assert session.survey_version_id == version.id
    assert _answers(session.id) == {"helpful": ("answered", "yes", "tak")}

    changed = dict(CLINIC_SURVEY, questions=[CLINIC_SURVEY["questions"][0]])
    newer = surveys.register_definition(changed, clinic_id, h.clock.now())
    db.session.commit()
    assert (newer.version, newer.id != version.id) == (2, True)


def test_a_clinic_override_changes_the_wording(harness: Harness) -> None:
    h = harness
    clinic_id = h.add_clinic()
    db.session.add(
        TemplateOverride(
            clinic_id=clinic_id,
            kind="survey_thanks",
            locale="en",
            body="Diolch! Thanks from %(clinic)s.",
            updated_at=h.clock.now(),
        )
    )
    db.session.commit()
    person = h.add_patient(clinic_id, PATIENT_A)
    _attend(h, person)
    h.advance_to(SURVEY_DUE)
    h.reply(PATIENT_A, "1")
    h.reply(PATIENT_A, "skip")
    assert _bodies(h, person, "survey_thanks") == ["Diolch! Thanks from North Clinic."]


def test_replies_without_a_session_still_reach_the_menu(harness: Harness) -> None:
    h = harness
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    h.clock.set(VISIT - timedelta(days=3))
    appointment_id = h.book(person, VISIT)
    h.advance_to(VISIT - timedelta(days=1))
    h.reply(PATIENT_A, "1")
    assert h.appointment(appointment_id).confirmed_at is not None
    db.session.expire_all()
    inbound = db.session.scalars(select(InboundMessage)).all()
    assert [i.intent for i in inbound] == ["confirm"]
    patient = db.session.get(Patient, person.id)
    assert patient is not None


def _invitation_statements(h: Harness, clinic_id: int, first: int, count: int, day: int) -> int:
    """Statements a send job runs for `count` invitations (one per patient, new patients
    from the `first`-th on) in one batch, after visits `day` days after VISIT."""
    h.sim.faults.callback_statuses = frozenset()  # the sending alone
    people = [
        h.add_patient(clinic_id, f"+4474005{index:05d}") for index in range(first, first + count)
    ]
    visit = VISIT + timedelta(days=day)
    for person in people:
        _attend(h, person, visit)
    h.clock.set(visit + timedelta(hours=2))
    assert h.sweep().claimed == count
    with counting(db.engine) as job:
        h.drain()
    assert h.creates(people[-1].phone) == 1  # its invitation (the reminder had expired)
    assert all(_session(person).state is SessionState.OPEN for person in people)
    return job.statements


def test_a_batch_of_invitations_reads_what_it_needs_once(harness: Harness) -> None:
    """The clinic, the patients, their appointments, their last conversations, the survey
    and the wording are read once for the batch: each invitation more costs only what
    it writes (its conversation, its row in the results store, its body)."""
    clinic_id = harness.add_clinic()
    few = _invitation_statements(harness, clinic_id, 0, 2, day=0)
    more = _invitation_statements(harness, clinic_id, 2, 8, day=1)
    assert more - few <= 3 * 6
