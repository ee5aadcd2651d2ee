"""Clinic settings in the workspace: every field checked, every problem shown against
its field, nothing saved on error, and each change audited by field name only."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.clinics.service import current_settings
from app.core.clock import FixedClock
from app.extensions import db
from app.surveys.service import register_definition
from tests.web.staff import StaffDesk, post_form
from tests.world import World

PHYSIO = {
    "slug": "physio",
    "questions": [{"id": "helpful", "type": "yes_no", "text": "Was the clinic helpful?"}],
}


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    return made


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _path(clinic: Clinic) -> str:
    return f"/staff/settings/{clinic.id}"


def _audits() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_SETTINGS))
    )


def _stored(clinic_id: int) -> Any:
    db.session.expire_all()
    clinic = db.session.get(Clinic, clinic_id)
    assert clinic is not None
    return current_settings(clinic)


def _form(**changes: str) -> dict[str, str]:
    """The form as the page shows it for a new clinic, with `changes`."""
    form = {
        "sender": "+442071838750",
        "default_locale": "en",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "reminder_1_amount": "7",
        "reminder_1_unit": "days",
        "reminder_1_at": "10:00",
        "reminder_2_amount": "1",
        "reminder_2_unit": "days",
        "reminder_2_at": "10:00",
        "survey_slug": "fft",
        "survey_delay_hours": "2",
        "survey_window_hours": "24",
        "survey_interval_days": "30",
        "suppressed_pathways": "",
    }
    for row in (3, 4):
        form |= {f"reminder_{row}_amount": "", f"reminder_{row}_unit": "days"}
        form[f"reminder_{row}_at"] = ""
    return form | changes


def _manager(client: Any, desk: StaffDesk) -> Any:
    return desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))


def test_the_page_shows_the_stored_settings(client: Any, desk: StaffDesk, north: Clinic) -> None:
    _manager(client, desk)
    first = client.get("/staff/settings")
    assert first.status_code == 302
    assert first.headers["Location"].endswith(_path(north))
    page = _text(client.get(_path(north)))
    assert 'value="+442071838750"' in page
    assert 'value="21:00"' in page
    assert 'value="08:00"' in page
    assert re.search(r'id="reminder_1_amount"[^>]*value="7"', page)
    assert re.search(r'id="reminder_2_at"[^>]*value="10:00"', page)
    assert re.search(r'<option value="fft" selected\s*>\s*Friends and Family Test', page)
    assert re.search(r'<option value="en" selected\s*>\s*English', page)
    assert "Europe/London" in page


def test_a_manager_saves_every_setting_and_the_change_is_audited(
    client: Any, desk: StaffDesk, north: Clinic, clock: FixedClock
) -> None:
    register_definition(PHYSIO, north.id, clock.now())
    db.session.commit()
    _manager(client, desk)
    assert '<option value="physio"' in _text(client.get(_path(north)))
    form = _form(
        sender="020 7183 8760",
        quiet_start="22:00",
        quiet_end="7:30",
        reminder_1_amount="3",
        reminder_1_at="09:00",
        reminder_2_amount="4",
        reminder_2_unit="hours",
        reminder_2_at="",
        survey_slug="physio",
        survey_delay_hours="3",
        survey_window_hours="12",
        survey_interval_days="60",
        suppressed_pathways="Pregnancy-Loss\nbereavement, pregnancy-loss",
        default_locale="cy",
    )
    answer = post_form(client, _path(north), form)
    assert answer.status_code == 302, _text(answer)[-2000:]
    stored = _stored(north.id)
    assert stored.sender == "+442071838760"
    assert (stored.quiet_start, stored.quiet_end) == (time(22), time(7, 30))
    assert stored.reminder_rules == [
        {"name": "3d", "offset_minutes": 3 * 24 * 60, "delivery": "09:00"},
        {"name": "4h", "offset_minutes": 4 * 60, "delivery": None},
    ]
    assert stored.survey_slug == "physio"
    assert (stored.survey_delay_minutes, stored.survey_window_minutes) == (180, 720)
    assert stored.survey_interval_days == 60
    assert stored.survey_suppressed_pathways == ["pregnancy-loss", "bereavement"]
    assert stored.default_locale == "cy"
    [event] = _audits()
    assert event.clinic_id == north.id
    assert event.organisation_id == north.organisation_id
    assert event.record_ids == [north.id]
    fields = str(event.detail["fields"]).split(",")
    assert set(fields) == {
        "sender",
        "quiet_start",
        "quiet_end",
        "reminder_rules",
        "survey_slug",
        "survey_delay_minutes",
        "survey_window_minutes",
        "survey_interval_days",
        "survey_suppressed_pathways",
        "default_locale",
    }
    assert "7183" not in str(event.detail)
    page = _text(client.get(answer.headers["Location"]))
    assert "Saved. You changed: sender, quiet hours, reminders, survey, survey timing" in page
    assert re.search(r'id="reminder_2_unit".*?<option value="hours" selected', page, re.S)


def test_saving_unchanged_settings_changes_nothing(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _manager(client, desk)
    answer = post_form(client, _path(north), _form())
    assert answer.status_code == 302
    assert "Nothing was changed." in _text(client.get(answer.headers["Location"]))
    assert _audits() == []


TAKEN = "+442071838751"  # south's number


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sender": ""}, "sender", "Enter the number or Messaging Service"),
        ({"sender": "not a number"}, "sender", "Enter a UK phone number"),
        ({"sender": "07400 123456 789"}, "sender", "Enter a UK phone number"),
        ({"sender": TAKEN}, "sender", "Another clinic sends from this number"),
        ({"sender": "x" * 65}, "sender", "Enter 64 characters or fewer"),
        ({"quiet_start": "25:00"}, "quiet_start", "Enter a time in 24-hour format"),
        ({"quiet_end": "8pm"}, "quiet_end", "Enter a time in 24-hour format"),
        ({"reminder_1_amount": "seven"}, "reminder_1_amount", "Enter how many days or hours"),
        ({"reminder_1_amount": "0"}, "reminder_1_amount", "Enter how many days or hours"),
        ({"reminder_1_amount": "29"}, "reminder_1_amount", "Choose 28 days or fewer"),
        (
            {"reminder_1_amount": "2", "reminder_1_unit": "hours", "reminder_1_at": ""},
            "reminder_1_amount",
            "Choose 3 hours or more",
        ),
        ({"reminder_1_unit": "weeks"}, "reminder_1_unit", "Choose days or hours"),
        ({"reminder_1_at": "10.00"}, "reminder_1_at", "Enter a time in 24-hour format"),
        ({"reminder_1_at": "23:00"}, "reminder_1_at", "Choose a time outside quiet hours"),
        (
            {"reminder_1_unit": "hours", "reminder_1_amount": "6"},
            "reminder_1_at",
            "Leave the time empty for a reminder counted in hours",
        ),
        (
            {"reminder_2_amount": "7", "reminder_2_at": "12:00"},
            "reminder_2_amount",
            "Another reminder goes this long before",
        ),
        (
            {
                "reminder_1_amount": "48",
                "reminder_1_unit": "hours",
                "reminder_1_at": "",
                "reminder_2_amount": "2",
                "reminder_2_at": "",
            },
            "reminder_2_amount",
            "Another reminder goes this long before",
        ),
        (
            {
                "reminder_1_amount": "",
                "reminder_1_at": "",
                "reminder_2_amount": "",
                "reminder_2_at": "",
            },
            "reminder_1_amount",
            "Enter at least one reminder",
        ),
        ({"survey_slug": "unknown"}, "survey_slug", "Choose a survey from the list"),
        ({"survey_delay_hours": "two"}, "survey_delay_hours", "Enter a whole number"),
        ({"survey_delay_hours": "-1"}, "survey_delay_hours", "Enter a whole number"),
        ({"survey_window_hours": "0"}, "survey_window_hours", "from 1 to 168"),
        ({"survey_interval_days": "9999"}, "survey_interval_days", "from 0 to 365"),
        ({"suppressed_pathways": "Bad path!"}, "suppressed_pathways", "lower-case letters"),
        ({"default_locale": "xx"}, "default_locale", "Choose a language from the list"),
        ({"default_locale": "en-GB"}, "default_locale", "Choose a language from the list"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_saved(
    client: Any,
    desk: StaffDesk,
    north: Clinic,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    _manager(client, desk)
    before = _stored(north.id)
    answer = post_form(client, _path(north), _form(**changes))
    assert answer.status_code == 422
    page = _text(answer)
    assert "<title>Error:" in page
    found = re.search(rf'href="#{field}"\s*>\s*([^<]+)', page)
    assert found is not None, page[:3000]
    assert message in found.group(1)
    assert _stored(north.id) == before
    assert _audits() == []


def test_every_wrong_field_is_listed_at_once(client: Any, desk: StaffDesk, north: Clinic) -> None:
    _manager(client, desk)
    form = _form(sender="nope", quiet_start="x", survey_slug="y", default_locale="z")
    page = _text(post_form(client, _path(north), form))
    for field in ("sender", "quiet_start", "survey_slug", "default_locale"):
        assert f'href="#{field}"' in page


@pytest.mark.parametrize(
    "role", [Role.RECEPTIONIST, Role.CLINICIAN, Role.ANALYST, Role.EXPERIENCE_LEAD, Role.AUDITOR]
)
def test_roles_without_settings_are_refused(
    client: Any, desk: StaffDesk, north: Clinic, role: Role
) -> None:
    desk.sign_in(client, desk.member(role, ["north"]))
    for path in ("/staff/settings", _path(north)):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "+442071838750" not in _text(answer)


@pytest.mark.parametrize(("clinics", "org"), [(["south"], "trust"), ([], "other")])
def test_another_clinics_settings_are_not_found(
    client: Any, desk: StaffDesk, north: Clinic, world: World, clinics: list[str], org: str
) -> None:
    if org == "other":
        world.clinic("east", org="other")
    desk.sign_in(client, desk.member(Role.ADMIN, clinics, org=org))
    before = _stored(north.id)
    answer = client.get(_path(north))
    assert answer.status_code == 404
    assert "+442071838750" not in _text(answer)
    answer = post_form(client, _path(north), _form(quiet_start="23:00"), page="/staff/")
    assert answer.status_code == 404
    assert _stored(north.id) == before
    assert _audits() == []


def test_an_admin_of_two_clinics_chooses_one(client: Any, desk: StaffDesk, north: Clinic) -> None:
    desk.sign_in(client, desk.member(Role.ADMIN))
    page = _text(client.get("/staff/settings"))
    assert "Choose a clinic to change its settings." in page
    assert f'href="/staff/settings/{north.id}"' in page
    assert "South" in page
