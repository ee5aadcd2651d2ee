"""Recording outcomes from CSV files and JSON rows: rules, errors, strictness, repeats."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.appointments.imports import import_outcome_rows, import_outcomes_csv
from app.appointments.models import AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.core.imports import ImportReport
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from tests.world import World

PAST = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # started by the time outcomes come in
FUTURE = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # "now" when outcomes are recorded


@pytest.fixture
def clinic(world: World, clock: FixedClock) -> Clinic:
    """Appointments A1 (started by LATER) and A3 (still ahead), then the clock at LATER."""
    made = world.clinic()
    world.patient(made, "P1")
    world.book(made, "A1", "P1", PAST)
    world.book(made, "A3", "P1", FUTURE)
    clock.set(LATER)
    return made


def _import(
    clinic: Clinic, clock: FixedClock, *rows: Mapping[str, object], strict: bool = False
) -> ImportReport:
    return import_outcome_rows(clinic.id, list(rows), source="api", strict=strict, clock=clock)


@pytest.mark.parametrize(
    ("prior", "row", "status", "error"),
    [
        (None, {"external_id": "A1", "outcome": "attended"}, "attended", None),
        (None, {"external_id": "A1", "outcome": "DNA "}, "dna", None),
        ("attended", {"external_id": "A1", "outcome": "dna"}, "dna", None),  # a correction
        (None, {"external_id": "A3", "outcome": "cancelled_clinic"}, "cancelled_clinic", None),
        (
            None,
            {"external_id": "A3", "outcome": "attended"},
            "booked",
            ("outcome", "the appointment has not started yet"),
        ),
        (
            "attended",
            {"external_id": "A1", "outcome": "cancelled_clinic"},
            "attended",
            ("outcome", "the appointment already has the outcome attended"),
        ),
        (
            "cancelled_patient",
            {"external_id": "A1", "outcome": "attended"},
            "cancelled_patient",
            (
                "outcome",
                "the appointment is cancelled_patient: a cancellation cannot become attended",
            ),
        ),
        (
            "cancelled_patient",
            {"external_id": "A1", "outcome": "cancelled_clinic"},
            "cancelled_patient",
            ("outcome", "the appointment is already cancelled_patient"),
        ),
        (
            None,
            {"external_id": "A9", "outcome": "dna"},
            None,
            ("external_id", "no appointment with this external id in this clinic"),
        ),
        (
            None,
            {"external_id": "A1", "outcome": "dna", "cancelled_at": "2026-03-01T10:00"},
            "booked",
            ("cancelled_at", "not allowed with outcome dna"),
        ),
    ],
)
def test_an_outcome_follows_the_appointment_rules(
    world: World,
    clinic: Clinic,
    clock: FixedClock,
    prior: str | None,
    row: dict[str, object],
    status: str | None,
    error: tuple[str, str] | None,
) -> None:
    if prior is not None:
        assert not _import(clinic, clock, {"external_id": "A1", "outcome": prior}).errors
    report = _import(clinic, clock, row)
    assert [(e.field, e.reason) for e in report.errors] == ([error] if error else [])
    assert report.updated == (0 if error else 1)
    if status is not None:
        appointment = world.appointment(clinic, str(row["external_id"]))
        db.session.refresh(appointment)
        assert appointment.status.value == status


@pytest.mark.parametrize(
    ("external_id", "cancelled_at", "notice_minutes"),
    [
        ("A3", "2026-03-08T10:00", 12 * 24 * 60),  # given, clinic time (GMT)
        ("A3", None, (FUTURE - LATER) // timedelta(minutes=1)),  # not given: now
        ("A1", "2026-03-03T09:30Z", 30),
        ("A1", "2026-03-03T10:15Z", -15),  # after the start: a late cancellation
        ("A1", None, None),  # learnt of after the start, with no time: notice unknown
    ],
)
def test_a_patient_cancellation_gets_its_notice_from_the_cancellation_time(
    world: World,
    clinic: Clinic,
    clock: FixedClock,
    external_id: str,
    cancelled_at: str | None,
    notice_minutes: int | None,
) -> None:
    row: dict[str, object] = {"external_id": external_id, "outcome": "cancelled_patient"}
    if cancelled_at is not None:
        row["cancelled_at"] = cancelled_at
    assert not _import(clinic, clock, row).errors
    appointment = world.appointment(clinic, external_id)
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.CANCELLED_PATIENT
    assert appointment.cancel_lead_minutes == notice_minutes


def test_a_cancellation_cancels_the_reminders_still_to_go(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    appointment = world.appointment(clinic, "A3")
    assert not _import(clinic, clock, {"external_id": "A3", "outcome": "cancelled_clinic"}).errors
    states = {
        m.state for m in db.session.query(OutboundMessage).filter_by(appointment_id=appointment.id)
    }
    assert states == {MessageState.CANCELLED}


def test_a_repeated_cancellation_time_is_unchanged_and_a_new_one_updates(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    row = {"external_id": "A3", "outcome": "cancelled_patient", "cancelled_at": "2026-03-09T10:00"}
    assert _import(clinic, clock, row).updated == 1
    again = _import(clinic, clock, row)
    assert (again.updated, again.unchanged) == (0, 1)
    moved = _import(clinic, clock, {**row, "cancelled_at": "2026-03-06T10:00"})
    assert moved.updated == 1
    assert world.appointment(clinic, "A3").cancel_lead_minutes == 14 * 24 * 60


@pytest.mark.storage
def test_a_csv_file_reports_bad_rows_by_line_and_records_the_rest(
    backend: str, world: World, clinic: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_text(
        "external_id,outcome,cancelled_at\n"
        "A1,attended,\n"
        "A3,maybe,\n"
        "A9,dna,\n"
        "A3,cancelled_patient,2026-03-30T10:00\n",
        encoding="utf-8",
    )
    report = import_outcomes_csv(path, "north", strict=False, clock=clock)
    assert [str(error) for error in report.errors] == [
        f"{path}:3: outcome: expected attended, dna, cancelled_patient or cancelled_clinic",
        f"{path}:4: external_id: no appointment with this external id in this clinic",
        f"{path}:5: cancelled_at: in the future",
    ]
    assert (report.updated, report.unchanged, report.imported) == (1, 0, True)
    assert world.appointment(clinic, "A1").status is AppointmentStatus.ATTENDED
    again = import_outcomes_csv(path, "north", strict=False, clock=clock)
    assert (again.updated, again.unchanged, len(again.errors)) == (0, 1, 3)


def test_a_strict_import_records_nothing_when_a_row_is_bad(
    world: World, clinic: Clinic, clock: FixedClock
) -> None:
    report = _import(
        clinic,
        clock,
        {"external_id": "A1", "outcome": "dna"},
        {"external_id": "A1", "outcome": "attended"},
        {"external_id": "A3", "outcome": "cancelled_clinic"},
        strict=True,
    )
    assert not report.imported
    assert [(e.line, e.field, e.reason) for e in report.errors] == [
        (0, "external_id", "duplicate (also at 1)"),
        (1, "external_id", "duplicate (also at 0)"),
    ]
    assert world.appointment(clinic, "A3").status is AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("external_id,outcome,cancelled_at\n", None),
        ("external_id,result\n", "outcome: missing column"),
    ],
)
def test_a_csv_header_must_name_the_columns(
    clinic: Clinic, clock: FixedClock, tmp_path: Path, header: str, message: str | None
) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_text(header, encoding="utf-8")
    report = import_outcomes_csv(path, "north", strict=False, clock=clock)
    assert [f"{e.field}: {e.reason}" for e in report.errors][:1] == ([message] if message else [])


def test_unknown_clinics_and_unreadable_files_are_refused(
    clinic: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(b"external_id,outcome\nA1,\xff\n")
    with pytest.raises(NotFound, match="no clinic with slug 'south'"):
        import_outcomes_csv(path, "south", strict=False, clock=clock)
    with pytest.raises(Invalid, match="not UTF-8"):
        import_outcomes_csv(path, "north", strict=False, clock=clock)
