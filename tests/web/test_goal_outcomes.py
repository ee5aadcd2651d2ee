"""The goal outcomes page: the headline counts (no follow-up yet counted, not dropped),
weighted and unweighted figures worked by hand, figures by group, downloads in the
audit log, who may see it, and the board report's figures."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from app.web.goal_charts import goals_board
from tests.goals.cohort import OPENED, SECRET_GOAL, SPECS, goal_cohort
from tests.web.staff import StaffDesk
from tests.world import World


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    clinic = world.clinic("north", org="trust")
    goal_cohort(clinic, SPECS, OPENED)
    return clinic


def _client(app: Flask, desk: StaffDesk, role: Role, *clinics: str) -> Any:
    return desk.sign_in(app.test_client(), desk.member(role, list(clinics), org="trust"))


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def test_the_outcomes_of_a_clinic_are_weighted_to_every_goal(
    app: Flask, desk: StaffDesk, north: Clinic
) -> None:
    client = _client(app, desk, Role.CLINIC_MANAGER)
    answer = client.get(f"/staff/goals?where=clinic:{north.id}")
    assert answer.status_code == 200
    page = _text(answer)
    assert (
        "40 goals of 40 patients: 20 with a follow-up score, 20 with no follow-up yet and 0 "
        "not scored yet."
    ) in page
    assert "25.0% (95% interval" in page
    assert "50.0% (95% interval" in page
    assert "+1.0 points (95% interval" in page
    assert "+2.0 points (95% interval" in page
    assert "Weighted to every goal opened in the period" in page
    assert 'id="changes-heading"' in page
    assert 'id="improved-language-heading"' in page
    assert SECRET_GOAL not in page


def test_downloads_are_escaped_and_in_the_audit_log(
    app: Flask, desk: StaffDesk, north: Clinic, clock: FixedClock
) -> None:
    client = _client(app, desk, Role.ANALYST)
    query = f"where=clinic:{north.id}&first=2025-03&last=2026-02"
    groups = client.get(f"/staff/goals/download/groups.csv?{query}")
    assert groups.status_code == 200
    assert groups.headers["Content-Disposition"] == (
        f'attachment; filename="goals-clinic-{north.id}-2025-03-2026-02-groups.csv"'
    )
    rows = list(csv.reader(io.StringIO(groups.get_data(as_text=True))))
    assert rows[0][:4] == ["Group", "Level", "Goals", "Followed up"]
    welsh = next(row for row in rows if row[1].startswith("Welsh"))
    assert welsh[2:5] == ["10", "10", "1.0"]  # every Welsh goal improved reliably
    svg = client.get(f"/staff/goals/download/changes.svg?{query}")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert client.get(f"/staff/goals/download/nothing.csv?{query}").status_code == 404
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT))
    )
    assert [(e.record_type, e.detail["figure"], e.detail["format"]) for e in events] == [
        ("goal_outcomes", "groups", "csv"),
        ("goal_outcomes", "changes", "svg"),
    ]
    assert events[0].record_ids == [north.id]


def test_a_place_or_month_off_the_lists_is_a_400(
    app: Flask, desk: StaffDesk, world: World, north: Clinic
) -> None:
    south = world.clinic("south", org="trust")
    client = _client(app, desk, Role.CLINIC_MANAGER, "south")
    refused = client.get(f"/staff/goals?where=clinic:{north.id}")
    assert refused.status_code == 400
    assert "Choose where to show goals for from the list" in _text(refused)
    assert client.get("/staff/goals?first=2026-13").status_code == 400
    own = _text(client.get(f"/staff/goals?where=clinic:{south.id}"))
    assert "No goals were opened here in these months." in own


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ANALYST, 200), (Role.CLINICIAN, 200), (Role.RECEPTIONIST, 403), (Role.AUDITOR, 403)],
)
def test_who_may_read_goal_outcomes(
    app: Flask, desk: StaffDesk, north: Clinic, role: Role, status: int
) -> None:
    assert _client(app, desk, role).get("/staff/goals").status_code == status


def test_the_board_report_takes_the_same_figures(app: Flask, north: Clinic) -> None:
    with app.test_request_context():
        board = goals_board([north], date(2026, 2, 1))
        assert board.summary[0].startswith("40 goals of 40 patients")
        assert "25.0% of followed-up goals improved reliably" in board.summary[1]
        assert [chart.title for chart in board.charts][:2] == [
            "Goals by change since the first score",
            "Goals with reliable improvement, by age band",
        ]
        before = goals_board([north], date(2025, 12, 1))
        assert (before.summary, before.charts) == ([], [])
        assert before.empty.startswith("No goals were opened")
