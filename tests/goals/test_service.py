"""Goal commands: opening (at most three, in the patient's words, translated when not in
English), closing with a reason, scores recorded with the patient, the pathways that use
goals, planning before appointments, and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.appointments.imports import import_appointment_rows
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.extensions import db
from app.goals import service as goals
from app.goals.forgetting import FORGETTER
from app.goals.models import CloseReason, Goal, GoalScore
from app.messaging.models import OutboundMessage
from tests.world import World

STAFF = Actor(address="203.0.113.9")


def _events() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.CHANGE_GOALS))
    )


def test_a_goal_is_kept_in_the_patients_words_with_its_translation(
    world: World, clock: FixedClock
) -> None:
    north = world.clinic()
    patient = world.patient(north, "P1", locale="pl")
    given = goals.GoalInput("  Chodzić  sama do sklepu ", "pl", "Walk to the shops alone", 2)
    goal = goals.open_goal(patient.id, given, STAFF, clock)
    assert (goal.text, goal.text_locale, goal.translation_en) == (
        "Chodzić sama do sklepu",
        "pl",
        "Walk to the shops alone",
    )
    [score] = db.session.scalars(select(GoalScore).where(GoalScore.goal_id == goal.id))
    assert (score.score, score.source.value, score.channel) == (2, "staff", None)
    [event] = _events()
    assert (event.record_type, event.record_ids, event.clinic_id) == ("goal", [goal.id], north.id)
    assert event.detail == {"change": "opened", "patient_id": patient.id, "scored": True}
    assert "sklepu" not in str(event.detail)  # never the goal's words


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (goals.GoalInput("", "en"), "text"),
        (goals.GoalInput("x" * 301, "en"), "text"),
        (goals.GoalInput("Chodzić", "pl"), "translation_en"),
        (goals.GoalInput("Walk", "fr"), "locale"),
        (goals.GoalInput("Walk", "en", score=11), "score"),
    ],
)
def test_a_goal_that_breaks_a_rule_is_refused_naming_the_field(
    world: World, clock: FixedClock, given: goals.GoalInput, field: str
) -> None:
    patient = world.patient(world.clinic(), "P1")
    with pytest.raises(Invalid, match=f"^{field}: "):
        goals.open_goal(patient.id, given, STAFF, clock)
    assert db.session.scalars(select(Goal)).all() == []


def test_at_most_three_goals_are_open_and_closing_one_makes_room(
    world: World, clock: FixedClock
) -> None:
    patient = world.patient(world.clinic(), "P1")
    opened = [goals.open_goal(patient.id, goals.GoalInput(w, "en"), STAFF, clock) for w in "abc"]
    with pytest.raises(Invalid, match="at most 3 open goals"):
        goals.open_goal(patient.id, goals.GoalInput("d", "en"), STAFF, clock)
    assert goals.close_goal(opened[0].id, CloseReason.REACHED, STAFF, clock)
    assert not goals.close_goal(opened[0].id, CloseReason.DROPPED, STAFF, clock)
    goals.open_goal(patient.id, goals.GoalInput("d", "en"), STAFF, clock)
    closed = db.session.get(Goal, opened[0].id)
    assert closed is not None
    assert closed.close_reason is CloseReason.REACHED
    with pytest.raises(Invalid, match="closed"):
        goals.record_score(closed.id, 5, STAFF, clock)
    assert [e.detail["change"] for e in _events()] == ["opened"] * 3 + ["closed", "opened"]


def test_pathways_that_use_goals(world: World, clock: FixedClock) -> None:
    north = world.clinic()
    goals.set_pathway(north.id, "physio", 72, clock)
    goals.set_pathway(north.id, "physio", 48, clock)
    assert goals.pathway_hours(north.id) == {"physio": 48}
    for pathway, hours in (("Physio Two", 48), ("physio", 0), ("physio", 24 * 29)):
        with pytest.raises(Invalid):
            goals.set_pathway(north.id, pathway, hours, clock)
    assert goals.remove_pathway(north.id, "physio", clock)
    assert goals.pathway_hours(north.id) == {}


def test_a_question_is_asked_the_evening_before_when_the_hour_is_quiet(
    world: World, clock: FixedClock
) -> None:
    north = world.clinic()  # quiet from 21:00 to 08:00
    goals.set_pathway(north.id, "physio", 24, clock)
    world.patient(north, "P1")
    early = datetime(2026, 3, 12, 7, 30, tzinfo=UTC)  # asked 24 hours before: 07:30, quiet
    row = {"external_id": "A1", "patient_external_id": "P1", "starts_at": early.isoformat()}
    _book_on_pathway(world, north.id, row)
    [question] = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.kind == "goal_question")
    )
    assert question.due_at == datetime(2026, 3, 10, 20, 59, tzinfo=UTC)
    assert question.expires_at == early


def _book_on_pathway(world: World, clinic_id: int, row: dict[str, str]) -> None:
    report = import_appointment_rows(
        clinic_id, [{**row, "pathway": "physio"}], source="test", strict=True, clock=world.clock
    )
    assert not report.errors


def test_erasure_blanks_the_goals_words_and_keeps_their_scores(
    world: World, clock: FixedClock
) -> None:
    north = world.clinic()
    patient = world.patient(north, "P1", locale="pl")
    goal = goals.open_goal(patient.id, goals.GoalInput("Spać", "pl", "Sleep", 4), STAFF, clock)
    assert FORGETTER.count(patient.id, north.id) == {"goals_in_own_words": 1, "goal_rounds_open": 0}
    clock.set(clock.now() + timedelta(days=1))
    FORGETTER.erase(patient.id, north.id, clock.now())
    db.session.commit()
    db.session.expire_all()
    erased = db.session.get(Goal, goal.id)
    assert erased is not None
    assert (erased.text, erased.translation_en) == ("", None)
    assert db.session.scalars(select(GoalScore.score)).all() == [4]
    assert FORGETTER.purge([north.id], clock.now()) == {}
