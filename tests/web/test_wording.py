"""Message templates in the workspace: every text in every language as patients read
it, and a clinic's own wording, linted before it is saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.messaging.models import TemplateOverride
from tests.web.staff import StaffDesk, post_form
from tests.world import World


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    world.clinic("south")
    return world.clinic("north")


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _overrides() -> int:
    return int(db.session.scalar(select(func.count()).select_from(TemplateOverride)) or 0)


def _edits() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_TEMPLATE))
    )


def _signed_in(client: Any, desk: StaffDesk, role: Role, clinics: list[str]) -> Any:
    return desk.sign_in(client, desk.member(role, clinics))


def _page(north: Clinic, name: str = "reminder", locale: str = "cy") -> str:
    return f"/staff/templates/{north.id}/{name}/{locale}"


def test_a_manager_sees_every_text_in_welsh_with_its_cost(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    first = client.get("/staff/templates")
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/staff/templates/{north.id}")
    page = _text(client.get(f"/staff/templates/{north.id}?locale=cy"))
    assert "Message templates" in page
    assert "North: mae eich apwyntiad ar Dydd Llun 9 Mawrth am 10:30" in page
    assert 'lang="cy"' in page
    assert "Appointment reminder" in page
    assert "Friends and Family Test question" in page
    assert re.search(r"UCS-2|GSM-7", page)
    assert "No problems" in page or "warning" in page


def test_all_languages_lay_arabic_and_urdu_out_right_to_left(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.ADMIN, [])
    page = _text(client.get(f"/staff/templates/{north.id}?locale=all"))
    for code in ("ar", "ur"):
        assert f'lang="{code}" dir="rtl"' in page
    assert 'lang="zh-Hans" dir="ltr"' in page
    assert page.count("Appointment reminder") >= 14


def test_an_unknown_language_is_refused_with_the_field_named(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.ADMIN, [])
    answer = client.get(f"/staff/templates/{north.id}?locale=xx")
    assert answer.status_code == 400
    assert re.search(r'href="#locale"\s*>\s*Choose a language from the list', _text(answer))
    assert "<title>Error:" in _text(answer)


def test_a_template_page_shows_the_default_the_preview_and_the_form(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    page = _text(client.get(_page(north)))
    assert "Default wording" in page
    assert "mae eich apwyntiad ar %(date)s am %(time)s" in page
    assert "What patients read" in page
    assert "Segments" in page
    assert 'name="text"' in page
    assert 'hx-post="' + _page(north) in page
    arabic = _text(client.get(_page(north, locale="ar")))
    assert 'class="nhsuk-body wesaid-sms" lang="ar" dir="rtl"' in arabic


def test_previewing_without_javascript_renders_the_draft_and_saves_nothing(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    draft = "%(clinic)s: gweld chi %(date)s am %(time)s. Atebwch 1 i gadarnhau."
    answer = post_form(client, _page(north), {"text": draft, "action": "preview"})
    assert answer.status_code == 200
    page = _text(answer)
    assert "Preview of your wording" in page
    assert "This is not saved yet." in page
    assert "North: gweld chi Dydd Llun 9 Mawrth am 10:30." in page
    assert _overrides() == 0
    assert _edits() == []


def test_htmx_gets_the_preview_alone(client: Any, desk: StaffDesk, north: Clinic) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', _text(client.get(_page(north))))
    assert token is not None
    answer = client.post(
        _page(north),
        data={"csrf_token": token.group(1), "text": "%(clinic)s %(date)s %(time)s CANCEL"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    fragment = _text(answer)
    assert fragment.lstrip().startswith("<div")
    assert "<html" not in fragment
    assert 'id="preview"' in fragment
    assert "opt-out keyword" in fragment
    assert _overrides() == 0


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("%(clinic)s %(date)s %(time)s: reply CANCEL to cancel.", "opt-out keyword"),
        ("%(clinic)s: your appointment is at %(time)s.", "%(date)s is missing"),
        ("%(clinic)s %(date)s %(time)s %(name)s", "%(name)s is not a value this text gets"),
        ("%(clinic)s %(date)s %(time)s 100% sure", "is not %(name)s or %%"),
    ],
)
def test_a_wording_with_errors_is_refused_against_the_field(
    client: Any, desk: StaffDesk, north: Clinic, text: str, finding: str
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    answer = post_form(client, _page(north, locale="en"), {"text": text, "action": "save"})
    assert answer.status_code == 422
    page = _text(answer)
    assert "<title>Error:" in page
    assert re.search(r'href="#text"', page)
    assert finding in page
    assert _overrides() == 0
    assert _edits() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the wording patients will get"),
        ("   ", "Enter the wording patients will get"),
        ("x" * 1601, "Enter 1600 characters or fewer"),
        ("%(clinic)s %(date)s %(time)s\x00", "Remove the hidden control characters"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(
    client: Any, desk: StaffDesk, north: Clinic, text: str, message: str
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    answer = post_form(client, _page(north), {"text": text, "action": "save"})
    assert answer.status_code == 422
    assert re.search(r'href="#text"\s*>\s*' + re.escape(message), _text(answer))
    assert _overrides() == 0


def test_a_wording_with_warnings_is_saved_audited_and_used(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    text = "%(clinic)s: see you on %(date)s at %(time)s – reply 1 to confirm."
    answer = post_form(client, _page(north, locale="en"), {"text": text, "action": "save"})
    assert answer.status_code == 302
    row = db.session.scalar(select(TemplateOverride))
    assert row is not None
    assert (row.kind, row.locale, row.body) == ("reminder", "en", text)
    [event] = _edits()
    assert event.clinic_id == north.id
    assert event.organisation_id == north.organisation_id
    assert event.detail == {"template": "reminder", "locale": "en", "removed": False}
    assert text not in str(event.detail)
    page = _text(client.get(answer.headers["Location"]))
    assert "Your wording is saved." in page
    assert "Use the default wording instead" in page
    assert "North: see you on Monday 9 March at 10:30 – reply 1 to confirm." in page
    assert "force UCS-2" in page  # the en dash: a warning, shown
    listing = _text(client.get(f"/staff/templates/{north.id}?locale=en"))
    assert "Your wording" in listing


def test_going_back_to_the_default_removes_the_wording(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    text = "%(clinic)s: %(date)s, %(time)s. Reply 1 to confirm."
    post_form(client, _page(north), {"text": text, "action": "save"})
    assert _overrides() == 1
    answer = post_form(client, _page(north) + "/default", {}, page=_page(north))
    assert answer.status_code == 302
    assert _overrides() == 0
    assert [e.detail["removed"] for e in _edits()] == [False, True]


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.ANALYST, Role.AUDITOR, Role.CLINICIAN])
def test_roles_without_templates_are_refused(
    client: Any, desk: StaffDesk, north: Clinic, role: Role
) -> None:
    _signed_in(client, desk, role, ["north"])
    for path in ("/staff/templates", f"/staff/templates/{north.id}", _page(north)):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "mae eich apwyntiad" not in _text(answer)


@pytest.mark.parametrize(("clinics", "org"), [(["south"], "trust"), ([], "other")])
def test_another_clinics_templates_are_not_found(
    app: Flask,
    client: Any,
    desk: StaffDesk,
    north: Clinic,
    world: World,
    clinics: list[str],
    org: str,
) -> None:
    if org == "other":
        world.clinic("east", org="other")
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, clinics, org=org))
    for path in (f"/staff/templates/{north.id}", _page(north)):
        assert client.get(path).status_code == 404, path
    answer = post_form(
        client,
        _page(north),
        {"text": "%(clinic)s %(date)s %(time)s", "action": "save"},
        page="/staff/",
    )
    assert answer.status_code == 404
    answer = post_form(client, _page(north) + "/default", {}, page="/staff/")
    assert answer.status_code == 404
    assert _overrides() == 0


@pytest.mark.parametrize(("name", "locale"), [("nonsense", "cy"), ("reminder", "xx")])
def test_an_unknown_text_or_language_is_not_found(
    client: Any, desk: StaffDesk, north: Clinic, name: str, locale: str
) -> None:
    _signed_in(client, desk, Role.ADMIN, [])
    assert client.get(_page(north, name, locale)).status_code == 404
