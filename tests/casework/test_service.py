"""Handling worklist items, and the audit log of what casework pages showed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.casework import service
from app.casework.models import HandledItem, WorkKind
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from tests.casework import cases
from tests.web.staff import StaffDesk
from tests.world import World


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_handling_records_who_when_and_the_note_and_audits_it(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    made = cases.every_kind(world, clock, north, "P1")
    member = desk.member(Role.RECEPTIONIST, ["north"])
    who = Actor(user_id=member.user_id, address="192.0.2.7")
    done = service.mark_handled(
        WorkKind.FAILED_MESSAGE,
        made.failure.id,
        "  Rang: new mobile taken  ",
        actor=who,
        clock=clock,
    )
    assert done.created
    row = db.session.scalar(select(HandledItem))
    assert row is not None
    assert (row.kind, row.record_id, row.clinic_id) == (
        WorkKind.FAILED_MESSAGE,
        made.failure.id,
        north.id,
    )
    assert (row.note, row.handled_by_user_id, row.handled_at) == (
        "Rang: new mobile taken",
        member.user_id,
        clock.now(),
    )
    [event] = _events(AuditAction.HANDLE_WORKLIST)
    assert (event.actor_user_id, event.address, event.record_type, event.record_ids) == (
        member.user_id,
        "192.0.2.7",
        "outbound_message",
        [made.failure.id],
    )
    assert (event.clinic_id, event.organisation_id) == (north.id, north.organisation_id)
    assert event.detail == {"kind": "failed_message", "patient_id": made.patient.id, "note": True}
    assert "mobile" not in str(event.detail)


def test_an_item_is_handled_once(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north = world.clinic("north")
    made = cases.every_kind(world, clock, north, "P1")
    first = Actor(desk.member(Role.RECEPTIONIST, ["north"]).user_id)
    second = Actor(desk.member(Role.CLINIC_MANAGER, ["north"]).user_id)
    done = service.mark_handled(WorkKind.OPT_OUT, made.opt_out.id, "", actor=first, clock=clock)
    clock.advance(timedelta(minutes=5))
    again = service.mark_handled(
        WorkKind.OPT_OUT, made.opt_out.id, "me too", actor=second, clock=clock
    )
    assert (done.created, again.created) == (True, False)
    assert again.item.id == done.item.id
    assert again.item.handled_by_user_id == first.user_id
    assert db.session.scalar(select(func.count()).select_from(HandledItem)) == 1
    assert len(_events(AuditAction.HANDLE_WORKLIST)) == 1
    # The same record id under another kind is another item.
    other = service.mark_handled(
        WorkKind.FLAGGED_REPLY, made.reply.id, "", actor=first, clock=clock
    )
    assert other.created


def test_what_handling_refuses(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north = world.clinic("north")
    made = cases.every_kind(world, clock, north, "P1")
    staff = Actor(desk.member(Role.RECEPTIONIST, ["north"]).user_id)
    with pytest.raises(Invalid, match="500 characters"):
        service.mark_handled(
            WorkKind.FLAGGED_REPLY, made.reply.id, "x" * 501, actor=staff, clock=clock
        )
    with pytest.raises(Invalid, match="staff member"):
        service.mark_handled(WorkKind.FLAGGED_REPLY, made.reply.id, "", actor=Actor(), clock=clock)
    with pytest.raises(NotFound):
        service.mark_handled(WorkKind.FLAGGED_REPLY, 999_999, "", actor=staff, clock=clock)
    assert service.mark_handled(
        WorkKind.FLAGGED_REPLY, made.reply.id, "x" * 500, actor=staff, clock=clock
    ).created
    assert len(_events(AuditAction.HANDLE_WORKLIST)) == 1


def test_views_and_searches_are_audited_by_organisation(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    east = world.clinic("east", org="other")
    who = Actor(desk.member(Role.ADMIN).user_id)
    trust, other = north.organisation_id, east.organisation_id
    service.note_worklist_shown({trust: [3, 4]}, {trust: 1, other: 2}, actor=who, clock=clock)
    shown = _events(AuditAction.VIEW_WORKLIST)
    assert [(e.organisation_id, e.record_ids, e.detail) for e in shown] == [
        (trust, [3, 4], {"unknown_numbers": 1}),
        (other, [], {"unknown_numbers": 2}),
    ]
    service.note_search({trust: [7]}, [trust, other], actor=who, clock=clock)
    searched = _events(AuditAction.SEARCH_PATIENTS)
    assert [(e.organisation_id, e.record_ids, e.detail) for e in searched] == [
        (trust, [7], {"results": 1}),
        (other, [], {"results": 0}),
    ]
    service.note_timeline_shown(
        9, north.id, {"names": True, "phone": False}, actor=who, clock=clock
    )
    [viewed] = _events(AuditAction.VIEW_PATIENT)
    assert (viewed.record_type, viewed.record_ids, viewed.clinic_id, viewed.organisation_id) == (
        "patient",
        [9],
        north.id,
        trust,
    )
    assert viewed.detail == {"names": True, "phone": False}
