"""Goals in the workspace: recorded with the patient on the timeline, shown large to the
patient with their chart, scored, closed; who may do what; and the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.extensions import db
from app.goals import service as goals
from app.goals.models import CloseReason, Goal, GoalRound, GoalScore, RoundState
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient
from tests.web.staff import StaffDesk, post_form
from tests.world import World


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    return world.clinic("north", org="trust")


@pytest.fixture
def patient(world: World, north: Clinic) -> Patient:
    return world.patient(north, "P-1", given_name="Ada", family_name="Lovelace", locale="pl")


def _client(app: Flask, desk: StaffDesk, role: Role) -> Any:
    return desk.sign_in(app.test_client(), desk.member(role, org="trust"))


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _goal(patient: Patient, clock: FixedClock, *scores: int, text: str = "Walk") -> int:
    goal = goals.open_goal(patient.id, goals.GoalInput(text, "en"), SYSTEM, clock)
    for score in scores:
        clock.advance(timedelta(days=14))
        goals.record_score(goal.id, score, SYSTEM, clock)
    return goal.id


def _table_scores(page: str, goal_id: int) -> list[str]:
    table = re.search(rf'<table[^>]*id="goal-{goal_id}(?:-large)?-table".*?</table>', page, re.S)
    assert table is not None
    return re.findall(r'nhsuk-table__cell--numeric"[^>]*>.*?</span>([^<]+)</td>', table.group(0))


def test_a_clinician_records_a_goal_in_the_patients_words(
    app: Flask, desk: StaffDesk, patient: Patient
) -> None:
    client = _client(app, desk, Role.CLINICIAN)
    path = f"/staff/patients/{patient.id}/goals/new"
    form = {"locale": "pl", "text": "Chodzić sama do sklepu", "translation_en": "", "score": "2"}
    refused = post_form(client, path, form)
    assert refused.status_code == 422
    assert "Write the goal in English too" in _text(refused)
    answer = post_form(client, path, {**form, "translation_en": "Walk to the shops alone"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/staff/patients/{patient.id}#goals")
    timeline = _text(client.get(f"/staff/patients/{patient.id}"))
    assert '<q class="wesaid-quote" lang="pl">Chodzić sama do sklepu</q>' in timeline
    assert "In English: Walk to the shops alone" in timeline
    assert "2 out of 10" in timeline
    assert "No follow-up yet" in timeline  # one score: counted, with no change yet
    [goal] = db.session.scalars(select(Goal))
    assert _table_scores(timeline, goal.id) == ["2"]
    [change] = _events(AuditAction.CHANGE_GOALS)
    assert change.detail == {"change": "opened", "patient_id": patient.id, "scored": True}
    assert _events(AuditAction.VIEW_PATIENT)[-1].detail["goals"] is True


def test_the_goal_turned_toward_the_patient_shows_latest_and_change(
    app: Flask, desk: StaffDesk, patient: Patient, clock: FixedClock
) -> None:
    goal_id = _goal(patient, clock, 2, 4, 6)
    client = _client(app, desk, Role.CLINICIAN)
    path = f"/staff/patients/{patient.id}/goals/{goal_id}"
    page = _text(client.get(path))
    assert "6 out of 10" in page
    assert re.search(r'wesaid-goal__number">\+4<', page)
    assert "Reliable improvement" in page
    assert _table_scores(page, goal_id) == ["2", "4", "6"]
    assert page.count('class="point"') == 3
    recorded = post_form(client, f"{path}/score", {"score": "5"}, page=path)
    assert recorded.status_code == 303
    assert db.session.scalars(select(GoalScore.score).order_by(GoalScore.id)).all() == [2, 4, 6, 5]
    refused = post_form(client, f"{path}/score", {"score": "11"}, page=path)
    assert refused.status_code == 422
    views = [e.detail for e in _events(AuditAction.VIEW_PATIENT) if e.detail.get("page") == "goal"]
    assert views[0] == {"goals": True, "page": "goal", "goal_id": goal_id}


def test_a_goal_is_closed_with_a_reason_and_keeps_its_scores(
    app: Flask, desk: StaffDesk, patient: Patient, clock: FixedClock
) -> None:
    goal_id = _goal(patient, clock, 7, 3)
    client = _client(app, desk, Role.CLINIC_MANAGER)
    path = f"/staff/patients/{patient.id}/goals/{goal_id}/close"
    assert post_form(client, path, {}).status_code == 422
    assert post_form(client, path, {"reason": "elsewhere"}).status_code == 422
    assert post_form(client, path, {"reason": "changed"}).status_code == 303
    goal = db.session.get(Goal, goal_id)
    assert goal is not None
    db.session.refresh(goal)
    assert goal.close_reason is CloseReason.CHANGED
    timeline = _text(client.get(f"/staff/patients/{patient.id}"))
    assert "Closed goals" in timeline
    assert "Reliable deterioration" in timeline  # 7 to 3: a fall of 4
    assert "No open goals." in timeline


def test_at_most_three_goals_are_open(
    app: Flask, desk: StaffDesk, patient: Patient, clock: FixedClock
) -> None:
    for word in ("Walk", "Sleep", "Cook"):
        _goal(patient, clock, text=word)
    client = _client(app, desk, Role.CLINICIAN)
    page = _text(client.get(f"/staff/patients/{patient.id}/goals/new"))
    assert "The patient has 3 open goals" in page
    timeline = _text(client.get(f"/staff/patients/{patient.id}"))
    assert "close one to add another" in timeline


def test_a_patient_who_stopped_replying_is_shown_as_such(
    app: Flask, desk: StaffDesk, patient: Patient, clock: FixedClock
) -> None:
    _goal(patient, clock, 4)
    for days in (28, 14):
        _round(patient, clock, days, RoundState.EXPIRED)
    client = _client(app, desk, Role.CLINICIAN)
    timeline = _text(client.get(f"/staff/patients/{patient.id}"))
    assert "Stopped replying" in timeline
    assert "No answer to the last 2 questions about their goals" in timeline


def _round(patient: Patient, clock: FixedClock, days_ago: int, state: RoundState) -> None:
    at = clock.now() - timedelta(days=days_ago)
    message = OutboundMessage(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind=MessageKind.GOAL_QUESTION,
        channel=Channel.SMS,
        state=MessageState.DELIVERED,
        due_at=at,
        expires_at=at + timedelta(days=2),
        created_at=at,
        updated_at=at,
    )
    db.session.add(message)
    db.session.flush()
    db.session.add(
        GoalRound(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            message_id=message.id,
            channel=Channel.SMS,
            locale="en",
            state=state,
            opened_at=at,
            expires_at=at + timedelta(days=2),
            closed_at=at + timedelta(days=2),
        )
    )
    db.session.commit()


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.ANALYST, Role.EXPERIENCE_LEAD])
def test_goals_are_the_clinicians_alone(
    app: Flask, desk: StaffDesk, patient: Patient, clock: FixedClock, role: Role
) -> None:
    goal_id = _goal(patient, clock, 5, text="Swim again")
    client = _client(app, desk, role)
    timeline = client.get(f"/staff/patients/{patient.id}")
    assert "Swim again" not in _text(timeline)
    for path in ("goals/new", f"goals/{goal_id}", f"goals/{goal_id}/close"):
        assert client.get(f"/staff/patients/{patient.id}/{path}").status_code == 403


def test_another_clinics_goal_is_not_found(
    app: Flask, desk: StaffDesk, world: World, patient: Patient, clock: FixedClock
) -> None:
    south = world.clinic("south", org="trust")
    other = world.patient(south, "S-1")
    goal_id = _goal(other, clock, 5)
    client = desk.sign_in(app.test_client(), desk.member(Role.CLINICIAN, ["north"]))
    assert client.get(f"/staff/patients/{patient.id}/goals/{goal_id}").status_code == 404
    assert client.get(f"/staff/patients/{other.id}/goals/{goal_id}").status_code == 404
    assert goals.close_goal(goal_id, CloseReason.DROPPED, SYSTEM, clock)  # untouched before
