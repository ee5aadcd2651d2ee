"""Goal questions end to end: planned from the booking, claimed by the clock's sweep,
sent by an RQ job with the twilio SDK to the simulator; replies, key presses and the web
form come back over HTTP (signed webhooks, the simulator's call playing our TwiML, the
form behind the link)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select

from app.appointments.imports import import_appointment_rows
from app.appointments.models import Appointment
from app.appointments.service import cancel_by_clinic, move_appointment
from app.audit.service import SYSTEM
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.goals import service as goals
from app.goals.models import Goal, GoalRound, GoalScore, RoundState
from app.goals.rounds import expire_rounds
from app.messaging import voice
from app.messaging.states import MessageState
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.simulator.calls import Prompt
from tests.integration import PATIENT_A, Harness, Person, running_harness

#: Thursday 5 March 2026, 14:00 in London (GMT, so local = UTC); the clock starts on
#: Monday 2 March at 09:00.
VISIT = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
#: The pathway asks 48 hours before: Tuesday 3 March, 14:00.
ASKED = VISIT - timedelta(hours=48)
#: The one-day reminder: Wednesday 4 March, 10:00.
REMINDED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
LANDLINE = "+441134960123"
WALK, SLEEP = "Walk to the shops on my own", "Sleep through the night"


class Callee:
    """Answers every call and presses the given keys in turn (None: no key)."""

    def __init__(self, *keys: str | None) -> None:
        self.keys = list(keys)
        self.prompts: list[Prompt] = []

    def answer_call(self, *, to: str, from_: str) -> str:
        return "answered"

    def press(self, *, to: str, prompt: Prompt) -> str | None:
        self.prompts.append(prompt)
        return self.keys.pop(0) if self.keys else None


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _patient(
    h: Harness, clinic_id: int, phone: str = PATIENT_A, locale: str = "en", channel: str = "sms"
) -> Person:
    row = {"external_id": "P1", "phone": phone, "locale": locale, "channel": channel}
    report = import_patient_rows(clinic_id, [row], source="test", strict=True, clock=h.clock)
    assert not report.errors, report.errors
    found = db.session.scalars(select(Patient.id).where(Patient.phone == phone)).one()
    return Person(found, clinic_id, "P1", phone)


def _goals(h: Harness, person: Person, *words: str, locale: str = "en") -> list[int]:
    made = []
    for text in words:
        given = goals.GoalInput(text, locale, "In English" if locale != "en" else "", score=3)
        made.append(goals.open_goal(person.id, given, SYSTEM, h.clock).id)
    return made


def _book(h: Harness, person: Person, at: datetime = VISIT, pathway: str = "physio") -> int:
    row = {
        "external_id": f"A{at:%d%H}",
        "patient_external_id": person.external_id,
        "starts_at": at.isoformat(),
        "pathway": pathway,
    }
    report = import_appointment_rows(
        person.clinic_id, [row], source="test", strict=True, clock=h.clock
    )
    assert not report.errors, report.errors
    return db.session.scalars(
        select(Appointment.id).where(Appointment.external_id == row["external_id"])
    ).one()


def _setup(h: Harness, **patient: str) -> Person:
    clinic_id = h.add_clinic()
    goals.set_pathway(clinic_id, "physio", 48, h.clock)
    return _patient(h, clinic_id, **patient)


def _scores(goal_id: int) -> list[tuple[int, str, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(GoalScore).where(GoalScore.goal_id == goal_id).order_by(GoalScore.id)
    )
    return [(s.score, s.source.value, s.channel.value if s.channel else None) for s in rows]


def _round(person: Person) -> GoalRound:
    db.session.expire_all()
    return db.session.scalars(
        select(GoalRound).where(GoalRound.patient_id == person.id).order_by(GoalRound.id.desc())
    ).first()  # type: ignore[return-value]


def _bodies(h: Harness, person: Person, *kinds: str) -> list[str]:
    return [m.body or "" for m in h.outbox(patient_id=person.id) if m.kind in kinds]


def test_goals_are_asked_one_at_a_time_and_read_like_survey_answers(h: Harness) -> None:
    person = _setup(h)
    walk, sleep = _goals(h, person, WALK, SLEEP)
    _book(h, person)
    [question] = h.outbox(kind="goal_question")
    assert (question.due_at, question.expires_at) == (ASKED, VISIT)

    h.advance_to(ASKED)
    question = h.message(question.id)
    assert question.state is MessageState.DELIVERED
    assert question.body == (
        "North Clinic: before your appointment on Thursday 5 March, a question about your "
        f"goals. Reply STOP to opt out. How close are you to: {WALK}? Reply 0 (not at all) "
        "to 10 (reached)."
    )
    h.reply(PATIENT_A, "Seven")
    assert _scores(walk) == [(3, "staff", None), (7, "reply", "sms")]
    assert _bodies(h, person, "goal_question")[-1] == (
        f"How close are you to: {SLEEP}? Reply 0 (not at all) to 10 (reached)."
    )
    h.reply(PATIENT_A, "not much better")  # asked once more, with a hint
    assert _bodies(h, person, "goal_question")[-1].startswith(
        "Sorry, we did not understand. Please reply with one number from 0 to 10. How close"
    )
    h.reply(PATIENT_A, "still not sure what to say")  # the second time: move on, staff read it
    assert _bodies(h, person, "goal_thanks") == [
        "Thank you. North Clinic will look at your goals with you at your appointment."
    ]
    assert _scores(sleep) == [(3, "staff", None)]
    assert [(m.intent, m.flag_reason) for m in h.inbox()] == [
        ("goal_score", None),
        ("goal_reask", None),
        (None, "not_understood"),
    ]
    assert _round(person).state is RoundState.COMPLETED
    assert h.sim.duplicate_sends() == 0


def test_a_polish_patient_answers_in_words_and_own_digits(h: Harness) -> None:
    person = _setup(h, locale="pl")
    walk, sleep = _goals(h, person, "Chodzić sama do sklepu", "Przespać noc", locale="pl")
    _book(h, person)
    h.advance_to(ASKED)
    [question] = h.outbox(kind="goal_question")
    assert "Jak blisko jesteś celu: Chodzić sama do sklepu?" in (question.body or "")
    h.reply(PATIENT_A, "dziesiec")
    h.reply(PATIENT_A, "４")  # a full-width digit, as some phones send
    assert (_scores(walk)[-1], _scores(sleep)[-1]) == ((10, "reply", "sms"), (4, "reply", "sms"))
    assert _bodies(h, person, "goal_thanks")[0].startswith("Dziękujemy. North Clinic")


def test_stop_ends_the_round_at_any_point(h: Harness) -> None:
    person = _setup(h)
    _walk, sleep = _goals(h, person, WALK, SLEEP)
    _book(h, person)
    h.advance_to(ASKED)
    h.reply(PATIENT_A, "5")
    h.reply(PATIENT_A, "STOP")
    assert h.opted_out(person)
    assert _round(person).state is RoundState.OPTED_OUT
    assert _bodies(h, person, "goal_thanks") == []
    assert [m.kind for m in h.outbox(patient_id=person.id)][-1] == "opt_out_ack"
    assert _scores(sleep) == [(3, "staff", None)]


def test_a_reminder_sent_after_the_question_owns_the_menu_digits(h: Harness) -> None:
    person = _setup(h)
    [walk] = _goals(h, person, WALK)
    appointment_id = _book(h, person)
    h.advance_to(ASKED)
    h.advance_to(REMINDED)  # the patient did not answer; the reminder goes
    assert h.outbox(kind="reminder")[-1].state is MessageState.DELIVERED
    h.reply(PATIENT_A, "1")
    assert h.appointment(appointment_id).confirmed_at is not None
    assert _scores(walk) == [(3, "staff", None)]
    assert _round(person).state is RoundState.OPEN  # still open for the form or staff


def test_a_question_goes_again_when_the_appointment_moves_and_not_when_cancelled(
    h: Harness,
) -> None:
    person = _setup(h)
    _goals(h, person, WALK)
    appointment_id = _book(h, person)
    later = VISIT + timedelta(days=7)
    appointment = h.appointment(appointment_id)
    clinic = db.session.get(Clinic, appointment.clinic_id)
    assert clinic is not None
    move_appointment(appointment, clinic, later, h.clock)
    db.session.commit()
    rows = h.outbox(kind="goal_question")
    assert [(r.state, r.due_at) for r in rows] == [
        (MessageState.CANCELLED, ASKED),
        (MessageState.PENDING, later - timedelta(hours=48)),
    ]
    cancel_by_clinic(appointment_id, h.clock)
    db.session.commit()
    assert [r.state for r in h.outbox(kind="goal_question")] == [MessageState.CANCELLED] * 2


def test_nothing_is_sent_to_a_patient_without_goals_or_off_the_pathway(h: Harness) -> None:
    person = _setup(h)
    _book(h, person)  # no goals yet
    _book(h, person, VISIT + timedelta(days=1), pathway="podiatry")
    h.advance_to(ASKED)
    [question] = h.outbox(kind="goal_question")
    assert question.state is MessageState.SUPPRESSED
    assert h.creates(PATIENT_A) == 0


def test_a_pathway_change_without_a_move_plans_or_withdraws_the_question(h: Harness) -> None:
    person = _setup(h)
    _goals(h, person, WALK)
    _book(h, person, pathway="podiatry")
    assert h.outbox(kind="goal_question") == []
    _book(h, person, pathway="physio")  # the same appointment, now on the goals pathway
    [question] = h.outbox(kind="goal_question")
    assert (question.state, question.due_at) == (MessageState.PENDING, ASKED)
    _book(h, person, pathway="podiatry")  # and off it again, before the question went
    [question] = h.outbox(kind="goal_question")
    assert question.state is MessageState.CANCELLED
    h.advance_to(ASKED)
    assert h.creates(PATIENT_A) == 0


def test_a_round_nobody_answers_ends_when_the_appointment_starts(h: Harness) -> None:
    person = _setup(h)
    _goals(h, person, WALK)
    _book(h, person)
    h.advance_to(ASKED)
    h.clock.set(VISIT)
    assert expire_rounds(h.clock.now()) == 1
    assert _round(person).state is RoundState.EXPIRED
    h.reply(PATIENT_A, "8")  # too late: not a score any more, and not a menu digit
    assert h.inbox()[-1].flag_reason == "not_understood"


def test_a_voice_patient_scores_on_the_keypad_with_star_for_ten(h: Harness) -> None:
    if "voice" not in h.app.blueprints:
        h.app.register_blueprint(voice.bp)
    callee = Callee("7", "#", "*")  # "#" means nothing: asked again, then star
    h.sim.callee = callee
    person = _setup(h, phone=LANDLINE, channel="voice")
    walk, sleep = _goals(h, person, WALK, SLEEP)
    _book(h, person)
    h.advance_to(ASKED)
    [question] = h.outbox(kind="goal_question")
    assert (question.channel, question.state) == ("voice", MessageState.DELIVERED)
    assert _scores(walk)[-1] == (7, "keypad", "voice")
    assert _scores(sleep)[-1] == (10, "keypad", "voice")
    call = h.sim.calls.find(question.provider_sid or "")
    assert call is not None
    said = [entry.text for entry in call.transcript if entry.kind == "say"]
    assert said[0] == (
        "Hello. This is North Clinic with a question about your goals before your "
        "appointment on Thursday 5 March."
    )
    assert said[-1] == (
        "Thank you. North Clinic will look at your goals with you at your appointment."
    )
    assert f"How close are you to: {WALK}?" in callee.prompts[0].text
    assert "press star for 10, reached" in callee.prompts[0].text
    assert "Sorry, we did not get that." in callee.prompts[2].heard
    assert _round(person).state is RoundState.COMPLETED


def test_a_web_patient_scores_every_goal_on_the_form(h: Harness) -> None:
    person = _setup(h, channel="web")
    walk, sleep = _goals(h, person, WALK, SLEEP)
    _book(h, person)
    h.advance_to(ASKED)
    [question] = h.outbox(kind="goal_question")
    found = re.search(r"https?://\S+/g/(\S+)", question.body or "")
    assert found is not None
    assert question.body.startswith(  # type: ignore[union-attr]
        "North Clinic: before your appointment on Thursday 5 March, please tell us how close"
    )
    path = f"/g/{found.group(1)}"
    client = h.app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"How close are you to: {WALK}?" in html
    assert "10 (reached)" in html
    token = re.search(r'name="_form" value="([^"]+)"', html)
    assert token is not None
    missing = client.post(path, data={"_form": token.group(1), f"goal_{walk}": "6"})
    assert missing.status_code == 422
    assert "Choose a number from 0 to 10." in missing.get_data(as_text=True)
    sent = client.post(
        path, data={"_form": token.group(1), f"goal_{walk}": "6", f"goal_{sleep}": "9"}
    )
    assert sent.status_code == 200
    assert "Your scores have been sent." in sent.get_data(as_text=True)
    assert _scores(walk)[-1] == (6, "web_form", "web")
    assert _scores(sleep)[-1] == (9, "web_form", "web")
    assert client.get(path).status_code == 409
    assert client.get(path[:-3] + "xyz").status_code == 404
    assert _round(person).state is RoundState.COMPLETED
    assert db.session.get(Goal, walk) is not None
