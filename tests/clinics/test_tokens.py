"""API tokens: scopes, expiry, revocation, organisation tokens, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import ApiToken
from app.clinics.tokens import ALL_SCOPES, Scope, create_token, find_caller, revoke_token
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.extensions import db
from tests.world import World


@pytest.fixture
def clinics(app: Flask, world: World) -> World:
    world.clinic("north", org="trust")
    world.clinic("south", org="trust")
    world.clinic("east", org="other")
    return world


def test_a_token_is_stored_hashed_and_has_every_scope_by_default(
    clinics: World, clock: FixedClock
) -> None:
    issued = create_token(label="PAS", clinic_id=clinics.clinics["north"].id, clock=clock)
    row = db.session.get(ApiToken, issued.id)
    assert row is not None
    assert issued.secret not in row.token_hash
    assert set(row.scopes) == {s.value for s in ALL_SCOPES}
    caller = find_caller("north", issued.secret, clock.now())
    assert caller is not None
    assert caller.clinic.slug == "north"
    assert find_caller("south", issued.secret, clock.now()) is None


def test_scopes_are_kept_and_unknown_ones_refused(clinics: World, clock: FixedClock) -> None:
    north = clinics.clinics["north"].id
    issued = create_token(label="x", clinic_id=north, clock=clock, scopes=["results:read"])
    caller = find_caller("north", issued.secret, clock.now())
    assert caller is not None
    assert caller.may(Scope.RESULTS_READ)
    assert not caller.may(Scope.PATIENTS_WRITE)
    with pytest.raises(Invalid, match="unknown scope"):
        create_token(label="x", clinic_id=north, clock=clock, scopes=["patients:delete"])


def test_an_organisation_token_covers_its_clinics_only(clinics: World, clock: FixedClock) -> None:
    org_id = clinics.clinics["north"].organisation_id
    issued = create_token(label="trust-wide", organisation_id=org_id, clock=clock)
    assert find_caller("north", issued.secret, clock.now()) is not None
    assert find_caller("south", issued.secret, clock.now()) is not None
    assert find_caller("east", issued.secret, clock.now()) is None


def test_expired_and_revoked_tokens_authenticate_nothing(clinics: World, clock: FixedClock) -> None:
    north = clinics.clinics["north"].id
    with pytest.raises(Invalid, match="past"):
        create_token(label="x", clinic_id=north, clock=clock, expires_at=clock.now())
    expiring = create_token(
        label="x", clinic_id=north, clock=clock, expires_at=clock.now() + timedelta(days=1)
    )
    assert find_caller("north", expiring.secret, clock.now()) is not None
    assert find_caller("north", expiring.secret, clock.now() + timedelta(days=1)) is None
    revoked = create_token(label="y", clinic_id=north, clock=clock)
    revoke_token(revoked.id, clock)
    revoke_token(revoked.id, clock)  # again: nothing changes
    assert find_caller("north", revoked.secret, clock.now()) is None
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count(AuditAction.CREATE_TOKEN) == 2
    assert actions.count(AuditAction.REVOKE_TOKEN) == 1


def test_a_token_is_for_one_clinic_or_one_organisation(clinics: World, clock: FixedClock) -> None:
    north = clinics.clinics["north"]
    with pytest.raises(Invalid):
        create_token(label="x", clock=clock)
    with pytest.raises(Invalid):
        create_token(
            label="x", clinic_id=north.id, organisation_id=north.organisation_id, clock=clock
        )
    with pytest.raises(Invalid):
        create_token(label=" ", clinic_id=north.id, clock=clock)
