"""The FHIR write-back against a FHIR server running in the test (tests/events/
fhir_server.py): a patient's cancellation or confirmation by text updates the clinic's
Appointment with a conditional update; failures are retried from the same outbox and
show in the delivery log."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from app.audit.service import SYSTEM
from app.core.clock import FixedClock
from app.events import service
from app.events.models import DeliveryState, EventType, Target
from app.events.queries import delivery_log
from app.events.recording import appointment_answered
from app.extensions import db
from tests.events.conftest import Booked, Courier, deliveries, reply
from tests.events.fhir_server import FhirServer

SYSTEM_URI = "https://pas.example.nhs.uk/appointment-id"


def _appointment(external_id: str = "APPT-1", patient: str = "Patient/P-1") -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": SYSTEM_URI, "value": external_id}],
        "status": "booked",
        "start": "2026-03-09T10:00:00Z",
        "participant": [
            {"actor": {"reference": patient}, "status": "needs-action"},
            {"actor": {"reference": "Practitioner/D-7"}, "status": "accepted"},
        ],
    }


@pytest.fixture
def written_back(booked: Booked, fhir: FhirServer, clock: FixedClock) -> Booked:
    service.set_fhir_endpoint(
        booked.clinic, fhir.base_url, SYSTEM_URI, SYSTEM, clock.now(), allow_loopback_http=True
    )
    return booked


def test_a_cancellation_by_text_cancels_the_appointment_with_reason_pat(
    written_back: Booked, fhir: FhirServer, courier: Courier, clock: FixedClock
) -> None:
    resource_id = fhir.add(_appointment())
    fhir.add(_appointment("APPT-OTHER"))
    reply(written_back, "2", clock)
    [delivery] = deliveries()
    assert delivery.target is Target.FHIR
    courier.round()
    stored = fhir.appointments[resource_id]
    assert stored["status"] == "cancelled"
    assert stored["cancelationReason"]["coding"][0]["code"] == "pat"
    assert stored["meta"]["versionId"] == "2"
    assert fhir.appointments["a2"]["status"] == "booked"
    search, put = fhir.seen
    assert (search.method, put.method) == ("GET", "PUT")
    assert put.query == {"identifier": [f"{SYSTEM_URI}|APPT-1"]}
    assert put.if_match == 'W/"1"'
    [delivery] = deliveries()
    assert (delivery.state, delivery.last_status) == (DeliveryState.DELIVERED, 200)


def test_a_confirmation_accepts_the_patient_participant_only(
    written_back: Booked, fhir: FhirServer, courier: Courier, clock: FixedClock
) -> None:
    resource_id = fhir.add(_appointment())
    reply(written_back, "1", clock)
    courier.round()
    stored = fhir.appointments[resource_id]
    assert stored["status"] == "booked"
    assert [p["status"] for p in stored["participant"]] == ["accepted", "accepted"]
    assert stored["participant"][0]["actor"]["reference"] == "Patient/P-1"


def test_a_server_error_is_retried_and_shown_in_the_log(
    written_back: Booked, fhir: FhirServer, courier: Courier, clock: FixedClock
) -> None:
    resource_id = fhir.add(_appointment())
    fhir.fail_next(503)
    reply(written_back, "2", clock)
    courier.round()
    [row] = delivery_log(written_back.clinic.id)
    assert (row.state, row.attempts, row.last_status) == (DeliveryState.PENDING, 1, 503)
    assert row.next_attempt_at is not None
    clock.set(row.next_attempt_at)
    courier.round()
    assert fhir.appointments[resource_id]["status"] == "cancelled"
    [row] = delivery_log(written_back.clinic.id)
    assert (row.state, row.attempts, row.next_attempt_at) == (DeliveryState.DELIVERED, 2, None)


def test_two_appointments_with_the_identifier_fail_for_good(
    written_back: Booked, fhir: FhirServer, courier: Courier, clock: FixedClock
) -> None:
    fhir.add(_appointment())
    fhir.add(_appointment())
    reply(written_back, "2", clock)
    courier.round()
    [delivery] = deliveries()
    assert delivery.state is DeliveryState.FAILED
    assert delivery.last_error == "several_matches"
    assert {r["status"] for r in fhir.appointments.values()} == {"booked"}


def test_the_server_refuses_a_conditional_update_that_matches_twice(fhir: FhirServer) -> None:
    """The fake itself is faithful: >1 match → 412, 0 → created, If-Match checked."""
    fhir.add(_appointment())
    fhir.add(_appointment())
    url = f"{fhir.base_url}/Appointment"
    params = {"identifier": f"{SYSTEM_URI}|APPT-1"}
    assert requests.put(url, params=params, json=_appointment(), timeout=5).status_code == 412
    new = {"identifier": f"{SYSTEM_URI}|NEW"}
    created = requests.put(url, params=new, json=_appointment("NEW"), timeout=5)
    assert created.status_code == 201
    stale = {"If-Match": 'W/"7"'}
    conflict = requests.put(url, params=new, json=_appointment("NEW"), headers=stale, timeout=5)
    assert conflict.status_code == 412
    fresh = {"If-Match": 'W/"1"'}
    updated = requests.put(url, params=new, json=_appointment("NEW"), headers=fresh, timeout=5)
    assert (updated.status_code, updated.json()["meta"]["versionId"]) == (200, "2")


def test_no_match_is_retried_and_a_patient_less_appointment_is_refused(
    written_back: Booked, fhir: FhirServer, courier: Courier, clock: FixedClock
) -> None:
    reply(written_back, "1", clock)
    courier.round()
    [delivery] = deliveries()
    assert (delivery.state, delivery.last_error) == (
        DeliveryState.PENDING,
        "no_match",
    )
    fhir.add(_appointment(patient="Location/L-1"))
    clock.set(delivery.due_at)
    courier.round()
    [delivery] = deliveries()
    assert (delivery.state, delivery.last_error) == (
        DeliveryState.FAILED,
        "no_patient",
    )


def test_a_rebook_request_and_a_clinic_without_fhir_write_nothing_back(
    booked: Booked, clock: FixedClock
) -> None:
    appointment_answered(booked.appointment, EventType.APPOINTMENT_CONFIRMED, "sms", clock.now())
    db.session.commit()
    assert deliveries() == []
