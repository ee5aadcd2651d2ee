"""The API through scoped tokens: 401 without a live token, 403 without the scope, and
every change in the audit log with the token that made it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.tokens import create_token, revoke_token
from app.core.clock import FixedClock
from app.extensions import db
from tests.world import World

ROWS = {"patients": [{"external_id": "p1", "phone": "+447400123456", "locale": "en"}]}


@pytest.fixture
def north(app: Flask, world: World) -> int:
    world.clinic("south", org="other")
    return world.clinic("north").id


def _post(client: Any, secret: str, slug: str = "north") -> Any:
    return client.post(
        f"/api/v1/clinics/{slug}/patients",
        json=ROWS,
        headers={"Authorization": f"Bearer {secret}"},
    )


def test_a_token_without_the_scope_is_refused_with_403(
    client: Any, north: int, clock: FixedClock
) -> None:
    reader = create_token(label="r", clinic_id=north, clock=clock, scopes=["results:read"])
    answer = _post(client, reader.secret)
    assert answer.status_code == 403
    assert answer.json["detail"] == "this token does not have the scope 'patients:write'"
    assert answer.content_type == "application/problem+json"


def test_an_expired_or_revoked_token_is_401(client: Any, north: int, clock: FixedClock) -> None:
    expiring = create_token(
        label="e", clinic_id=north, clock=clock, expires_at=clock.now() + timedelta(hours=1)
    )
    assert _post(client, expiring.secret).status_code == 200
    clock.advance(timedelta(hours=1))
    assert _post(client, expiring.secret).status_code == 401
    revoked = create_token(label="r", clinic_id=north, clock=clock)
    revoke_token(revoked.id, clock)
    assert _post(client, revoked.secret).status_code == 401


def test_an_organisation_token_writes_to_its_clinics_and_not_others(
    client: Any, north: int, clock: FixedClock, world: World
) -> None:
    org = world.clinics["north"].organisation_id
    issued = create_token(label="trust", organisation_id=org, clock=clock)
    assert _post(client, issued.secret).status_code == 200
    assert _post(client, issued.secret, slug="south").status_code == 401


def test_each_api_change_names_its_token_in_the_audit_log(
    client: Any, north: int, clock: FixedClock
) -> None:
    issued = create_token(label="PAS", clinic_id=north, clock=clock)
    assert _post(client, issued.secret).status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.API_CHANGE))
    assert event is not None
    assert event.actor_token_id == issued.id
    assert event.actor_user_id is None
    assert event.clinic_id == north
    assert event.detail["what"] == "patients"
    assert event.detail["created"] == 1
    assert "+447400123456" not in str(event.detail)
    assert "p1" not in str(event.detail)
