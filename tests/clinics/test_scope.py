"""The staff query scope: the one place clinic isolation is decided."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.service import SYSTEM
from app.clinics import accounts
from app.clinics.models import StaffGrant
from app.clinics.roles import PERMISSIONS, Permission, Role
from app.clinics.scope import NOBODY, Forbidden, StaffScope, scope_for
from app.core.clock import FixedClock
from app.core.errors import NotFound
from app.extensions import db
from app.patients.models import Patient
from tests.world import World


@pytest.fixture
def clinics(app: Flask, world: World) -> World:
    world.clinic("north", org="trust")
    world.clinic("south", org="trust")
    world.clinic("east", org="other")
    for slug in ("north", "south", "east"):
        world.patient(world.clinics[slug], f"{slug}-1")
    return world


def _scope(
    clock: FixedClock, role: Role, org: str = "trust", clinics: tuple[str, ...] = ()
) -> StaffScope:
    invitation = accounts.invite(f"{role}@x.nhs.uk", org, role, clinics, clock, SYSTEM)
    return scope_for(invitation.user_id)


def _visible(scope: StaffScope, permission: Permission) -> set[str]:
    query = scope.restrict(select(Patient), Patient.clinic_id, permission)
    return {p.external_id for p in db.session.scalars(query)}


def test_a_role_limited_to_a_clinic_sees_that_clinic_only(
    clinics: World, clock: FixedClock
) -> None:
    scope = _scope(clock, Role.RECEPTIONIST, clinics=("north",))
    assert _visible(scope, Permission.VIEW_PATIENTS) == {"north-1"}
    south = clinics.clinics["south"]
    patient = clinics.patient(south, "south-2")
    with pytest.raises(NotFound):
        scope.get(Patient, patient.id, Permission.VIEW_PATIENTS)


def test_a_role_of_an_organisation_sees_its_clinics_and_no_others(
    clinics: World, clock: FixedClock
) -> None:
    scope = _scope(clock, Role.CLINIC_MANAGER)
    assert _visible(scope, Permission.VIEW_PATIENTS) == {"north-1", "south-1"}
    assert [c.slug for c in scope.clinics(Permission.VIEW_PATIENTS)] == ["north", "south"]


def test_a_permission_the_role_lacks_reaches_nothing(clinics: World, clock: FixedClock) -> None:
    scope = _scope(clock, Role.ANALYST)
    assert not scope.may(Permission.SEE_PHONES)
    assert _visible(scope, Permission.VIEW_PATIENTS) == set()
    with pytest.raises(Forbidden):
        scope.require(Permission.VIEW_PATIENTS)
    assert _visible(NOBODY, Permission.VIEW_PATIENTS) == set()


def test_least_privilege_in_the_role_table() -> None:
    personal = {Permission.SEE_NAMES, Permission.SEE_PHONES, Permission.SEE_MESSAGES}
    assert not PERMISSIONS[Role.ANALYST] & (personal | {Permission.SEE_ANSWERS})
    assert Permission.SEE_PHONES not in PERMISSIONS[Role.EXPERIENCE_LEAD]
    assert Permission.SEE_NAMES not in PERMISSIONS[Role.EXPERIENCE_LEAD]
    assert PERMISSIONS[Role.AUDITOR] == {Permission.VIEW_AUDIT}
    assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    for role in Role:
        if role is not Role.ADMIN:
            assert Permission.MANAGE_USERS not in PERMISSIONS[role]
            assert Permission.ERASE_PATIENTS not in PERMISSIONS[role]


def test_a_role_taken_away_is_gone_from_the_next_scope(clinics: World, clock: FixedClock) -> None:
    invitation = accounts.invite("r@x.nhs.uk", "trust", Role.RECEPTIONIST, [], clock, SYSTEM)
    assert scope_for(invitation.user_id).may(Permission.VIEW_WORKLIST)
    grant = db.session.scalar(select(StaffGrant))
    accounts.revoke_grant(grant.id, clock, SYSTEM)
    assert not scope_for(invitation.user_id).may(Permission.VIEW_WORKLIST)
