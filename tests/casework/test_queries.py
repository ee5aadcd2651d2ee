"""The worklist as a staff member's scope reads it: every kind of item, counts, the
72-hour window, what leaves the list, and isolation between clinics and organisations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.appointments.models import AppointmentStatus
from app.audit.service import Actor
from app.casework import service
from app.casework.items import Disclosure
from app.casework.models import WorkKind
from app.casework.queries import find_item, find_patients, worklist
from app.casework.search import read_terms
from app.clinics.roles import Permission, Role
from app.clinics.scope import Reach, StaffScope, scope_for
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import InboundMessage
from app.messaging.states import InboundState, MessageState
from tests.casework import cases
from tests.web.staff import StaffDesk
from tests.world import World


def _scope(
    desk: StaffDesk, role: Role = Role.RECEPTIONIST, *clinics: str, org: str = "trust"
) -> StaffScope:
    return scope_for(desk.member(role, list(clinics), org=org).user_id)


def _ids(found: object, kind: WorkKind) -> list[int]:
    return [item.record_id for item in found.items[kind]]  # type: ignore[attr-defined]


def test_every_kind_of_item_is_listed_with_its_counts(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    desk_north = cases.every_kind(world, clock, north, "P1")
    found = worklist(_scope(desk, Role.RECEPTIONIST, "north"), clock.now())
    assert _ids(found, WorkKind.FLAGGED_REPLY) == [desk_north.stranger.id, desk_north.reply.id]
    assert _ids(found, WorkKind.REBOOK_REQUEST) == [desk_north.rebook.id]
    assert _ids(found, WorkKind.CANCELLATION) == [desk_north.cancellation.id]
    assert _ids(found, WorkKind.OPT_OUT) == [desk_north.opt_out.id]
    assert _ids(found, WorkKind.FAILED_MESSAGE) == [desk_north.failure.id]
    assert found.totals == {
        WorkKind.FLAGGED_REPLY: 2,
        WorkKind.REBOOK_REQUEST: 1,
        WorkKind.CANCELLATION: 1,
        WorkKind.OPT_OUT: 1,
        WorkKind.FAILED_MESSAGE: 1,
    }
    assert found.total == 6
    [clinic] = found.clinics
    assert (clinic.name, clinic.total) == ("North", 6)


def test_what_an_item_carries(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north = world.clinic("north")
    made = cases.every_kind(world, clock, north, "P1")
    found = worklist(_scope(desk, Role.RECEPTIONIST, "north"), clock.now())
    stranger, reply = found.items[WorkKind.FLAGGED_REPLY]
    assert (stranger.patient_id, stranger.phone, stranger.reason) == (
        None,
        made.stranger.from_number,
        "unknown_sender",
    )
    assert (reply.patient_id, reply.name, reply.text) == (
        made.patient.id,
        "Ada Lovelace-P1",
        "what time is it again P1",
    )
    [failure] = found.items[WorkKind.FAILED_MESSAGE]
    assert (failure.error_code, failure.message_kind, failure.channel) == (21614, "reminder", "sms")
    [cancellation] = found.items[WorkKind.CANCELLATION]
    assert cancellation.starts_at == made.cancellation.starts_at
    [opt_out] = found.items[WorkKind.OPT_OUT]
    assert (opt_out.channel, opt_out.reason) == ("all", "reply")
    assert found.disclosed() == {
        north.organisation_id: sorted({made.patient.id, opt_out.patient_id})
    }
    assert found.unknown_numbers() == {north.organisation_id: 1}


@pytest.mark.parametrize("kind", list(WorkKind))
def test_an_item_leaves_the_open_list_once_handled(
    world: World, clock: FixedClock, desk: StaffDesk, kind: WorkKind
) -> None:
    north = world.clinic("north")
    made = cases.every_kind(world, clock, north, "P1")
    record = {
        WorkKind.FLAGGED_REPLY: made.reply.id,
        WorkKind.REBOOK_REQUEST: made.rebook.id,
        WorkKind.CANCELLATION: made.cancellation.id,
        WorkKind.OPT_OUT: made.opt_out.id,
        WorkKind.FAILED_MESSAGE: made.failure.id,
    }[kind]
    member = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    scope = scope_for(member.user_id)
    before = worklist(scope, clock.now()).totals[kind]
    service.mark_handled(kind, record, "Called them", actor=Actor(member.user_id), clock=clock)
    after = worklist(scope, clock.now())
    assert record not in _ids(after, kind)
    assert after.totals[kind] == before - 1
    handled = worklist(scope, clock.now(), handled=True)
    [item] = handled.items[kind]
    assert item.record_id == record
    assert item.handling is not None
    assert (item.handling.by, item.handling.note, item.handling.at) == (
        "Rita Patel",
        "Called them",
        clock.now(),
    )
    others = [k for k in WorkKind if k is not kind]
    assert all(handled.items[k] == [] for k in others)


@pytest.mark.parametrize(
    ("starts_in", "listed"),
    [
        (timedelta(hours=-1), False),  # already over
        (timedelta(0), False),  # starting now: too late to refill
        (timedelta(seconds=1), True),
        (timedelta(hours=72), True),  # the window's last instant
        (timedelta(hours=72, seconds=1), False),  # not yet urgent
    ],
)
def test_cancelled_slots_within_72_hours(
    world: World, clock: FixedClock, desk: StaffDesk, starts_in: timedelta, listed: bool
) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    slot = cases.cancelled(world, patient, clock.now() + starts_in, clock.now() - timedelta(days=1))
    found = worklist(_scope(desk, Role.RECEPTIONIST, "north"), clock.now())
    assert _ids(found, WorkKind.CANCELLATION) == ([slot.id] if listed else [])
    assert found.totals[WorkKind.CANCELLATION] == int(listed)


def test_the_window_moves_with_the_clock(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    slot = cases.cancelled(world, patient, clock.now() + timedelta(hours=80), clock.now())
    scope = _scope(desk, Role.RECEPTIONIST, "north")
    assert _ids(worklist(scope, clock.now()), WorkKind.CANCELLATION) == []
    clock.advance(timedelta(hours=8))
    assert _ids(worklist(scope, clock.now()), WorkKind.CANCELLATION) == [slot.id]
    clock.advance(timedelta(hours=72))
    assert _ids(worklist(scope, clock.now()), WorkKind.CANCELLATION) == []


def test_only_what_still_needs_a_person_is_listed(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    now = clock.now()
    soon = now + timedelta(days=1)
    # Cancelled by the clinic: no slot to refill. Rebook asked, then cancelled: a slot
    # to refill, no longer a rebook request.
    world.add(patient, soon, AppointmentStatus.CANCELLED_CLINIC)
    slot = world.add(patient, soon, AppointmentStatus.CANCELLED_PATIENT, rebook_requested_at=now)
    rebook = cases.rebook_request(world, patient, soon, now)
    # Understood replies, and one sent to a number no clinic has.
    understood = cases.flagged_reply(north, patient, now)
    understood.state = InboundState.PROCESSED
    db.session.add(
        InboundMessage(
            provider_sid="SM" + "4" * 32,
            clinic_id=None,
            from_number=patient.phone,
            to_number="+447400000000",
            body="hello",
            state=InboundState.FLAGGED,
            flag_reason="unknown_clinic",
            received_at=now,
        )
    )
    # Delivered, suppressed, and a failure a copy on another channel made good.
    cases.failed_message(patient, now, state=MessageState.DELIVERED, error_code=None)
    cases.failed_message(patient, now, state=MessageState.SUPPRESSED, error_code=None)
    landline = cases.failed_message(patient, now, error_code=30006)
    copy = cases.failed_message(patient, now, state=MessageState.DELIVERED, channel="voice")
    copy.fallback_for_id = landline.id
    undelivered = cases.failed_message(
        patient, now, state=MessageState.UNDELIVERED, error_code=None, channel="voice"
    )
    # An opt-out made by staff for the patient needs no one else.
    cases.opt_out(patient, now, source="staff:1")
    db.session.commit()
    found = worklist(_scope(desk, Role.RECEPTIONIST, "north"), now)
    assert _ids(found, WorkKind.CANCELLATION) == [slot.id]
    assert _ids(found, WorkKind.REBOOK_REQUEST) == [rebook.id]
    assert _ids(found, WorkKind.FLAGGED_REPLY) == []
    assert _ids(found, WorkKind.FAILED_MESSAGE) == [undelivered.id]
    assert _ids(found, WorkKind.OPT_OUT) == []


def test_clinics_and_organisations_see_only_their_own(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    east = world.clinic("east", org="other")
    made = {c.slug: cases.every_kind(world, clock, c, c.slug.upper()) for c in (north, south, east)}
    now = clock.now()
    for clinic, scope in (
        ("north", _scope(desk, Role.RECEPTIONIST, "north")),
        ("south", _scope(desk, Role.CLINICIAN, "south")),
        ("east", _scope(desk, Role.RECEPTIONIST, org="other")),
    ):
        found = worklist(scope, now)
        assert [c.name for c in found.clinics] == [clinic.title()]
        assert found.total == 6
        assert {i.clinic_id for i in found.all_items()} == {world.clinics[clinic].id}
        assert _ids(found, WorkKind.FAILED_MESSAGE) == [made[clinic].failure.id]
    # The whole organisation: two clinics, counted apart, and narrowed by a filter.
    trust = worklist(_scope(desk, Role.CLINIC_MANAGER), now)
    assert [(c.name, c.total) for c in trust.clinics] == [("North", 6), ("South", 6)]
    assert trust.totals[WorkKind.FLAGGED_REPLY] == 4
    narrowed = worklist(_scope(desk, Role.ADMIN), now, clinic_id=south.id, kind=WorkKind.OPT_OUT)
    assert narrowed.kinds == (WorkKind.OPT_OUT,)
    assert _ids(narrowed, WorkKind.OPT_OUT) == [made["south"].opt_out.id]
    assert narrowed.matching == {WorkKind.OPT_OUT: 1}
    # A clinic outside the scope is no filter at all: nothing is read from it.
    outside = worklist(_scope(desk, Role.RECEPTIONIST, "north"), now, clinic_id=east.id)
    assert list(outside.all_items()) == []
    # Roles without the worklist read nothing.
    for role in (Role.ANALYST, Role.AUDITOR, Role.EXPERIENCE_LEAD):
        found = worklist(_scope(desk, role), now)
        assert (found.total, found.clinics, list(found.all_items())) == (0, [], [])


def test_personal_data_only_where_the_scope_shows_it(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    cases.every_kind(world, clock, north, "P1")
    reach = Reach(frozenset({north.organisation_id}), frozenset({north.id}))
    plain = StaffScope(user_id=1, roles=frozenset(), reach={Permission.VIEW_WORKLIST: reach})
    found = worklist(plain, clock.now())
    assert found.total == 6
    for item in found.all_items():
        assert (item.name, item.phone, item.text) == (None, None, None)
    assert found.disclosed() == {}
    assert found.unknown_numbers() == {}
    names_only = StaffScope(
        user_id=1,
        roles=frozenset(),
        reach={Permission.VIEW_WORKLIST: reach, Permission.SEE_NAMES: reach},
    )
    reply = worklist(names_only, clock.now()).items[WorkKind.FLAGGED_REPLY][1]
    assert (reply.name, reply.phone, reply.text) == ("Ada Lovelace-P1", None, None)


def test_finding_one_item(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north = world.clinic("north")
    world.clinic("south")
    made = cases.every_kind(world, clock, north, "P1")
    scope = _scope(desk, Role.RECEPTIONIST, "north")
    handle = Permission.HANDLE_WORKLIST
    found = find_item(scope, WorkKind.FLAGGED_REPLY, made.reply.id, handle)
    assert found is not None
    assert found.patient_id == made.patient.id
    # The wrong kind for the record, another clinic's staff, a role that cannot handle.
    assert find_item(scope, WorkKind.OPT_OUT, made.reply.id, handle) is None
    assert find_item(scope, WorkKind.CANCELLATION, made.rebook.id, handle) is None
    south_scope = _scope(desk, Role.RECEPTIONIST, "south")
    assert find_item(south_scope, WorkKind.FLAGGED_REPLY, made.reply.id, handle) is None
    clinician = _scope(desk, Role.CLINICIAN, "north")
    assert find_item(clinician, WorkKind.FLAGGED_REPLY, made.reply.id, handle) is None


def test_finding_patients(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    east = world.clinic("east", org="other")
    ann = world.patient(north, "N-1", given_name="Mary Ann", family_name="Jones-Smith")
    world.patient(north, "N-2", given_name="Joanne", family_name="Brown")
    other = world.patient(south, "S-1", given_name="Ann", family_name="Smith")
    world.patient(east, "E-1", given_name="Ann", family_name="Smith")
    north_desk = _scope(desk, Role.RECEPTIONIST, "north")
    trust = _scope(desk, Role.CLINIC_MANAGER)

    def ids(scope: StaffScope, typed: str) -> list[int]:
        return [row.id for row in find_patients(scope, read_terms(typed)).patients]

    assert ids(north_desk, "ann") == [ann.id]  # "Joanne" does not start a name part
    assert ids(north_desk, "SMITH") == [ann.id]
    assert ids(north_desk, "ann smi") == [ann.id]
    assert ids(north_desk, "n-1") == [ann.id]
    assert ids(north_desk, "0" + ann.phone[3:]) == [ann.id]
    assert ids(north_desk, other.phone) == []
    assert ids(trust, "ann smith") == [ann.id, other.id]
    assert ids(trust, "nobody") == []
    row = find_patients(trust, read_terms("S-1")).patients[0]
    assert (row.clinic_name, row.name, row.phone) == ("South", "Ann Smith", other.phone)
    for role in (Role.ANALYST, Role.AUDITOR, Role.EXPERIENCE_LEAD):
        assert ids(_scope(desk, role), "ann") == []


def test_a_search_never_confirms_what_it_could_not_show(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "N-1", given_name="Ann", family_name="Smith")
    reach = Reach(frozenset({north.organisation_id}), frozenset({north.id}))
    blind = StaffScope(user_id=1, roles=frozenset(), reach={Permission.VIEW_PATIENTS: reach})
    assert find_patients(blind, read_terms("Ann")).patients == []
    assert find_patients(blind, read_terms(patient.phone)).patients == []
    [row] = find_patients(blind, read_terms("N-1")).patients
    assert (row.name, row.phone) == (None, None)
    assert Disclosure.of(blind) == Disclosure()


def test_a_long_list_is_cut_and_says_so(world: World, clock: FixedClock, desk: StaffDesk) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    for minute in range(3):
        cases.flagged_reply(north, patient, clock.now() - timedelta(minutes=minute))
    scope = _scope(desk, Role.RECEPTIONIST, "north")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("app.casework.queries.SHOWN_PER_KIND", 2)
        found = worklist(scope, clock.now())
    assert len(found.items[WorkKind.FLAGGED_REPLY]) == 2
    assert found.matching[WorkKind.FLAGGED_REPLY] == 3
