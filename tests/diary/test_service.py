"""Outcomes recorded from the diary's form: through the outcome import, all or none,
in the audit log with the appointments; and whose names a page showed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.diary import service
from app.diary.service import OutcomeProblem
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from tests.world import World

A = AppointmentStatus
STAFF = Actor(user_id=None, address="192.0.2.1")


def _status(appointment_id: int) -> AppointmentStatus:
    db.session.expire_all()
    found = db.session.get(Appointment, appointment_id)
    assert found is not None
    return found.status


def _events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_outcomes_are_recorded_together_and_audited(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    world.patient(north, "P1")
    world.patient(north, "P2")
    morning = clock.now() - timedelta(hours=3)
    came = world.book(north, "A1", "P1", morning)
    missed = world.book(north, "A2", "P2", morning)
    called_off = world.book(north, "A3", "P2", morning + timedelta(hours=1))
    choices = [(came.id, A.ATTENDED), (missed.id, A.DNA), (called_off.id, A.CANCELLED_CLINIC)]
    assert service.record_outcomes(north.id, choices, actor=STAFF, clock=clock) == []
    assert [_status(i) for i, _ in choices] == [A.ATTENDED, A.DNA, A.CANCELLED_CLINIC]
    [event] = _events(AuditAction.RECORD_OUTCOMES)
    assert (event.record_type, event.record_ids, event.clinic_id) == (
        "appointment",
        [came.id, missed.id, called_off.id],
        north.id,
    )
    assert event.organisation_id == north.organisation_id
    assert event.detail == {"appointments": 3, "attended": 1, "dna": 1, "cancelled_clinic": 1}
    # The one path: an attended visit plans its survey invitation, as an import does.
    invitation = select(OutboundMessage).where(OutboundMessage.appointment_id == came.id)
    assert any(m.kind == "survey_invite" for m in db.session.scalars(invitation))


def test_one_refused_outcome_refuses_them_all(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    world.patient(north, "P1")
    past = world.book(north, "A1", "P1", clock.now() - timedelta(hours=3))
    later = world.book(north, "A2", "P1", clock.now() + timedelta(hours=3))
    choices = [(past.id, A.ATTENDED), (later.id, A.DNA)]
    problems = service.record_outcomes(north.id, choices, actor=STAFF, clock=clock)
    assert problems == [OutcomeProblem(later.id, "outcome", "the appointment has not started yet")]
    assert (_status(past.id), _status(later.id)) == (A.BOOKED, A.BOOKED)
    assert _events(AuditAction.RECORD_OUTCOMES) == []
    pending = select(OutboundMessage.state).where(OutboundMessage.appointment_id == past.id)
    assert MessageState.CANCELLED not in set(db.session.scalars(pending))


def test_another_clinic_s_appointment_is_not_found(world: World, clock: FixedClock) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    world.patient(south, "P1")
    theirs = world.book(south, "A1", "P1", clock.now() - timedelta(hours=1))
    with pytest.raises(NotFound):
        service.record_outcomes(north.id, [(theirs.id, A.DNA)], actor=STAFF, clock=clock)
    assert _status(theirs.id) is A.BOOKED


@pytest.mark.parametrize("choices", [[], [(1, A.BOOKED)], [(1, A.ENTERED_IN_ERROR)]])
def test_only_real_outcomes_are_taken(
    world: World, clock: FixedClock, choices: list[tuple[int, AppointmentStatus]]
) -> None:
    north = world.clinic("north")
    with pytest.raises(Invalid):
        service.record_outcomes(north.id, choices, actor=STAFF, clock=clock)


def test_names_shown_are_recorded_per_clinic(world: World, clock: FixedClock) -> None:
    north, south = world.clinic("north"), world.clinic("south", org="other")
    service.note_day_shown({north.id: [3, 1, 3], south.id: [], 99: []}, actor=STAFF, clock=clock)
    [event] = _events(AuditAction.VIEW_APPOINTMENTS)
    assert (event.clinic_id, event.record_ids, event.detail) == (north.id, [1, 3], {"patients": 2})
