"""Erasing a patient in the workspace: `/staff/patients/<id>/erase`, admins only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from tests.privacy.rows import fresh, received, sent, sid, surveyed
from tests.web.staff import StaffDesk, csrf_token, post_form
from tests.world import World


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north", org="trust")


@pytest.fixture
def patient(world: World, north: Clinic, clock: FixedClock) -> Patient:
    found = world.patient(north, "PX-31", given_name="Morwenna", family_name="Tregothnan")
    sent(found, "Morwenna, see you Friday", clock.now(), provider_sid=sid())
    received(north, found.phone, "Thank you", clock.now(), patient=found)
    surveyed(north, found, clock.now(), "1", "Lovely")
    db.session.commit()
    return found


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _path(patient: Patient) -> str:
    return f"/staff/patients/{patient.id}/erase"


def _events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_endpoint_others_link_to(app: Flask, patient: Patient) -> None:
    with app.test_request_context():
        assert url_for("staff_erasure.confirm", patient_id=patient.id) == _path(patient)


def test_an_admin_sees_what_will_happen(client: Any, desk: StaffDesk, patient: Patient) -> None:
    admin = desk.member(Role.ADMIN, name="Ade Admin")
    desk.sign_in(client, admin)
    page = client.get(_path(patient))
    text = _text(page)
    assert page.status_code == 200
    assert "<title>Erase this patient's details – WeSaid</title>" in text
    assert "Morwenna Tregothnan" in text
    assert "To confirm, type their patient ID: PX-31" in text
    assert "The words of 1 message sent to them are removed, here and at Twilio." in text
    assert "The words of 1 reply from them are removed, here and at Twilio." in text
    assert "2 survey answers in their own words are removed." in text
    assert "1 survey response stays in the results" in text
    assert "This cannot be undone" in text
    [viewed] = _events(AuditAction.VIEW_PATIENT)
    assert (viewed.actor_user_id, viewed.record_ids, viewed.detail) == (
        admin.user_id,
        [patient.id],
        {"purpose": "erasure"},
    )


def test_a_wrong_id_erases_nothing(client: Any, desk: StaffDesk, patient: Patient) -> None:
    desk.sign_in(client, desk.member(Role.ADMIN))
    for typed, message in (
        ("PX-3", "Enter the patient ID exactly as it is shown"),
        ("", "Enter the patient ID to confirm"),
    ):
        answer = post_form(client, _path(patient), {"external_id": typed})
        assert answer.status_code == 422
        assert "<title>Error: Erase this patient" in _text(answer)
        assert re.search(r'href="#external_id"\s*>\s*' + re.escape(message), _text(answer))
    assert fresh(Patient, patient.id).erased_at is None
    assert _events(AuditAction.ERASE_PATIENT) == []


def test_the_right_id_erases_and_says_so(
    client: Any, desk: StaffDesk, patient: Patient, clock: FixedClock
) -> None:
    admin = desk.member(Role.ADMIN)
    desk.sign_in(client, admin)
    answer = post_form(client, _path(patient), {"external_id": " PX-31 "})
    text = _text(answer)
    assert answer.status_code == 200
    assert 'class="nhsuk-panel"' in text
    assert "Patient details erased" in text
    assert f"Their reference is now erased-patient-{patient.id}" in text
    assert "The words of 2 messages were removed." in text
    assert "Twilio is being asked to remove its copies of 2 messages and calls." in text
    assert "Go to the audit log" in text  # admins may read it
    assert "Morwenna" not in text
    erased = fresh(Patient, patient.id)
    assert (erased.erased_at, erased.given_name, erased.external_id) == (
        clock.now(),
        None,
        f"erased-patient-{patient.id}",
    )
    [event] = _events(AuditAction.ERASE_PATIENT)
    assert (event.actor_user_id, event.record_ids, event.address) == (
        admin.user_id,
        [patient.id],
        "127.0.0.1",
    )
    again = client.get(_path(patient))
    assert again.status_code == 200
    assert "This patient's details have been erased" in _text(again)
    assert "<form" not in _text(again).split("<main", 1)[1].split("</main>", 1)[0]


def test_a_form_without_its_token_is_refused(
    client: Any, desk: StaffDesk, patient: Patient
) -> None:
    desk.sign_in(client, desk.member(Role.ADMIN))
    answer = client.post(_path(patient), data={"external_id": "PX-31"})
    assert answer.status_code == 400
    assert fresh(Patient, patient.id).erased_at is None


@pytest.mark.parametrize(
    "role",
    [
        Role.CLINIC_MANAGER,
        Role.CLINICIAN,
        Role.RECEPTIONIST,
        Role.EXPERIENCE_LEAD,
        Role.ANALYST,
        Role.AUDITOR,
    ],
)
def test_only_admins_erase(client: Any, desk: StaffDesk, patient: Patient, role: Role) -> None:
    desk.sign_in(client, desk.member(role, ["north"]))
    assert client.get(_path(patient)).status_code == 403
    token = csrf_token(client, "/staff/")
    answer = client.post(_path(patient), data={"external_id": "PX-31", "csrf_token": token})
    assert answer.status_code == 403
    assert fresh(Patient, patient.id).erased_at is None


def test_signed_out_goes_to_sign_in(client: Any, patient: Patient) -> None:
    answer = client.get(_path(patient))
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/staff/sign-in")


def test_an_admin_elsewhere_finds_no_such_patient(
    client: Any, desk: StaffDesk, world: World, patient: Patient
) -> None:
    world.clinic("south", org="elsewhere")
    world.clinic("east", org="trust")
    for admin in (desk.member(Role.ADMIN, org="elsewhere"), desk.member(Role.ADMIN, ["east"])):
        desk.sign_in(client, admin)
        page = client.get(_path(patient))
        assert page.status_code == 404
        assert "Morwenna" not in _text(page)
        token = csrf_token(client, "/staff/")
        answer = client.post(_path(patient), data={"external_id": "PX-31", "csrf_token": token})
        assert answer.status_code == 404
        client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    assert client.get("/staff/patients/999999/erase").status_code == 302
    assert fresh(Patient, patient.id).erased_at is None
    assert _events(AuditAction.VIEW_PATIENT) == []
