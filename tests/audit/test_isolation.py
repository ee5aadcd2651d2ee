"""Searching the audit log keeps to the searcher's organisations: their own events,
their clinics' events, and sign-ins of their own staff; never another organisation's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.audit.models import AuditAction
from app.audit.queries import AuditSearch, all_events, count_events, search_page
from app.audit.service import Actor, record
from app.clinics import accounts
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from app.privacy import queries
from tests.world import World

NOBODY = Actor()


@dataclass
class Trusts:
    trust: int
    elsewhere: int
    north: int
    east: int
    south: int
    ours: int  # a receptionist of the trust
    theirs: int  # a receptionist elsewhere
    both: int  # staff of both organisations


def _member(email: str, org: str, role: Role, clock: FixedClock) -> int:
    return accounts.invite(email, org, role, (), clock, NOBODY).user_id


@pytest.fixture
def trusts(app: Flask, world: World, clock: FixedClock) -> Trusts:
    north = world.clinic("north", org="trust")
    east = world.clinic("east", org="trust")
    south = world.clinic("south", org="elsewhere")
    both = _member("both@example.nhs.uk", "trust", Role.ANALYST, clock)
    accounts.invite("both@example.nhs.uk", "elsewhere", Role.ANALYST, (), clock, NOBODY)
    # The invitations and grants are events too: the tests look at their own only.
    return Trusts(
        trust=north.organisation_id,
        elsewhere=south.organisation_id,
        north=north.id,
        east=east.id,
        south=south.id,
        ours=_member("ours@example.nhs.uk", "trust", Role.RECEPTIONIST, clock),
        theirs=_member("theirs@example.nhs.uk", "elsewhere", Role.RECEPTIONIST, clock),
        both=both,
    )


def _event(
    name: str,
    clock: FixedClock,
    action: AuditAction = AuditAction.VIEW_PATIENT,
    actor: dict[str, int] | None = None,
    **where: Any,
) -> None:
    clock.advance(timedelta(seconds=1))
    record(action, Actor(**(actor or {})), clock.now(), detail={"name": name}, **where)


def _seen(search: AuditSearch) -> set[str]:
    return {str(e.detail.get("name")) for e in all_events(search) if "name" in e.detail}


def _search_for(
    t: Trusts, organisations: list[int], clinics: list[int] | None = None
) -> AuditSearch:
    return AuditSearch(
        organisation_ids=organisations,
        clinic_ids=queries.clinic_ids_of(organisations) if clinics is None else clinics,
        member_ids=[m.id for m in queries.members_of(organisations)],
    )


@pytest.fixture
def logged(trusts: Trusts, clock: FixedClock) -> Trusts:
    t = trusts
    patient = {"record_type": "patient", "record_ids": [7]}
    _event("our clinic", clock, clinic_id=t.north, organisation_id=t.trust, **patient)
    _event("our other clinic", clock, clinic_id=t.east, organisation_id=t.trust, **patient)
    _event("our clinic, no organisation", clock, clinic_id=t.north, **patient)
    _event("our organisation", clock, AuditAction.GRANT_ROLE, organisation_id=t.trust)
    _event("their clinic", clock, clinic_id=t.south, organisation_id=t.elsewhere, **patient)
    _event("their clinic, no organisation", clock, clinic_id=t.south, **patient)
    _event("their organisation", clock, AuditAction.GRANT_ROLE, organisation_id=t.elsewhere)
    _event(
        "their organisation, by our staff",
        clock,
        AuditAction.EXPORT,
        organisation_id=t.elsewhere,
        actor={"user_id": t.both},
    )
    staff = {"record_type": "staff_user"}
    _event(
        "our sign-in",
        clock,
        AuditAction.SIGN_IN,
        actor={"user_id": t.ours},
        record_ids=[t.ours],
        **staff,
    )
    _event(
        "their sign-in",
        clock,
        AuditAction.SIGN_IN,
        actor={"user_id": t.theirs},
        record_ids=[t.theirs],
        **staff,
    )
    _event(
        "shared sign-in",
        clock,
        AuditAction.SIGN_IN,
        actor={"user_id": t.both},
        record_ids=[t.both],
        **staff,
    )
    _event("our failed sign-in", clock, AuditAction.SIGN_IN_FAILED, record_ids=[t.ours], **staff)
    _event(
        "their failed sign-in", clock, AuditAction.SIGN_IN_FAILED, record_ids=[t.theirs], **staff
    )
    _event("unknown email", clock, AuditAction.SIGN_IN_FAILED, **staff)
    _event("the system", clock, AuditAction.RETENTION_PURGE)
    db.session.commit()
    return t


OURS = {
    "our clinic",
    "our other clinic",
    "our clinic, no organisation",
    "our organisation",
    "our sign-in",
    "shared sign-in",
    "our failed sign-in",
}
THEIRS = {
    "their clinic",
    "their clinic, no organisation",
    "their organisation",
    "their organisation, by our staff",
    "their sign-in",
    "shared sign-in",
    "their failed sign-in",
}


@pytest.mark.storage
def test_each_organisation_sees_its_own_events(logged: Trusts) -> None:
    assert _seen(_search_for(logged, [logged.trust])) == OURS
    assert _seen(_search_for(logged, [logged.elsewhere])) == THEIRS
    assert _seen(_search_for(logged, [logged.trust, logged.elsewhere])) == OURS | THEIRS


def test_staff_of_one_clinic_see_its_events_and_the_organisations(logged: Trusts) -> None:
    seen = _seen(_search_for(logged, [logged.trust], clinics=[logged.north]))
    assert seen == OURS - {"our other clinic"}


def test_no_organisation_sees_nothing_but_an_operator_sees_all(logged: Trusts) -> None:
    assert _seen(AuditSearch(organisation_ids=[])) == set()
    everything = _seen(AuditSearch())
    assert OURS | THEIRS | {"unknown email", "the system"} == everything


def test_filters_narrow_within_what_may_be_seen(logged: Trusts, clock: FixedClock) -> None:
    ours = _search_for(logged, [logged.trust])
    by_user = AuditSearch(**{**ours.__dict__, "user_id": logged.theirs})
    assert _seen(by_user) == set()
    by_action = AuditSearch(**{**ours.__dict__, "action": AuditAction.SIGN_IN})
    assert _seen(by_action) == {"our sign-in", "shared sign-in"}
    by_type = AuditSearch(**{**ours.__dict__, "record_type": "patient", "record_id": 7})
    assert _seen(by_type) == {"our clinic", "our other clinic", "our clinic, no organisation"}
    assert count_events(by_type) == 3


@pytest.mark.storage
def test_record_ids_dates_and_pages(app: Flask, clock: FixedClock) -> None:
    start = clock.now()
    for index in range(7):
        clock.advance(timedelta(minutes=1))
        record(
            AuditAction.VIEW_PATIENT,
            NOBODY,
            clock.now(),
            record_type="patient",
            record_ids=[index, 100 + index % 2],
            detail={"index": index},
        )
    db.session.commit()
    every = AuditSearch()
    first, second = search_page(every, 0, size=3), search_page(every, 1, size=3)
    last = search_page(every, 2, size=3)
    assert [e.detail["index"] for e in first.events] == [6, 5, 4]
    assert [e.detail["index"] for e in second.events] == [3, 2, 1]
    assert [e.detail["index"] for e in last.events] == [0]
    assert (first.has_next, second.has_next, last.has_next) == (True, True, False)
    odd = AuditSearch(record_id=101)
    assert [e.detail["index"] for e in all_events(odd)] == [5, 3, 1]
    assert count_events(AuditSearch(record_id=999)) == 0
    window = AuditSearch(since=start + timedelta(minutes=2), until=start + timedelta(minutes=4))
    assert [e.detail["index"] for e in all_events(window)] == [2, 1]
