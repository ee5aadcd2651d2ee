"""Reads by the PAS's own identifiers: a patient's consent per channel, an appointment's
reminders and answer, pages with a keyset cursor, ETags, and the audit of each read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.appointments.models import AppointmentStatus
from app.audit.models import AuditAction, AuditEvent
from app.clinics.tokens import Scope, create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.states import MessageState
from app.patients.consent import record_opt_in, record_opt_out
from tests.world import World

BASE = "/api/v1/clinics/north"
STARTS = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def auth(world: World, clock: FixedClock) -> dict[str, str]:
    north = world.clinic("north")
    world.clinic("south")
    token = create_token(
        label="pas",
        clinic_id=north.id,
        clock=clock,
        scopes=[Scope.PATIENTS_READ, Scope.APPOINTMENTS_READ],
    )
    return {"Authorization": f"Bearer {token.secret}"}


def _audited(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_patient_is_read_with_consent_per_channel(
    client: Any, world: World, clock: FixedClock, auth: dict[str, str]
) -> None:
    north = world.clinics["north"]
    patient = world.patient(north, "P-7", given_name="Ada", family_name="Quill")
    record_opt_out(patient.id, north.id, "all", "reply", clock.now())
    record_opt_in(patient.id, north.id, "whatsapp", "reply", clock.now())
    db.session.commit()
    answer = client.get(f"{BASE}/patients/P-7", headers=auth)
    assert answer.status_code == 200
    body = answer.get_json()
    consent = {entry["channel"]: entry for entry in body.pop("consent")}
    assert body == {
        "external_id": "P-7",
        "locale": "en",
        "channel": "sms",
        "updated_at": "2026-03-02T09:00:00Z",
    }
    assert (consent["sms"]["state"], consent["sms"]["may_message"]) == ("opted_out", False)
    assert (consent["whatsapp"]["state"], consent["whatsapp"]["may_message"]) == ("opted_in", True)
    assert set(consent) == {"sms", "whatsapp", "voice", "web"}
    text = answer.get_data(as_text=True)
    assert not [secret for secret in ("Ada", "Quill", "7400") if secret in text]
    [event] = _audited(AuditAction.VIEW_PATIENT)
    assert (event.record_ids, event.actor_token_id, event.detail) == (
        [patient.id],
        1,
        {"via": "api"},
    )


def test_an_appointment_is_read_with_its_reminders_and_answer(
    client: Any, world: World, auth: dict[str, str]
) -> None:
    north = world.clinics["north"]
    patient = world.patient(north, "P-1")
    added = world.add(
        patient,
        STARTS,
        AppointmentStatus.BOOKED,
        reminders=[MessageState.DELIVERED, MessageState.PENDING],
        confirmed=True,
    )
    answer = client.get(f"{BASE}/appointments/{added.external_id}", headers=auth)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["patient_external_id"], body["status"]) == ("P-1", "booked")
    assert body["patient_answer"] == {
        "confirmed_at": "2026-03-19T10:00:00Z",
        "rebook_requested_at": None,
        "cancelled_at": None,
    }
    assert [(r["rule"], r["state"]) for r in body["reminders"]] == [
        ("r1", "pending"),
        ("r0", "delivered"),
    ]
    assert "body" not in answer.get_data(as_text=True)
    assert _audited(AuditAction.VIEW_APPOINTMENTS)[0].record_ids == [added.id]


def test_another_clinics_records_and_unknown_ids_are_not_found(
    client: Any, world: World, auth: dict[str, str]
) -> None:
    world.patient(world.clinics["south"], "S-1")
    for url in (f"{BASE}/patients/S-1", f"{BASE}/patients/nobody", f"{BASE}/appointments/X9"):
        answer = client.get(url, headers=auth)
        assert answer.status_code == 404
        assert answer.mimetype == "application/problem+json"
    assert _audited(AuditAction.VIEW_PATIENT) == []
    assert client.get(f"{BASE}/patients/a%00b", headers=auth).status_code == 400


def test_pages_follow_the_cursor_and_stay_stable(
    client: Any, world: World, auth: dict[str, str]
) -> None:
    north = world.clinics["north"]
    for index in range(5):
        world.patient(north, f"P-{index}")
    first = client.get(f"{BASE}/patients?limit=2", headers=auth).get_json()
    assert [item["external_id"] for item in first["items"]] == ["P-0", "P-1"]
    world.patient(north, "P-late")  # added between pages: at the end, nothing repeats
    seen, cursor = [item["external_id"] for item in first["items"]], first["next_cursor"]
    while cursor:
        page = client.get(f"{BASE}/patients?limit=2&cursor={cursor}", headers=auth).get_json()
        seen += [item["external_id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["P-0", "P-1", "P-2", "P-3", "P-4", "P-late"]
    last = client.get(f"{BASE}/patients?limit=200", headers=auth).get_json()
    assert last["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=nonsense", "cursor"),
        ("cursor=a%2Fb", "cursor"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_a_bad_page_query_is_refused(
    client: Any, auth: dict[str, str], query: str, field: str
) -> None:
    for what in ("patients", "appointments"):
        answer = client.get(f"{BASE}/{what}?{query}", headers=auth)
        assert answer.status_code == 400
        assert answer.get_json()["errors"][0]["field"] == field


def test_etags_answer_not_modified_until_the_record_changes(
    client: Any, world: World, clock: FixedClock, auth: dict[str, str]
) -> None:
    north = world.clinics["north"]
    patient = world.patient(north, "P-1")
    url = f"{BASE}/patients/P-1"
    first = client.get(url, headers=auth)
    etag = first.headers["ETag"]
    unchanged = client.get(url, headers={**auth, "If-None-Match": etag})
    assert (unchanged.status_code, unchanged.get_data()) == (304, b"")
    record_opt_out(patient.id, north.id, "sms", "reply", clock.now())
    db.session.commit()
    changed = client.get(url, headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
