"""Experiment arms read from the stored counts: they equal the join of every assignment to
its appointment (`experiments.queries.arm_counts_of`), however late outcomes arrive, when
they are corrected, for an appointment in two experiments, and in months no report has
built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.appointments.models import AppointmentStatus as S
from app.appointments.service import (
    NewAppointment,
    book_appointments,
    cancel_by_clinic,
    cancel_by_patient,
    record_outcome,
    withdraw_appointment,
)
from app.attendance.models import AttendanceArmCell, AttendanceMonth
from app.attendance.queries import stored_arm_counts
from app.attendance.service import refresh_counts, refresh_experiment_counts
from app.audit.service import SYSTEM
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.experiments.analysis import ArmCounts
from app.experiments.assigning import assign_experiment
from app.experiments.models import Experiment, ExperimentAssignment
from app.experiments.queries import arm_counts_of
from app.experiments.service import create_experiment, stop_experiment
from app.experiments.spec import parse_definition
from app.extensions import db
from app.messaging.states import MessageState as M
from tests.experiments.test_spec import raw
from tests.world import World

#: Days after the clock's start (2 March 2026, 09:00 UTC) with appointments, a few of
#: them either side of midnight UTC.
STARTS = [
    datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
    datetime(2026, 3, 10, 23, 45, tzinfo=UTC),
    datetime(2026, 3, 11, 0, 15, tzinfo=UTC),
    datetime(2026, 3, 12, 14, 0, tzinfo=UTC),
    datetime(2026, 4, 20, 9, 30, tzinfo=UTC),
]


def _experiment(slug: str, clinics: list[str], clock: FixedClock, start: bool = True) -> Experiment:
    return create_experiment(parse_definition(raw(slug=slug, clinics=clinics)), clock, start=start)


def _book(world: World, clinic: Clinic, per_start: int) -> list[int]:
    """Booked appointments at `clinic`, `per_start` at each of STARTS, each with a
    reminder still to send."""
    patient = world.patient(clinic, f"{clinic.slug}-patient")
    return [
        world.add(patient, start + timedelta(minutes=n), S.BOOKED, reminders=[M.PENDING]).id
        for start in STARTS
        for n in range(per_start)
    ]


def _arms(experiment_id: int) -> dict[str, list[int]]:
    arms: dict[str, list[int]] = {"A": [], "B": []}
    for appointment_id, arm in db.session.execute(
        select(ExperimentAssignment.appointment_id, ExperimentAssignment.arm)
        .where(ExperimentAssignment.experiment_id == experiment_id)
        .order_by(ExperimentAssignment.appointment_id)
    ):
        arms[arm].append(appointment_id)
    return arms


def _stored_equal_the_join(clock: FixedClock) -> dict[int, list[ArmCounts]]:
    refresh_experiment_counts(clock)
    experiments = list(db.session.scalars(select(Experiment).order_by(Experiment.id)))
    stored = stored_arm_counts(experiments)
    assert stored == arm_counts_of(experiments)
    return stored


def _settle(ids: list[int], clock: FixedClock, *statuses: S) -> None:
    """Record `statuses` in turn for the appointments `ids` (cycling), through the
    appointment service, as an outcome import would."""
    actions: dict[S, Any] = {
        S.CANCELLED_PATIENT: lambda i: cancel_by_patient(i, clock),
        S.CANCELLED_CLINIC: lambda i: cancel_by_clinic(i, clock),
        S.ENTERED_IN_ERROR: lambda i: withdraw_appointment(i, clock),
    }
    for index, appointment_id in enumerate(ids):
        status = statuses[index % len(statuses)]
        action = actions.get(status, lambda i, s=status: record_outcome(i, s, clock))
        action(appointment_id)
    db.session.commit()


@pytest.mark.storage
def test_stored_arm_counts_equal_the_join_as_outcomes_arrive_and_are_corrected(
    world: World, clock: FixedClock
) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    _book(world, north, 6)
    _book(world, south, 4)
    both = _experiment("both", ["north", "south"], clock)
    assign_experiment("both", clock)
    first = _arms(both.id)
    # Before any outcome: every appointment is assigned and still booked.
    stored = _stored_equal_the_join(clock)
    assert sum(arm.assigned for arm in stored[both.id]) == 50
    assert sum(arm.booked for arm in stored[both.id]) == 50

    # Cancellations and a withdrawal before the visits, then outcomes after them.
    _settle(first["A"][:3], clock, S.CANCELLED_PATIENT, S.CANCELLED_CLINIC, S.ENTERED_IN_ERROR)
    clock.advance(timedelta(days=11))
    _settle(first["A"][3:12], clock, S.ATTENDED, S.DNA, S.ATTENDED)
    _settle(first["B"][:10], clock, S.DNA, S.ATTENDED)
    stored = _stored_equal_the_join(clock)
    arm_a = stored[both.id][0]
    assert (arm_a.attended, arm_a.dna, arm_a.cancelled) == (6, 3, 2)
    assert arm_a.booked == arm_a.assigned - 12  # the withdrawn one is in neither

    # Weeks later: late outcomes, and a DNA corrected to attended.
    clock.advance(timedelta(days=40))
    _settle(first["B"][:1], clock, S.ATTENDED)
    _settle(first["B"][10:], clock, S.DNA)
    _settle(first["A"][12:], clock, S.ATTENDED)
    stored = _stored_equal_the_join(clock)
    assert sum(arm.booked for arm in stored[both.id]) == 0
    # No report has built a month: the arms were kept without the other cells.
    assert db.session.scalar(select(func.count()).select_from(AttendanceMonth)) == 0


@pytest.mark.storage
def test_an_appointment_in_two_experiments_counts_once_in_each(
    world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    _book(world, north, 4)
    first = _experiment("first", ["north"], clock)
    assign_experiment("first", clock)
    _settle(_arms(first.id)["A"][:2], clock, S.CANCELLED_PATIENT)
    refresh_experiment_counts(clock)  # the first experiment's cells are built here
    _settle(_arms(first.id)["B"][:8], clock, S.CANCELLED_PATIENT)
    stop_experiment(first.id, "a second wording to try", clock, SYSTEM)
    second = _experiment("second", ["north"], clock)
    assign_experiment("second", clock)  # the booked appointments, again
    booked = _arms(second.id)["A"] + _arms(second.id)["B"]
    assert set(booked) <= set(_arms(first.id)["A"] + _arms(first.id)["B"])
    clock.advance(timedelta(days=60))
    _settle(booked, clock, S.DNA, S.ATTENDED, S.ATTENDED)
    stored = _stored_equal_the_join(clock)
    outcomes = sum(arm.attended + arm.dna for arm in stored[second.id])
    assert outcomes == len(booked)
    assert sum(arm.attended + arm.dna for arm in stored[first.id]) == len(booked)
    cells = db.session.scalar(select(func.sum(AttendanceArmCell.attended + AttendanceArmCell.dna)))
    assert cells == 2 * len(booked)  # once in each experiment


def test_arms_built_after_outcomes_and_months_built_by_reports_agree(
    world: World, clock: FixedClock
) -> None:
    """Outcomes recorded long before the first read (stamped before the watermark) are
    counted by the first build; a report building the months changes nothing."""
    north = world.clinic("north")
    _book(world, north, 5)
    experiment = _experiment("late", ["north"], clock)
    assign_experiment("late", clock)
    clock.advance(timedelta(days=60))
    arms = _arms(experiment.id)
    _settle(arms["A"], clock, S.DNA, S.ATTENDED)
    _settle(arms["B"], clock, S.ATTENDED)
    clock.advance(timedelta(days=30))
    refresh_counts({north.id: [datetime(2026, 3, 1).date(), datetime(2026, 4, 1).date()]}, clock)
    stored = _stored_equal_the_join(clock)
    assert [(arm.arm, arm.attended + arm.dna) for arm in stored[experiment.id]] == [
        ("A", len(arms["A"])),
        ("B", len(arms["B"])),
    ]


def test_arms_assigned_as_appointments_are_booked_are_counted(
    world: World, clock: FixedClock
) -> None:
    """Totals kept by the assigner: at the start, then as bookings arrive one import at a
    time; an experiment with no appointments yet reads as zeros."""
    north = world.clinic("north")
    _book(world, north, 2)
    running = _experiment("booked", ["north"], clock)
    idle = create_experiment(
        parse_definition(raw(slug="idle", clinics=["north"])), clock, start=False
    )
    assign_experiment("booked", clock)
    assign_experiment("booked", clock)  # nothing new: nothing added twice
    patient = world.patient(north, "later")
    for n in range(3):
        later = [STARTS[0] + timedelta(hours=n, minutes=k) for k in range(4)]
        new = [NewAppointment(patient.id, f"L{n}-{k}", at) for k, at in enumerate(later)]
        book_appointments(north, new, clock)
        db.session.commit()
    stored = _stored_equal_the_join(clock)
    assert sum(arm.assigned for arm in stored[running.id]) == 2 * len(STARTS) + 12
    assert stored[idle.id] == [ArmCounts("A", 0, 0, 0, 0, 0), ArmCounts("B", 0, 0, 0, 0, 0)]
