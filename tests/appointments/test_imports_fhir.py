"""Importing FHIR R4 Appointment bundles: bookings, outcomes, withdrawals, skips, errors,
included resources, strictness."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.appointments.fhir_imports import import_fhir_bundle, import_fhir_file
from app.appointments.models import AppointmentStatus
from app.appointments.service import (
    confirm_appointment,
    record_outcome,
    request_rebook,
    withdraw_appointment,
)
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
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
    ]  # entry[2], a Patient, is not an appointment to import: neither an error nor skipped
    assert report.skipped == []
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


# -- included resources and entered-in-error ----------------------------------------------

BEFORE_R4_EXAMPLES = datetime(2013, 12, 1, 9, 0, tzinfo=UTC)


def _open_reminders(appointment_id: int) -> int:
    return (
        db.session.query(OutboundMessage)
        .filter(
            OutboundMessage.appointment_id == appointment_id,
            OutboundMessage.state.in_([MessageState.PENDING, MessageState.CLAIMED]),
        )
        .count()
    )


@pytest.mark.parametrize("strict", [False, True])
def test_the_r4_searchset_with_included_resources_imports_under_strict(
    world: World, clinic: Clinic, clock: FixedClock, strict: bool
) -> None:
    world.patient(clinic, "example")
    clock.set(BEFORE_R4_EXAMPLES)
    report = _import(clinic, clock, "r4_searchset_included.json", strict=strict)
    assert report.imported
    assert (report.created, report.errors) == (2, [])
    assert [(s.index, s.reason) for s in report.skipped] == [(2, "proposed, not yet booked")]
    assert world.appointment(clinic, "2docs").starts_at == datetime(2013, 12, 9, 9, 0, tzinfo=UTC)


def test_the_included_patients_identifier_is_not_the_external_id(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    world.patient(clinic, "12345")  # the MR number Patient/example carries
    clock.set(BEFORE_R4_EXAMPLES)
    report = _import(clinic, clock, "r4_searchset_included.json")
    assert report.created == 0
    assert [(e.field, e.reason) for e in report.errors] == [
        (f"entry[{i}].resource.participant", "no patient with this external id in this clinic")
        for i in (0, 1)
    ]


def _entered_in_error(name: str, index: int) -> Any:
    bundle = _bundle(name)
    bundle["entry"][index]["resource"]["status"] = "entered-in-error"
    return bundle


def test_entered_in_error_withdraws_a_booked_appointment_and_its_reminders(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    world.patient(clinic, "example")
    clock.set(BEFORE_R4_EXAMPLES)
    _import(clinic, clock, "r4_searchset_included.json")
    booked = world.appointment(clinic, "example")
    assert _open_reminders(booked.id) > 0
    bundle = _entered_in_error("r4_searchset_included.json", 0)
    report = import_fhir_bundle(clinic.id, bundle, source="b", strict=True, clock=clock)
    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 1, 1, [])
    db.session.refresh(booked)
    assert booked.status is AppointmentStatus.ENTERED_IN_ERROR
    assert (booked.cancelled_at, booked.cancel_lead_minutes) == (None, None)
    assert _open_reminders(booked.id) == 0
    assert _open_reminders(world.appointment(clinic, "2docs").id) > 0

    again = import_fhir_bundle(clinic.id, bundle, source="b", strict=True, clock=clock)
    assert (again.updated, again.unchanged, again.errors) == (0, 2, [])


def test_entered_in_error_withdraws_a_cancelled_appointment(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    _import(clinic, clock, "attendance_booked.json")
    clock.set(AFTER_ALL)
    _import(clinic, clock, "attendance_outcomes.json")
    report = import_fhir_bundle(
        clinic.id,
        _entered_in_error("attendance_outcomes.json", 2),
        source="b",
        strict=True,
        clock=clock,
    )
    assert (report.updated, report.errors) == (1, [])
    assert world.appointment(clinic, "appt-3").status is AppointmentStatus.ENTERED_IN_ERROR


def test_entered_in_error_for_an_appointment_never_imported_is_skipped(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    bundle = _entered_in_error("attendance_booked.json", 0)
    report = import_fhir_bundle(clinic.id, bundle, source="b", strict=True, clock=clock)
    assert report.imported
    assert report.created == 3
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("entry[0].resource.status", "entered in error"),
        ("entry[4].resource.status", "proposed, not yet booked"),
    ]


@pytest.mark.parametrize(
    ("index", "error"),
    [
        (0, "entered in error, but the appointment already has the outcome attended"),
        (1, "entered in error, but the appointment already has the outcome dna"),
    ],
)
def test_entered_in_error_does_not_undo_an_outcome(
    world: World, clinic: Clinic, clock: FixedClock, index: int, error: str
) -> None:
    _import(clinic, clock, "attendance_booked.json")
    clock.set(AFTER_ALL)
    _import(clinic, clock, "attendance_outcomes.json")
    bundle = _entered_in_error("attendance_outcomes.json", index)
    report = import_fhir_bundle(clinic.id, bundle, source="b", strict=False, clock=clock)
    assert [(e.field, e.reason) for e in report.errors] == [
        (f"entry[{index}].resource.status", error)
    ]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": "booked"}, "booked, but the appointment is already entered_in_error"),
        ({"status": "fulfilled"}, "the appointment was entered in error"),
        ({"status": "cancelled"}, "the appointment was entered in error"),
    ],
)
def test_nothing_brings_a_withdrawn_appointment_back(
    world: World, clinic: Clinic, clock: FixedClock, change: dict[str, Any], error: str
) -> None:
    _import(clinic, clock, "attendance_booked.json")
    import_fhir_bundle(
        clinic.id,
        _entered_in_error("attendance_booked.json", 0),
        source="b",
        strict=True,
        clock=clock,
    )
    clock.set(AFTER_ALL)
    bundle = _bundle("attendance_booked.json")
    bundle["entry"][0]["resource"].update(change)
    report = import_fhir_bundle(clinic.id, bundle, source="b", strict=False, clock=clock)
    assert [(e.field, e.reason) for e in report.errors] == [("entry[0].resource.status", error)]
    assert world.appointment(clinic, "appt-1").status is AppointmentStatus.ENTERED_IN_ERROR


def test_the_appointment_commands_refuse_a_withdrawn_appointment(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    _import(clinic, clock, "attendance_booked.json")
    withdrawn = withdraw_appointment(world.appointment(clinic, "appt-1").id, clock)
    assert withdraw_appointment(withdrawn.id, clock) is withdrawn  # a second time: no change
    clock.set(AFTER_ALL)
    for command in (
        lambda: record_outcome(withdrawn.id, AppointmentStatus.ATTENDED, clock),
        lambda: record_outcome(withdrawn.id, AppointmentStatus.CANCELLED_PATIENT, clock),
        lambda: request_rebook(withdrawn.id, clock),
        lambda: confirm_appointment(withdrawn.id, clock),
    ):
        with pytest.raises(Invalid, match="entered_in_error"):
            command()
    attended = record_outcome(
        world.appointment(clinic, "appt-2").id, AppointmentStatus.ATTENDED, clock
    )
    with pytest.raises(Invalid, match="cannot withdraw an appointment that is attended"):
        withdraw_appointment(attended.id, clock)
