"""Patients: the search (posted, audited without its terms), the timeline as each role
sees it, changing channel and language, an opt-out for the patient, and isolation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.roles import PERMISSIONS, Permission, Role
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import ConsentEvent, Patient
from tests.casework import cases
from tests.casework.cases import Desk
from tests.web.staff import StaffDesk, csrf_token, post_form
from tests.world import World

URL_ATTRIBUTES = re.compile(r'(?:href|action|src|hx-post|hx-get)="([^"]*)"')
LANDLINE = "+442071234567"


@pytest.fixture
def desks(app: Flask, world: World, clock: FixedClock) -> dict[str, Desk]:
    found = {}
    for slug, org in (("north", "trust"), ("south", "trust"), ("east", "other")):
        clinic = world.clinic(slug, org=org)
        found[slug] = cases.every_kind(world, clock, clinic, slug.upper())
    north = world.clinics["north"]
    patient = found["north"].patient
    world.book(north, "A-1", patient.external_id, datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    cases.survey_session(
        patient, clock.now() - timedelta(days=3), {"fft": ("answered", "good", "2")}
    )
    return found


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _national(e164: str) -> str:
    return "0" + e164[3:7] + " " + e164[7:]


def _signed_in(client: Any, desk: StaffDesk, role: Role, *clinics: str, org: str = "trust") -> Any:
    return desk.sign_in(client, desk.member(role, list(clinics), org=org, name="Rita Patel"))


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _search(client: Any, term: str) -> Any:
    return post_form(client, "/staff/patients", {"term": term})


def _timeline(patient: Patient) -> str:
    return f"/staff/patients/{patient.id}"


def _results(page: str) -> list[str]:
    return re.findall(r'href="/staff/patients/(\d+)"', page)


@pytest.mark.parametrize(
    "typed",
    [
        "Ada Lovelace-NORTH",
        "lovelace-north",
        "ADA",
        "NORTH",
        "07400 100001",
        "+44 7400 100001",
        "0044 (0)7400-100001",
    ],
)
def test_a_patient_is_found_however_they_are_typed(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], typed: str
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    patient = desks["north"].patient
    assert patient.phone == "+447400100001"
    answer = _search(client, typed)
    page = _text(answer)
    assert answer.status_code == 200
    assert _results(page) == [str(patient.id)]
    assert "1 patient found" in page
    assert "Ada Lovelace-NORTH" in page
    assert _national(patient.phone) in page
    # The search went in a form body: no URL on the page carries it.
    for url in URL_ATTRIBUTES.findall(page):
        assert "lovelace" not in url.lower()
        assert "7400" not in url
    assert re.search(r'<form method="post" action="/staff/patients"', page)


def test_each_search_is_audited_without_its_terms(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], world: World
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    _search(client, "Lovelace")
    _search(client, "nobody at all")
    events = _events(AuditAction.SEARCH_PATIENTS)
    north = desks["north"].patient
    assert [(e.record_ids, e.detail) for e in events] == [
        ([north.id], {"results": 1}),
        ([], {"results": 0}),
    ]
    assert {e.organisation_id for e in events} == {world.clinics["north"].organisation_id}
    assert not [e for e in events if "ovelace" in str(e.detail) or "nobody" in str(e.detail)]


def test_a_search_finds_nothing_of_other_clinics(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    for typed in ("Lovelace-SOUTH", "SOUTH", desks["east"].patient.phone, "EAST"):
        page = _text(_search(client, typed))
        assert _results(page) == []
        assert "0 patients found" in page
        assert "Check the spelling" in page


@pytest.mark.parametrize(
    ("term", "error"),
    [
        ("", "Enter a name, phone number or patient ID"),
        ("x" * 101, "Enter 100 characters or fewer"),
    ],
)
def test_a_bad_search_says_what_to_do(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], term: str, error: str
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    answer = _search(client, term)
    page = _text(answer)
    assert answer.status_code == 422
    assert "<title>Error: Find a patient – WeSaid</title>" in page
    assert re.search(rf'href="#term"\s*>\s*{error}', page)
    assert _events(AuditAction.SEARCH_PATIENTS) == []


def test_a_receptionist_reads_the_timeline(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], world: World
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    north = desks["north"]
    answer = client.get(_timeline(north.patient))
    page = _text(answer)
    assert answer.status_code == 200
    assert "<title>Ada Lovelace-NORTH – WeSaid</title>" in page
    assert _national(north.patient.phone) in page
    assert "what time is it again NORTH" in page  # their reply
    assert "Your appointment is on Tuesday" in page  # the failed reminder's text
    assert "The number is not a mobile, so it cannot get texts. (error 21614)" in page
    assert "Thursday 12 March 2026 at 10:00" in page  # the booked appointment
    assert "Reminders" in page
    assert "Planned" in page
    assert "1 part, GSM-7" in page
    assert "Cancelled by the patient" in page
    assert "Surveys" not in page  # receptionists do not read answers
    assert "Change channel or language" in page
    assert "Opt out for the patient" in page
    assert "Erase this patient" not in page
    [event] = _events(AuditAction.VIEW_PATIENT)
    assert (event.record_type, event.record_ids, event.clinic_id) == (
        "patient",
        [north.patient.id],
        world.clinics["north"].id,
    )
    assert event.detail == {"names": True, "phone": True, "messages": True, "answers": False}


def test_a_clinician_reads_answers_but_changes_nothing(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.CLINICIAN, "north")
    patient = desks["north"].patient
    page = _text(client.get(_timeline(patient)))
    assert "Friends and Family Test" in page
    assert "Overall, how was your experience of our service?" in page
    assert "Good" in page
    assert "Change channel or language" not in page
    assert "Opt out for the patient" not in page
    contact = post_form(
        client,
        f"/staff/patients/{patient.id}/contact",
        {"channel": "voice", "locale": "pl"},
        page=_timeline(patient),
    )
    assert contact.status_code == 403
    assert client.get(f"/staff/patients/{patient.id}/opt-out").status_code == 403
    assert db.session.scalars(select(ConsentEvent.source)).all() == ["reply", "reply", "reply"]


def test_an_admin_may_be_offered_erasure(
    app: Flask, client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.ADMIN)
    patient = desks["north"].patient
    page = _text(client.get(_timeline(patient)))
    if "staff_erasure.confirm" in app.view_functions:
        assert f'href="/staff/patients/{patient.id}/erase"' in page
        assert "Erase this patient" in page
    else:
        assert "Erase this patient" not in page


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.EXPERIENCE_LEAD])
def test_roles_without_patients_are_refused(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], role: Role
) -> None:
    _signed_in(client, desk, role)
    patient = desks["north"].patient
    token = csrf_token(client, "/staff/")
    for answer in (
        client.get("/staff/patients"),
        client.post("/staff/patients", data={"csrf_token": token, "term": "Lovelace"}),
        client.get(_timeline(patient)),
        client.post(
            f"/staff/patients/{patient.id}/contact",
            data={"csrf_token": token, "channel": "voice", "locale": "en"},
        ),
        client.get(f"/staff/patients/{patient.id}/opt-out"),
        client.post(f"/staff/patients/{patient.id}/opt-out", data={"csrf_token": token}),
    ):
        page = _text(answer)
        assert answer.status_code == 403
        assert "Lovelace" not in page
        assert _national(patient.phone) not in page
    assert _events(AuditAction.VIEW_PATIENT) == []
    assert _events(AuditAction.SEARCH_PATIENTS) == []


def test_another_clinics_patient_is_not_found(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    token = csrf_token(client, "/staff/")
    for patient_id in (
        desks["south"].patient.id,
        desks["east"].patient.id,
        9_999_999,
        99_999_999_999,
    ):
        for answer in (
            client.get(f"/staff/patients/{patient_id}"),
            client.post(
                f"/staff/patients/{patient_id}/contact",
                data={"csrf_token": token, "channel": "voice", "locale": "en"},
            ),
            client.get(f"/staff/patients/{patient_id}/opt-out"),
            client.post(f"/staff/patients/{patient_id}/opt-out", data={"csrf_token": token}),
        ):
            assert answer.status_code == 404
            assert "Page not found" in _text(answer)
            assert "Lovelace" not in _text(answer)
    assert _events(AuditAction.VIEW_PATIENT) == []
    assert _events(AuditAction.OPT_OUT_FOR_PATIENT) == []


def test_the_channel_and_language_change(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    patient = desks["north"].patient
    answer = post_form(
        client,
        f"/staff/patients/{patient.id}/contact",
        {"channel": "whatsapp", "locale": "pl"},
        page=_timeline(patient),
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == _timeline(patient)
    page = _text(client.get(_timeline(patient)))
    assert "Saved. Messages use the new channel and language from now on." in page
    assert "Polish (polski)" in page
    assert re.search(r'value="whatsapp"\s+checked', page) or 'value="whatsapp" checked' in page
    [event] = _events(AuditAction.CHANGE_PATIENT)
    assert event.detail == {"fields": "channel,locale", "channel": "whatsapp", "locale": "pl"}


def test_a_landline_cannot_be_texted(
    client: Any, desk: StaffDesk, world: World, desks: dict[str, Desk]
) -> None:
    landline = world.patient(world.clinics["north"], "L-1", phone=LANDLINE, channel="voice")
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    answer = post_form(
        client,
        f"/staff/patients/{landline.id}/contact",
        {"channel": "sms", "locale": "en"},
        page=_timeline(landline),
    )
    page = _text(answer)
    assert answer.status_code == 422
    assert "<title>Error: Patient L-1 – WeSaid</title>" in page
    landline_only = "The patient&#39;s number is a landline, so it can only take telephone calls."
    assert re.search(rf'href="#channel"\s*>\s*{landline_only}', page)
    assert '<details class="nhsuk-details" id="contact" open>' in page
    db.session.expire_all()
    stored = db.session.get(Patient, landline.id)
    assert stored is not None
    assert stored.channel_preference == "voice"
    assert _events(AuditAction.CHANGE_PATIENT) == []


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"channel": "pigeon", "locale": "en"}, "channel", "Choose how the patient gets messages"),
        ({"locale": "en"}, "channel", "Choose how the patient gets messages"),
        ({"channel": "sms", "locale": "fr"}, "locale", "Choose a language from the list"),
        ({"channel": "sms", "locale": ""}, "locale", "Choose a language from the list"),
    ],
)
def test_a_bad_change_says_what_to_do(
    client: Any,
    desk: StaffDesk,
    desks: dict[str, Desk],
    data: dict[str, str],
    field: str,
    error: str,
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    patient = desks["north"].patient
    answer = post_form(
        client, f"/staff/patients/{patient.id}/contact", data, page=_timeline(patient)
    )
    assert answer.status_code == 422
    assert re.search(rf'href="#{field}"\s*>\s*{error}', _text(answer))
    assert _events(AuditAction.CHANGE_PATIENT) == []


def test_an_opt_out_for_the_patient(client: Any, desk: StaffDesk, desks: dict[str, Desk]) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    desk.sign_in(client, member)
    patient = desks["north"].patient
    confirm = client.get(f"/staff/patients/{patient.id}/opt-out")
    assert confirm.status_code == 200
    assert "Do this only when the patient has asked you to stop their messages." in _text(confirm)
    answer = post_form(client, f"/staff/patients/{patient.id}/opt-out", {})
    assert answer.status_code == 303
    assert answer.headers["Location"] == _timeline(patient)
    event = db.session.scalar(select(ConsentEvent).where(ConsentEvent.patient_id == patient.id))
    assert event is not None
    assert (event.channel, event.action, event.source) == (
        "all",
        "opt_out",
        f"staff:{member.user_id}",
    )
    [audited] = _events(AuditAction.OPT_OUT_FOR_PATIENT)
    assert (audited.record_ids, audited.actor_user_id) == ([patient.id], member.user_id)
    page = _text(client.get(_timeline(patient)))
    assert "Opted out. The patient gets no more messages from the clinic." in page
    assert "They have opted out and get no messages from the clinic." in page
    assert "Rita Patel, for the patient" in page
    assert "Opt out for the patient</a>" not in page
    # Made by staff, it is not on anyone's worklist.
    worklist = _text(client.get("/staff/worklist?kind=opt_out"))
    assert f'href="/staff/patients/{patient.id}"' not in worklist


@pytest.mark.parametrize(
    ("role", "answers", "edits"),
    [
        (Role.ADMIN, True, True),
        (Role.CLINIC_MANAGER, True, True),
        (Role.CLINICIAN, True, False),
        (Role.RECEPTIONIST, False, True),
    ],
)
def test_what_each_care_role_sees_on_a_timeline(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], role: Role, answers: bool, edits: bool
) -> None:
    _signed_in(client, desk, role, *([] if role is Role.ADMIN else ["north"]))
    patient = desks["north"].patient
    page = _text(client.get(_timeline(patient)))
    assert "Ada Lovelace-NORTH" in page
    assert _national(patient.phone) in page
    assert "what time is it again NORTH" in page
    assert ("Overall, how was your experience of our service?" in page) is answers
    assert ("Change channel or language" in page) is edits
    assert ("Opt out for the patient" in page) is edits


def test_without_the_personal_data_permissions_nothing_personal_is_shown(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], monkeypatch: pytest.MonkeyPatch
) -> None:
    personal = {Permission.SEE_NAMES, Permission.SEE_PHONES, Permission.SEE_MESSAGES}
    monkeypatch.setitem(PERMISSIONS, Role.RECEPTIONIST, PERMISSIONS[Role.RECEPTIONIST] - personal)
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    patient = desks["north"].patient
    pages = [
        _text(client.get(_timeline(patient))),
        _text(_search(client, "NORTH")),
        _text(client.get("/staff/worklist")),
    ]
    for page in pages:
        stranger = desks["north"].stranger.from_number
        for secret in (
            "Lovelace",
            patient.phone,
            _national(patient.phone),
            stranger,
            _national(stranger),
            "time is it again",
            "is on Tuesday",
            "is this the North clinic",
        ):
            assert secret not in page, secret
    assert "Patient NORTH" in pages[0]  # the clinic's id for them stands in for the name
    assert _results(pages[1]) == [str(patient.id)]  # found by id, never by name or number
    assert _results(_text(_search(client, "Lovelace"))) == []
    assert _results(_text(_search(client, _national(patient.phone)))) == []
    [viewed] = _events(AuditAction.VIEW_PATIENT)
    assert viewed.detail == {"names": False, "phone": False, "messages": False, "answers": False}
    assert _events(AuditAction.VIEW_WORKLIST) == []
