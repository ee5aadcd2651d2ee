"""Appointment imports and the commands replies and staff use on appointments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.appointments import events, service
from app.appointments.events import AppointmentEvent
from app.appointments.importers import (
    booking_problem,
    parse_starts_at,
    validate_appointments,
)
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.queries import pending_appointments, rebook_requests
from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.core.imports import FieldValueError, SourceRow
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.consent import record_opt_out
from app.patients.service import import_patient_rows
from app.surveys.invitations import plan_invitations
from tests.statements import counting

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADER = "external_id,patient_external_id,starts_at"


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01T10:00", utc(2026, 7, 1, 9, 0)),  # BST, local to the clinic
        ("2026-01-15 10:00", utc(2026, 1, 15, 10, 0)),  # GMT
        ("2026-07-01T10:00Z", utc(2026, 7, 1, 10, 0)),
        ("2026-07-01T10:00:00+02:00", utc(2026, 7, 1, 8, 0)),
        ("2026-03-29T01:30", utc(2026, 3, 29, 1, 30)),  # in the spring gap: moved forward
        ("2026-10-25T01:30", utc(2026, 10, 25, 0, 30)),  # twice in autumn: the first
    ],
)
def test_starts_at_is_resolved_in_the_clinic_zone(text: str, expected: datetime) -> None:
    assert parse_starts_at(text, LONDON) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-07-01", "needs a time as well as a date"),
        ("next tuesday 10am", "not an ISO 8601 date and time"),
        ("2026-13-01T10:00", "not an ISO 8601 date and time"),
        ("", "required"),
        (20260701, "needs a time as well as a date"),
        ([2026], "expected text or a whole number"),
    ],
)
def test_unreadable_times_are_refused(value: object, reason: str) -> None:
    with pytest.raises(FieldValueError, match=reason):
        parse_starts_at(value, LONDON)


@pytest.mark.parametrize(
    ("starts_at", "problem"),
    [
        (NOW - timedelta(hours=23), None),
        (NOW - timedelta(days=1, minutes=1), "more than a day in the past"),
        (NOW + timedelta(days=700), None),
        (NOW + timedelta(days=800), "more than two years ahead"),
    ],
)
def test_booking_window(starts_at: datetime, problem: str | None) -> None:
    assert booking_problem(starts_at, NOW) == problem


def test_rows_with_errors_and_duplicates_are_refused() -> None:
    rows = [
        SourceRow(2, {"external_id": "A1", "patient_external_id": "P1", "starts_at": "x"}),
        SourceRow(
            3, {"external_id": "A2", "patient_external_id": "P1", "starts_at": "2026-04-01T10:00"}
        ),
        SourceRow(
            4, {"external_id": "A2", "patient_external_id": "P2", "starts_at": "2026-04-02T10:00"}
        ),
        SourceRow(5, {"external_id": "A3", "patient_external_id": "", "room": "4"}),
        SourceRow(
            6, {"external_id": "A4", "patient_external_id": "P1", "starts_at": "2026-04-03T10:00"}
        ),
    ]
    records, errors = validate_appointments(rows, source="a.csv", zone=LONDON)
    assert [r.external_id for r in records] == ["A4"]
    assert [(e.line, e.field) for e in errors] == [
        (2, "starts_at"),
        (5, "room"),
        (5, "patient_external_id"),
        (5, "starts_at"),
        (3, "external_id"),
        (4, "external_id"),
    ]


# --- imports against the database ---------------------------------------------------------


@pytest.fixture
def clinic(app: Any, clock: FixedClock) -> Clinic:
    made = create_clinic(
        "c1", name="Clinic One", timezone="Europe/London", sender="+442071838750", clock=clock
    )
    rows: list[dict[str, object]] = [
        {"external_id": "P1", "phone": "+447400123456", "locale": "en"},
        {"external_id": "P2", "phone": "+447400123457", "locale": "so"},
    ]
    assert not import_patient_rows(made.id, rows, source="t", strict=True, clock=clock).errors
    return made


def _write(tmp_path: Path, *lines: str, name: str = "appointments.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _run(runner: Any, path: Path, *extra: str) -> Any:
    return runner.invoke(args=["import", "appointments", str(path), "--clinic", "c1", *extra])


def _appointment(external_id: str) -> Appointment:
    db.session.expire_all()
    found = db.session.scalar(select(Appointment).where(Appointment.external_id == external_id))
    assert found is not None
    return found


def _reminders(appointment_id: int) -> list[tuple[str, int, MessageState, datetime]]:
    rows = db.session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.appointment_id == appointment_id)
        .order_by(OutboundMessage.plan_version, OutboundMessage.due_at)
    )
    return [(m.rule, m.plan_version, m.state, m.due_at) for m in rows]


@pytest.mark.storage
def test_new_appointments_get_reminders(
    runner: Any, clinic: Clinic, tmp_path: Path, backend: str
) -> None:
    result = _run(runner, _write(tmp_path, "A1,P1,2026-03-20T10:00", "A2,P2,2026-07-01T10:00"))
    assert result.exit_code == 0, result.output
    assert "appointments: 2 created, 0 updated, 0 unchanged, 0 bad rows" in result.stdout
    a1, a2 = _appointment("A1"), _appointment("A2")
    assert a2.starts_at == utc(2026, 7, 1, 9, 0)
    assert _reminders(a1.id) == [
        ("7d", 1, MessageState.PENDING, utc(2026, 3, 13, 10, 0)),
        ("1d", 1, MessageState.PENDING, utc(2026, 3, 19, 10, 0)),
    ]


@pytest.mark.storage
def test_reimport_changes_nothing(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock, backend: str
) -> None:
    path = _write(tmp_path, "A1,P1,2026-03-20T10:00", "A2,P2,2026-03-21T10:00Z")
    assert _run(runner, path).exit_code == 0
    before = (_appointment("A1").updated_at, _reminders(_appointment("A1").id))
    clock.advance(timedelta(days=30))  # both now in the past: unchanged rows stay valid
    result = _run(runner, path)
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 2 unchanged, 0 bad rows" in result.stdout
    assert (_appointment("A1").updated_at, _reminders(_appointment("A1").id)) == before


@pytest.mark.storage
def test_a_moved_appointment_is_replanned(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock, backend: str
) -> None:
    assert _run(runner, _write(tmp_path, "A1,P1,2026-03-20T10:00")).exit_code == 0
    clock.advance(timedelta(days=1))
    result = _run(runner, _write(tmp_path, "A1,P1,2026-03-25T14:00", name="moved.csv"))
    assert "0 created, 1 updated, 0 unchanged" in result.stdout
    moved = _appointment("A1")
    assert (moved.starts_at, moved.plan_version) == (utc(2026, 3, 25, 14, 0), 2)
    assert _reminders(moved.id) == [
        ("7d", 1, MessageState.CANCELLED, utc(2026, 3, 13, 10, 0)),
        ("1d", 1, MessageState.CANCELLED, utc(2026, 3, 19, 10, 0)),
        ("7d", 2, MessageState.PENDING, utc(2026, 3, 18, 10, 0)),
        ("1d", 2, MessageState.PENDING, utc(2026, 3, 24, 10, 0)),
    ]


@pytest.mark.storage
def test_refused_rows(runner: Any, clinic: Clinic, tmp_path: Path, backend: str) -> None:
    path = _write(
        tmp_path,
        "A1,P1,2026-03-20T10:00",
        "A2,P9,2026-03-20T10:00",
        "A3,P2,2026-02-27T10:00",
        "A4,P2,tomorrow",
    )
    result = _run(runner, path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: patient_external_id: no patient with this external id in this clinic",
        f"{path}:4: starts_at: more than a day in the past",
        f"{path}:5: starts_at: not an ISO 8601 date and time",
    ]
    assert "1 created, 0 updated, 0 unchanged, 3 bad rows" in result.stdout


@pytest.mark.storage
def test_strict_imports_nothing(runner: Any, clinic: Clinic, tmp_path: Path, backend: str) -> None:
    path = _write(tmp_path, "A1,P1,2026-03-20T10:00", "A2,P9,2026-03-20T10:00")
    result = _run(runner, path, "--strict")
    assert result.exit_code == 1
    assert db.session.scalar(select(Appointment)) is None
    assert db.session.scalar(select(OutboundMessage)) is None


@pytest.mark.storage
def test_a_cancelled_appointment_is_not_moved_or_reassigned(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock, backend: str
) -> None:
    assert _run(runner, _write(tmp_path, "A1,P1,2026-03-20T10:00")).exit_code == 0
    service.cancel_by_clinic(_appointment("A1").id, clock)
    db.session.commit()
    path = _write(tmp_path, "A1,P1,2026-03-22T10:00", name="again.csv")
    assert f"{path}:2: starts_at: cannot move an appointment that is cancelled_clinic" in (
        _run(runner, path).stderr
    )
    path = _write(tmp_path, "A1,P2,2026-03-20T10:00", name="other.csv")
    assert "patient_external_id: the appointment belongs to another patient" in (
        _run(runner, path).stderr
    )


# --- what replies and staff do ---------------------------------------------------------------


@pytest.fixture
def booked(runner: Any, clinic: Clinic, tmp_path: Path) -> Appointment:
    assert _run(runner, _write(tmp_path, "A1,P1,2026-03-20T10:00")).exit_code == 0
    return _appointment("A1")


def _open_reminders(appointment_id: int) -> int:
    states = [state for _, _, state, _ in _reminders(appointment_id)]
    return states.count(MessageState.PENDING)


@pytest.mark.parametrize(
    ("command", "status", "open_reminders"),
    [
        (service.confirm_appointment, AppointmentStatus.BOOKED, 2),
        (service.request_rebook, AppointmentStatus.BOOKED, 2),
        (service.cancel_by_patient, AppointmentStatus.CANCELLED_PATIENT, 0),
        (service.cancel_by_clinic, AppointmentStatus.CANCELLED_CLINIC, 0),
    ],
)
def test_reply_commands(
    booked: Appointment,
    clock: FixedClock,
    command: Callable[[int, FixedClock], Appointment],
    status: AppointmentStatus,
    open_reminders: int,
) -> None:
    command(booked.id, clock)
    command(booked.id, clock)  # a duplicate reply changes nothing more
    db.session.commit()
    after = _appointment("A1")
    assert after.status is status
    assert _open_reminders(after.id) == open_reminders


def test_patient_cancellation_records_lead_time(booked: Appointment, clock: FixedClock) -> None:
    clock.set(utc(2026, 3, 19, 10, 0, 30))
    cancelled = service.cancel_by_patient(booked.id, clock)
    assert cancelled.cancelled_at == clock.now()
    assert cancelled.cancel_lead_minutes == 24 * 60 - 1


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (service.cancel_by_clinic, service.confirm_appointment, "cannot confirm"),
        (service.cancel_by_clinic, service.cancel_by_patient, "cannot cancel"),
        (service.cancel_by_patient, service.cancel_by_clinic, "cannot cancel"),
    ],
)
def test_refused_transitions(
    booked: Appointment, clock: FixedClock, first: Any, then: Any, message: str
) -> None:
    first(booked.id, clock)
    with pytest.raises(Invalid, match=message):
        then(booked.id, clock)


@pytest.mark.parametrize(
    ("at", "status", "error"),
    [
        (utc(2026, 3, 20, 9, 0), AppointmentStatus.ATTENDED, "before the appointment starts"),
        (utc(2026, 3, 20, 11, 0), AppointmentStatus.ATTENDED, None),
        (utc(2026, 3, 20, 11, 0), AppointmentStatus.DNA, None),
        (utc(2026, 3, 20, 11, 0), AppointmentStatus.BOOKED, "is not an outcome"),
    ],
)
def test_record_outcome(
    booked: Appointment,
    clock: FixedClock,
    at: datetime,
    status: AppointmentStatus,
    error: str | None,
) -> None:
    clock.set(at)
    if error:
        with pytest.raises(Invalid, match=error):
            service.record_outcome(booked.id, status, clock)
        return
    recorded = service.record_outcome(booked.id, status, clock)
    assert (recorded.status, recorded.outcome_recorded_at) == (status, at)
    with pytest.raises(Invalid, match="cannot rebook"):
        service.request_rebook(booked.id, clock)


def test_outcomes_of_many_appointments_are_all_recorded_or_none(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock
) -> None:
    lines = ("A1,P1,2026-03-20T10:00", "A2,P2,2026-03-20T10:30", "A3,P1,2026-03-25T10:00")
    assert _run(runner, _write(tmp_path, *lines)).exit_code == 0
    a1, a2, a3 = _appointment("A1"), _appointment("A2"), _appointment("A3")
    clock.set(utc(2026, 3, 20, 12, 0))
    told: list[tuple[AppointmentEvent, list[str]]] = []

    def listen(event: AppointmentEvent) -> events.Handler:
        return lambda appointments, _clinic, _clock: told.append(
            (event, [a.external_id for a in appointments])
        )

    for event in (AppointmentEvent.ATTENDED, AppointmentEvent.DNA):
        events.on(event, "test-listener", listen(event))
    try:
        # A3 has not started: nothing is recorded, and no handler hears of A1 or A2.
        with pytest.raises(Invalid, match="before the appointment starts"):
            service.record_outcomes(
                [(a1.id, AppointmentStatus.ATTENDED), (a3.id, AppointmentStatus.DNA)], clock
            )
        db.session.rollback()
        assert (_appointment("A1").status, told) == (AppointmentStatus.BOOKED, [])
        recorded = service.record_outcomes(
            [(a2.id, AppointmentStatus.DNA), (a1.id, AppointmentStatus.ATTENDED)], clock
        )
    finally:
        for event in (AppointmentEvent.ATTENDED, AppointmentEvent.DNA):
            events._handlers[event].pop("test-listener", None)
    assert [(a.external_id, a.status) for a in recorded] == [
        ("A2", AppointmentStatus.DNA),
        ("A1", AppointmentStatus.ATTENDED),
    ]
    assert told == [(AppointmentEvent.DNA, ["A2"]), (AppointmentEvent.ATTENDED, ["A1"])]
    db.session.commit()
    # The handlers' work is done as for one: A1's reminders (each with its rule) are
    # withdrawn, and its survey invitation (with none) is planned.
    assert [(bool(rule), state) for rule, _, state, _ in _reminders(a1.id)] == [
        (True, MessageState.CANCELLED),
        (True, MessageState.CANCELLED),
        (False, MessageState.PENDING),
    ]


@pytest.mark.storage
def test_a_batch_of_attendances_invites_each_patient_once(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock
) -> None:
    """The invitations of many attendances are planned together, each as if alone: a
    patient seen twice that day is invited once, one who opted out not at all."""
    lines = (
        "A1,P1,2026-03-20T10:00",
        "A2,P2,2026-03-20T10:30",
        "A3,P1,2026-03-20T11:00",
        "A4,P2,2026-03-25T10:00",
    )
    assert _run(runner, _write(tmp_path, *lines)).exit_code == 0
    a1, a2, a3 = _appointment("A1"), _appointment("A2"), _appointment("A3")
    clock.set(utc(2026, 3, 20, 12, 0))
    record_opt_out(a2.patient_id, clinic.id, "all", "staff", clock.now())
    service.record_outcomes([(a.id, AppointmentStatus.ATTENDED) for a in (a1, a2, a3)], clock)
    db.session.commit()
    invitations = {
        a.external_id: [state for rule, _, state, _ in _reminders(a.id) if not rule]
        for a in (a1, a2, a3)
    }
    assert invitations == {"A1": [MessageState.PENDING], "A2": [], "A3": []}
    again = plan_invitations([a1.id, a2.id, a3.id], clock)
    assert [(r.message_id, r.reason) for r in again] == [
        (None, "already_planned"),
        (None, "opted_out"),
        (None, "recently_asked"),
    ]
    with pytest.raises(Invalid, match="only an attended"):  # A4 is still to come
        plan_invitations([a1.id, _appointment("A4").id], clock)


def test_reminders_of_many_bookings_are_planned_in_a_few_statements(
    runner: Any, clinic: Clinic, tmp_path: Path
) -> None:
    """An import plans its bookings' reminders together: what planning reads is read once
    for all of them, and the new reminders are written together, so a file of 20
    bookings costs PostgreSQL no more round trips than one of 2."""

    def statements(first: int, count: int) -> int:
        lines = [
            f"B{first + n},P{1 + n % 2},2026-03-{20 + n % 5}T{9 + n % 8:02d}:00"
            for n in range(count)
        ]
        with counting(db.engine) as count:
            assert _run(runner, _write(tmp_path, *lines)).exit_code == 0
        return count.statements

    few, many = statements(0, 2), statements(100, 20)
    assert many <= few + 2, (few, many)
    planned = _reminders(_appointment("B119").id)
    assert [(bool(rule), state) for rule, _, state, _ in planned] == [
        (True, MessageState.PENDING),
        (True, MessageState.PENDING),
    ]


def test_queries(runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock) -> None:
    lines = ("A1,P1,2026-03-25T10:00", "A2,P1,2026-03-20T10:00", "A3,P1,2026-03-02T08:00")
    assert _run(runner, _write(tmp_path, *lines)).exit_code == 0
    a1, a2 = _appointment("A1"), _appointment("A2")
    assert [a.external_id for a in pending_appointments(a1.patient_id, clock.now())] == ["A2", "A1"]
    service.request_rebook(a1.id, clock)
    clock.advance(timedelta(minutes=5))
    service.request_rebook(a2.id, clock)
    service.cancel_by_patient(a2.id, clock)
    db.session.commit()
    assert [a.external_id for a in pending_appointments(a1.patient_id, clock.now())] == ["A1"]
    assert [a.external_id for a in rebook_requests(clinic.id)] == ["A1", "A2"]


@pytest.mark.parametrize(
    ("value", "pathway", "error"),
    [
        ("Physiotherapy", "physiotherapy", None),
        ("pregnancy-loss", "pregnancy-loss", None),
        ("", None, None),
        ("maternity/early", None, "expected a pathway code"),
    ],
)
def test_the_pathway_column(value: str, pathway: str | None, error: str | None) -> None:
    row = {
        "external_id": "A1",
        "patient_external_id": "P1",
        "starts_at": "2026-03-10T10:00",
        "pathway": value,
    }
    records, errors = validate_appointments([SourceRow(2, row)], source="a.csv", zone=LONDON)
    if error is None:
        assert [r.pathway for r in records] == [pathway]
    else:
        assert [(e.line, e.field) for e in errors] == [(2, "pathway")]
        assert error in errors[0].reason
