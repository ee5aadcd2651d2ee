"""Which pathways ask for goals' scores, from the clinic's settings: added, changed and
stopped by a clinic manager, every change audited, bad input shown against its field,
and another clinic's page not found."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.goals.service import pathway_hours
from tests.web.staff import StaffDesk, post_form
from tests.world import World


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    return made


def _path(clinic: Clinic) -> str:
    return f"/staff/settings/{clinic.id}/goals"


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _audited() -> list[dict[str, Any]]:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == AuditAction.EDIT_SETTINGS)
        .order_by(AuditEvent.id)
    )
    return [dict(event.detail or {}) for event in events]


def test_a_manager_adds_changes_and_stops_a_goal_pathway(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))
    settings = _text(client.get(f"/staff/settings/{north.id}"))
    assert f'href="{_path(north)}"' in settings
    assert "No pathway of this clinic uses goals yet." in _text(client.get(_path(north)))

    answer = post_form(client, _path(north), {"pathway": " rehab ", "hours": "48"})
    assert answer.status_code == 302
    answer = post_form(client, _path(north), {"pathway": "rehab", "hours": "72"})
    assert answer.status_code == 302
    assert pathway_hours(north.id) == {"rehab": 72}
    page = _text(client.get(_path(north)))
    assert "hours before each appointment." in page  # the flash after saving
    assert 'id="goal-pathways-table"' in page

    answer = post_form(client, f"{_path(north)}/remove", {"pathway": "rehab"}, page=_path(north))
    assert answer.status_code == 302
    assert pathway_hours(north.id) == {}
    assert _audited() == [
        {"goal_pathway": "rehab", "ask_hours_before": "48"},
        {"goal_pathway": "rehab", "ask_hours_before": "72"},
        {"goal_pathway": "rehab", "ask_hours_before": ""},
    ]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"pathway": "Rehab Team", "hours": "48"}, "pathway", "lower-case letters"),
        ({"pathway": "", "hours": "48"}, "pathway", "Enter the pathway"),
        ({"pathway": "rehab", "hours": "0"}, "hours", "from 1 to 672"),
        ({"pathway": "rehab", "hours": "673"}, "hours", "from 1 to 672"),
        ({"pathway": "rehab", "hours": "٤٨"}, "hours", "from 1 to 672"),
        ({"pathway": "rehab", "hours": ""}, "hours", "Enter how many hours"),
    ],
)
def test_a_bad_pathway_or_hours_is_shown_against_its_field_and_nothing_is_saved(
    client: Any, desk: StaffDesk, north: Clinic, form: dict[str, str], field: str, message: str
) -> None:
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))
    answer = post_form(client, _path(north), form)
    assert answer.status_code == 422
    page = _text(answer)
    assert f'id="{field}-error"' in page
    assert message in page
    assert pathway_hours(north.id) == {}
    assert _audited() == []


def test_another_clinic_s_pathways_are_not_found_and_a_clinician_may_not_change_them(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    south = db.session.scalar(select(Clinic).where(Clinic.slug == "south"))
    assert south is not None
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))
    assert client.get(_path(south)).status_code == 404
    client.post("/staff/sign-out")
    other = client.application.test_client()
    desk.sign_in(other, desk.member(Role.CLINICIAN, ["north"]))
    assert other.get(_path(north)).status_code in (403, 404)
