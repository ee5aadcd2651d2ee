"""The subscriptions API: subscribe with the `events:read` scope (the secret once), list
without secrets, revoke; a refused address names the field; every change audited."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.tokens import Scope, create_token
from app.core.clock import FixedClock
from app.events.models import Subscription
from app.extensions import db
from tests.world import World

PATH = "/api/v1/clinics/north/subscriptions"
HOOK = "https://pas.example.nhs.uk/hooks/wesaid"


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    return world.clinic("north")


def _headers(clinic: Clinic, clock: FixedClock, *scopes: Scope) -> dict[str, str]:
    issued = create_token(
        label="pas", clinic_id=clinic.id, clock=clock, scopes=[s.value for s in scopes]
    )
    return {"Authorization": f"Bearer {issued.secret}"}


def test_subscribe_list_and_revoke(client: Any, north: Clinic, clock: FixedClock) -> None:
    headers = _headers(north, clock, Scope.EVENTS_READ)
    body = {"url": HOOK, "events": ["appointment.cancelled_by_patient"], "description": "PAS"}
    made = client.post(PATH, json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    created = made.get_json()
    stored = db.session.get(Subscription, created["id"])
    assert stored is not None
    assert created["secret"] == stored.secret
    assert created["events"] == ["appointment.cancelled_by_patient"]

    listed = client.get(PATH, headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    assert listed["next_cursor"] is None

    gone = client.delete(f"{PATH}/{created['id']}", headers=headers)
    assert gone.status_code == 204
    again = client.delete(f"{PATH}/{created['id']}", headers=headers)
    assert again.status_code == 204
    assert client.delete(f"{PATH}/999", headers=headers).status_code == 404
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.MANAGE_EVENTS)
    )
    assert [(e.detail["what"], e.actor_token_id is not None) for e in audited] == [
        ("subscribe", True),
        ("revoke", True),
    ]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"url": "http://pas.example.nhs.uk/x", "events": ["patient.opted_out"]}, 422, "url"),
        ({"url": "https://10.0.0.1/x", "events": ["patient.opted_out"]}, 422, "url"),
        ({"url": HOOK, "events": []}, 422, "events"),
        ({"url": HOOK, "events": ["appointment.eaten"]}, 422, "events"),
        ({"url": HOOK, "events": ["patient.opted_out"], "secret": "mine"}, 422, "secret"),
    ],
)
def test_a_refused_subscription_names_the_field(
    client: Any, north: Clinic, clock: FixedClock, body: dict[str, Any], status: int, field: str
) -> None:
    answer = client.post(PATH, json=body, headers=_headers(north, clock, Scope.EVENTS_READ))
    assert answer.status_code in (400, status), answer.get_json()
    problem = answer.get_json()
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem
    assert db.session.scalar(select(Subscription.id)) is None


def test_without_the_scope_nothing_changes(client: Any, north: Clinic, clock: FixedClock) -> None:
    headers = _headers(north, clock, Scope.PATIENTS_WRITE)
    body = {"url": HOOK, "events": ["patient.opted_out"]}
    assert client.post(PATH, json=body, headers=headers).status_code == 403
    assert client.get(PATH, headers=headers).status_code == 403
    assert db.session.scalar(select(Subscription.id)) is None
