"""A day's appointments: each clinic's own day in its own zone, through the scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.appointments.models import AppointmentStatus
from app.clinics.roles import Permission, Role
from app.clinics.scope import scope_for
from app.diary.queries import appointments_on_day, day_bounds, pathways_on_day
from app.diary.reminders import ReminderStatus
from app.extensions import db
from app.messaging.states import MessageState
from tests.web.staff import StaffDesk
from tests.world import World

DAY = date(2026, 3, 20)
VIEW = Permission.VIEW_APPOINTMENTS
S = MessageState


def test_a_day_runs_from_midnight_to_midnight_in_the_clinic_zone() -> None:
    assert day_bounds(date(2026, 3, 29), ZoneInfo("Europe/London")) == (
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 23, 0, tzinfo=UTC),  # 23 hours: the clocks go forward
    )
    assert day_bounds(DAY, ZoneInfo("America/New_York"))[0] == datetime(
        2026, 3, 20, 4, 0, tzinfo=UTC
    )


def test_the_day_lists_the_scope_s_clinics_in_their_own_zones(
    world: World, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    east = world.clinic("east", timezone="America/New_York")
    south = world.clinic("south", org="other")
    ann, bob, cy = (world.patient(c, "P1") for c in (north, east, south))
    early = world.add(ann, datetime(2026, 3, 20, 0, 30, tzinfo=UTC), AppointmentStatus.BOOKED)
    world.add(ann, datetime(2026, 3, 19, 23, 30, tzinfo=UTC), AppointmentStatus.BOOKED)
    late_east = world.add(bob, datetime(2026, 3, 21, 3, 30, tzinfo=UTC), AppointmentStatus.DNA)
    world.add(bob, datetime(2026, 3, 20, 3, 30, tzinfo=UTC), AppointmentStatus.BOOKED)
    world.add(cy, datetime(2026, 3, 20, 12, 0, tzinfo=UTC), AppointmentStatus.BOOKED)
    world.add(ann, datetime(2026, 3, 20, 9, 0, tzinfo=UTC), AppointmentStatus.ENTERED_IN_ERROR)
    member = desk.member(Role.RECEPTIONIST, ["north", "east"], enrol=False)
    scope = scope_for(member.user_id)
    found = appointments_on_day(scope, VIEW, DAY)
    assert [row.appointment.id for row in found] == [early.id, late_east.id]
    assert [row.clinic.slug for row in found] == ["north", "east"]
    only_east = appointments_on_day(scope, VIEW, DAY, clinic_id=east.id)
    assert [row.appointment.id for row in only_east] == [late_east.id]
    assert appointments_on_day(scope, VIEW, DAY, clinic_id=south.id) == []


def test_each_appointment_carries_its_reminders_of_the_current_plan(
    world: World, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    ann = world.patient(north, "P1")
    at = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    delivered = world.add(ann, at, AppointmentStatus.BOOKED, reminders=[S.DELIVERED, S.PENDING])
    planned = world.add(ann, at, AppointmentStatus.BOOKED, reminders=[S.PENDING])
    confirmed = world.add(ann, at, AppointmentStatus.BOOKED, confirmed=True, reminders=[S.SENT])
    cancelled = world.add(ann, at, AppointmentStatus.CANCELLED_PATIENT, reminders=[S.CANCELLED])
    bare = world.add(ann, at, AppointmentStatus.BOOKED)
    member = desk.member(Role.RECEPTIONIST, ["north"], enrol=False)
    found = {
        row.appointment.id: row for row in appointments_on_day(scope_for(member.user_id), VIEW, DAY)
    }
    assert {i: row.reminder for i, row in found.items()} == {
        delivered.id: ReminderStatus.DELIVERED,
        planned.id: ReminderStatus.PLANNED,
        confirmed.id: ReminderStatus.CONFIRMED,
        cancelled.id: ReminderStatus.CANCELLED,
        bare.id: ReminderStatus.NONE,
    }
    # world.add makes reminder r<n> due n+1 days before: the pending one is due first.
    assert found[planned.id].next_reminder_at == datetime(2026, 3, 19, 10, 0, tzinfo=UTC)
    assert found[delivered.id].next_reminder_at == datetime(2026, 3, 18, 10, 0, tzinfo=UTC)


def test_pathways_of_the_day(world: World, desk: StaffDesk) -> None:
    north = world.clinic("north")
    ann = world.patient(north, "P1")
    at = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    for pathway in ("physiotherapy", "podiatry", "physiotherapy", None):
        appointment = world.add(ann, at, AppointmentStatus.BOOKED)
        appointment.pathway = pathway
    db.session.commit()
    member = desk.member(Role.RECEPTIONIST, ["north"], enrol=False)
    scope = scope_for(member.user_id)
    assert pathways_on_day(scope, VIEW, DAY) == ["physiotherapy", "podiatry"]
    rows = appointments_on_day(scope, VIEW, DAY, pathway="podiatry")
    assert [row.appointment.pathway for row in rows] == ["podiatry"]
