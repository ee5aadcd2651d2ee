"""Importing FHIR R4 Appointment bundles: bookings, outcomes, skips, errors, strictness."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.appointments.imports import import_fhir_bundle, import_fhir_file
from app.appointments.models import AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.extensions import db
from app.messaging.models import OutboundMessage
from tests.world import World

FIXTURES = Path(__file__).parents[1] / "fixtures" / "fhir"
AFTER_ALL = datetime(2026, 3, 13, 9, 0, tzinfo=UTC)


def _bundle(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def clinic(world: World) -> Clinic:
    made = world.clinic()
    for number in range(1, 5):
        world.patient(made, f"pat-{number}")
    return made


def _import(clinic: Clinic, clock: FixedClock, name: str, strict: bool = False) -> Any:
    return import_fhir_bundle(clinic.id, _bundle(name), source=name, strict=strict, clock=clock)


def _statuses(world: World, clinic: Clinic) -> dict[str, tuple[str, int | None]]:
    found = {}
    for number in range(1, 5):
        appointment = world.appointment(clinic, f"appt-{number}")
        db.session.refresh(appointment)
        found[appointment.external_id] = (appointment.status.value, appointment.cancel_lead_minutes)
    return found


@pytest.mark.storage
def test_booked_entries_create_appointments_and_later_outcomes_settle_them(
    backend: str, world: World, clinic: Clinic, clock: FixedClock
) -> None:
    booked = _import(clinic, clock, "attendance_booked.json")
    assert (booked.created, booked.updated, booked.errors) == (4, 0, [])
    assert [(s.path, s.reason) for s in booked.skipped] == [
        ("entry[4].resource.status", "proposed, not yet booked")
    ]
    first = world.appointment(clinic, "appt-1")
    assert first.starts_at == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert db.session.query(OutboundMessage).filter_by(appointment_id=first.id).count() == 2

    clock.set(AFTER_ALL)
    settled = _import(clinic, clock, "attendance_outcomes.json")
    assert (settled.created, settled.updated, settled.errors) == (0, 4, [])
    assert [(s.path, s.reason) for s in settled.skipped] == [
        ("entry[4].resource.id", "an outcome for an appointment never booked here")
    ]
    assert _statuses(world, clinic) == {
        "appt-1": ("attended", None),
        "appt-2": ("dna", None),
        "appt-3": ("cancelled_patient", 2 * 24 * 60),  # from the cancellation date
        "appt-4": ("cancelled_clinic", None),
    }
    assert world.appointment(clinic, "appt-3").cancelled_at == datetime(
        2026, 3, 10, 9, 30, tzinfo=UTC
    )

    again = _import(clinic, clock, "attendance_outcomes.json")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_a_booked_entry_with_a_new_start_moves_the_appointment(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    _import(clinic, clock, "attendance_booked.json")
    bundle = _bundle("attendance_booked.json")
    bundle["entry"][0]["resource"]["start"] = "2026-03-06T15:00:00+00:00"
    report = import_fhir_bundle(clinic.id, bundle, source="b", strict=False, clock=clock)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    moved = world.appointment(clinic, "appt-1")
    assert (moved.starts_at, moved.plan_version) == (datetime(2026, 3, 6, 15, 0, tzinfo=UTC), 2)


def test_bad_entries_are_named_by_index_and_field(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    report = _import(clinic, clock, "attendance_bad.json")
    assert [(e.line, e.field, e.reason) for e in report.errors] == [
        (0, "entry[0].resource.participant", "no patient with this external id in this clinic"),
        (1, "entry[1].resource.start", "more than a day in the past"),
        (2, "entry[2].resource.resourceType", "expected Appointment, got Patient"),
    ]
    assert report.created == 1
    assert world.appointment(clinic, "appt-9").status is AppointmentStatus.BOOKED


def test_a_strict_import_writes_nothing_when_an_entry_is_bad(
    clinic: Clinic, clock: FixedClock
) -> None:
    report = _import(clinic, clock, "attendance_bad.json", strict=True)
    assert not report.imported
    assert report.summary().endswith("(strict: nothing imported); 0 skipped")
    assert db.session.query(OutboundMessage).count() == 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"status": "booked"},
            ("entry[1].resource.status", "booked, but the appointment is already dna"),
        ),
        (
            {"participant": [{"actor": {"reference": "Patient/pat-1"}}]},
            ("entry[1].resource.participant", "the appointment belongs to another patient"),
        ),
        (
            {"status": "cancelled"},
            ("entry[1].resource.status", "the appointment already has the outcome dna"),
        ),
    ],
)
def test_entries_that_contradict_what_is_stored_are_refused(
    clinic: Clinic, clock: FixedClock, change: dict[str, Any], error: tuple[str, str]
) -> None:
    _import(clinic, clock, "attendance_booked.json")
    clock.set(AFTER_ALL)
    _import(clinic, clock, "attendance_outcomes.json")
    bundle = _bundle("attendance_outcomes.json")
    bundle["entry"][1]["resource"].update(change)
    report = import_fhir_bundle(clinic.id, bundle, source="b", strict=False, clock=clock)
    assert [(e.field, e.reason) for e in report.errors] == [error]


def test_the_published_example_bundle_books_and_skips_outcomes_never_booked(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    world.patient(clinic, "pat-501")
    report = _import(clinic, clock, "appointments_searchset.json")
    assert (report.created, report.errors) == (1, [])
    assert world.appointment(clinic, "appt-1001").starts_at == datetime(
        2026, 7, 1, 9, 0, tzinfo=UTC
    )
    never_booked = [s.index for s in report.skipped if s.reason.startswith("an outcome")]
    assert never_booked == [1, 2, 3, 4, 5, 6, 8]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe", "not UTF-8"), (b"{not json", "not valid JSON")],
)
def test_unreadable_files_are_refused(
    clinic: Clinic, clock: FixedClock, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(content)
    with pytest.raises(Invalid, match=message):
        import_fhir_file(path, "north", strict=False, clock=clock)
