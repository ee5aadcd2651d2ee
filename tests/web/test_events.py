"""Events in the workspace: subscribing an address (its secret shown once), revoking
it, the FHIR write-back setting, and the delivery log, which shows what happened to
each delivery and never what the event said. Every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.events.models import DeliveryState, Subscription
from app.events.recording import patient_opted_out
from app.extensions import db
from tests.web.staff import StaffDesk, csrf_token, post_form
from tests.world import World

HOOK = "https://pas.example.nhs.uk/hooks/wesaid"


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    return made


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _manager(client: Any, desk: StaffDesk, clinics: tuple[str, ...] = ("north",)) -> Any:
    return desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, list(clinics)))


def _subscriptions() -> list[Subscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(Subscription).order_by(Subscription.id)))


def _audited() -> list[dict[str, Any]]:
    return [
        e.detail
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.MANAGE_EVENTS)
        )
    ]


def test_a_manager_subscribes_sees_the_secret_once_and_revokes(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _manager(client, desk)
    base = f"/staff/settings/{north.id}"
    assert f"{base}/events" in _text(client.get(base))
    form = {
        "url": HOOK,
        "description": "Patient administration",
        "events": ["appointment.cancelled_by_patient", "patient.opted_out"],
    }
    created = post_form(client, f"{base}/events/new", form)
    assert created.status_code == 200, _text(created)[-1500:]
    [subscription] = _subscriptions()
    assert subscription.secret in _text(created)
    assert subscription.event_types == ["appointment.cancelled_by_patient", "patient.opted_out"]
    listed = _text(client.get(f"{base}/events"))
    assert HOOK in listed
    assert "A patient cancelled an appointment" in listed
    assert subscription.secret not in listed

    revoked = post_form(
        client, f"{base}/events/revoke", {"subscription": subscription.id}, page=f"{base}/events"
    )
    assert revoked.status_code == 302
    [subscription] = _subscriptions()
    assert subscription.revoked_at is not None
    assert [d["what"] for d in _audited()] == ["subscribe", "revoke"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://pas.example.nhs.uk/hooks", "starts with https://"),
        ("https://10.1.2.3/hooks", "not a private or local one"),
        ("https://user:pw@pas.example.nhs.uk/hooks", "without a user name or password"),
        ("not a url", "Enter a web address"),
    ],
)
def test_an_address_events_may_not_go_to_is_refused_by_name(
    client: Any, desk: StaffDesk, north: Clinic, url: str, message: str
) -> None:
    _manager(client, desk)
    path = f"/staff/settings/{north.id}/events/new"
    answer = post_form(client, path, {"url": url, "events": ["patient.opted_out"]})
    assert answer.status_code == 422
    assert message in _text(answer)
    assert _subscriptions() == []


def test_no_event_chosen_is_refused(client: Any, desk: StaffDesk, north: Clinic) -> None:
    _manager(client, desk)
    path = f"/staff/settings/{north.id}/events/new"
    answer = post_form(client, path, {"url": HOOK})
    assert answer.status_code == 422
    assert "Choose at least one event" in _text(answer)


def test_the_fhir_write_back_is_set_and_turned_off(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _manager(client, desk)
    path = f"/staff/settings/{north.id}/fhir"
    form = {
        "base_url": "https://pas.example.nhs.uk/fhir/",
        "identifier_system": "https://pas.example.nhs.uk/appointment-id",
    }
    assert post_form(client, path, form).status_code == 302
    page = _text(client.get(f"/staff/settings/{north.id}/events"))
    assert "https://pas.example.nhs.uk/fhir" in page
    refused = post_form(client, path, form | {"identifier_system": "a|b"})
    assert refused.status_code == 422
    assert "without spaces or |" in _text(refused)
    assert post_form(client, path, {"base_url": "", "identifier_system": ""}).status_code == 302
    assert "Nothing is written back." in _text(client.get(f"/staff/settings/{north.id}/events"))
    assert [d["what"] for d in _audited()] == ["fhir_on", "fhir_off"]


def test_the_delivery_log_shows_attempts_and_no_personal_data(
    client: Any, desk: StaffDesk, north: Clinic, world: World, clock: FixedClock
) -> None:
    _manager(client, desk)
    post_form(
        client,
        f"/staff/settings/{north.id}/events/new",
        {"url": HOOK, "events": ["patient.opted_out"]},
    )
    patient = world.patient(north, "SECRET-P-9", given_name="Zebedee")
    patient_opted_out(patient.id, north.id, "all", "reply", clock.now())
    db.session.commit()
    page = _text(client.get(f"/staff/settings/{north.id}/events/log"))
    assert "A patient opted out of messages" in page
    assert HOOK in page
    assert "Waiting" in page
    assert "SECRET-P-9" not in page
    assert "Zebedee" not in page
    assert DeliveryState.PENDING.value not in page.split("delivery-log")[0]


def test_a_receptionist_and_another_clinics_manager_find_nothing(
    client: Any, desk: StaffDesk, north: Clinic, app: Flask
) -> None:
    desk.sign_in(client, desk.member(Role.RECEPTIONIST, ["north"]))
    assert client.get(f"/staff/settings/{north.id}/events").status_code in (403, 404)
    other = app.test_client()
    _manager(other, desk, ("south",))
    assert other.get(f"/staff/settings/{north.id}/events").status_code == 404
    assert other.get(f"/staff/settings/{north.id}/events/log").status_code == 404


def test_any_typed_address_is_saved_or_refused_never_an_error(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _manager(client, desk)
    path = f"/staff/settings/{north.id}/events/new"
    token = csrf_token(client, path)

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(url=st.text(max_size=120), description=st.text(max_size=120))
    def typed(url: str, description: str) -> None:
        form = {"url": url, "description": description, "events": ["patient.opted_out"]}
        answer = client.post(path, data={**form, "csrf_token": token})
        assert answer.status_code in (200, 422), answer.status_code
        if answer.status_code == 200:
            assert _subscriptions()[-1].url.startswith("https://")

    typed()
