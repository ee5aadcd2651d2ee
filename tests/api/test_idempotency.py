"""Idempotency-Key on the API's POSTs: a retry answers as the first did and writes
nothing again; a reused key with another body is refused; identical requests at once
write once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.audit.models import AuditAction, AuditEvent
from app.clinics.idempotency import Claim, Claimed, claim, purge_expired, release
from app.clinics.models import ApiToken, IdempotentRequest
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.patients.models import Patient
from tests.world import World

PATIENTS = "/api/v1/clinics/north/patients"
APPOINTMENTS = "/api/v1/clinics/north/appointments"
P1 = {"external_id": "P1", "phone": "+447400123456", "locale": "pl"}
A1 = {"external_id": "A1", "patient_external_id": "P1", "starts_at": "2026-03-20T10:00"}


@pytest.fixture
def tokens(world: World, clock: FixedClock) -> dict[str, str]:
    north = world.clinic("north")
    return {
        name: create_token(label=name, clinic_id=north.id, clock=clock).secret
        for name in ("first", "second")
    }


def _post(client: Any, url: str, body: object, token: str, key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, data=json.dumps(body), headers=headers, content_type="application/json")


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _changes() -> int:
    return _count(AuditEvent, AuditEvent.action == AuditAction.API_CHANGE)


def test_a_retry_answers_as_the_first_and_writes_nothing(
    client: Any, tokens: dict[str, str]
) -> None:
    assert _post(client, PATIENTS, {"patients": [P1]}, tokens["first"], None).status_code == 200
    first = _post(client, APPOINTMENTS, {"appointments": [A1]}, tokens["first"], "k-1")
    assert (first.status_code, first.get_json()["created"]) == (200, 1)
    reminders, changes = _count(OutboundMessage), _changes()
    # The same request, its keys in another order and spaced differently: the same body.
    retry = client.post(
        APPOINTMENTS,
        data=json.dumps({"appointments": [dict(reversed(A1.items()))]}, indent=2),
        headers={"Authorization": f"Bearer {tokens['first']}", "Idempotency-Key": "k-1"},
        content_type="application/json",
    )
    assert retry.status_code == 200
    assert retry.get_json() == first.get_json()  # "created": 1, not "unchanged": 1
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (_count(Appointment), _count(OutboundMessage), _changes()) == (1, reminders, changes)


def test_a_refusal_is_replayed_too(client: Any, tokens: dict[str, str]) -> None:
    bad = {**P1, "phone": "09098790000"}
    first = _post(client, PATIENTS, {"patients": [bad]}, tokens["first"], "k-2")
    again = _post(client, PATIENTS, {"patients": [bad]}, tokens["first"], "k-2")
    assert first.status_code == again.status_code == 422
    assert again.get_json() == first.get_json()
    assert again.mimetype == "application/problem+json"


def test_the_same_key_with_another_body_is_refused(client: Any, tokens: dict[str, str]) -> None:
    assert _post(client, PATIENTS, {"patients": [P1]}, tokens["first"], "k-3").status_code == 200
    other = {**P1, "external_id": "P2", "phone": "+447400123457"}
    refused = _post(client, PATIENTS, {"patients": [other]}, tokens["first"], "k-3")
    assert refused.status_code == 422
    assert refused.get_json()["type"] == "/api/v1/problems/idempotency-key-reused"
    assert _count(Patient) == 1
    # The key is the token's own: another token may use it for its own request.
    theirs = _post(client, PATIENTS, {"patients": [other]}, tokens["second"], "k-3")
    assert (theirs.status_code, _count(Patient)) == (200, 2)
    # And on another route it is another request.
    moved = _post(client, APPOINTMENTS, {"appointments": []}, tokens["first"], "k-3")
    assert moved.status_code == 422


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "naïve"])
def test_a_malformed_key_is_refused(client: Any, tokens: dict[str, str], key: str) -> None:
    response = client.post(
        PATIENTS,
        data=json.dumps({"patients": [P1]}),
        headers={"Authorization": f"Bearer {tokens['first']}", "Idempotency-Key": key},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count(Patient) == 0


def test_keys_are_kept_for_a_day(client: Any, tokens: dict[str, str], clock: FixedClock) -> None:
    assert _post(client, PATIENTS, {"patients": [P1]}, tokens["first"], "k-4").status_code == 200
    clock.advance(timedelta(hours=23))
    again = _post(client, PATIENTS, {"patients": [P1]}, tokens["first"], "k-4")
    assert again.get_json()["created"] == 1  # replayed
    clock.advance(timedelta(hours=2))
    later = _post(client, PATIENTS, {"patients": [P1]}, tokens["first"], "k-4")
    assert (later.get_json()["created"], later.get_json()["unchanged"]) == (0, 1)  # ran again
    clock.advance(timedelta(hours=25))
    assert purge_expired(clock.now()) == 1
    assert _count(IdempotentRequest) == 0


def test_identical_requests_at_once_write_once(app: Flask, tokens: dict[str, str]) -> None:
    body = {"patients": [P1, {**P1, "external_id": "P2", "phone": "+447400123457"}]}
    start = threading.Barrier(4)
    answers: list[Any] = []

    def send() -> None:
        client = app.test_client()
        start.wait()
        answers.append(_post(client, PATIENTS, body, tokens["first"], "k-5"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers)
    ran = [a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a.headers]
    assert len(ran) == 1, statuses
    assert set(statuses) <= {200, 409}
    assert all(a.headers.get("Retry-After") == "1" for a in answers if a.status_code == 409)
    assert ran[0].get_json()["created"] == 2
    assert (_count(Patient), _changes()) == (2, 1)


def test_a_claim_left_unanswered_is_taken_over_once(
    tokens: dict[str, str], clock: FixedClock
) -> None:
    token_id = db.session.scalars(select(ApiToken.id).order_by(ApiToken.id)).first()
    assert token_id is not None
    first = claim(token_id, "k-6", "f" * 64, clock.now())
    assert first.outcome is Claim.CLAIMED
    assert claim(token_id, "k-6", "f" * 64, clock.now()).outcome is Claim.IN_PROGRESS
    assert claim(token_id, "k-6", "e" * 64, clock.now()).outcome is Claim.MISMATCH
    # The process answering it died: after ten minutes a retry runs it, and only one.
    later = clock.advance(timedelta(minutes=11))
    assert claim(token_id, "k-6", "f" * 64, later) == Claimed(Claim.CLAIMED, first.claim_id)
    assert claim(token_id, "k-6", "f" * 64, later).outcome is Claim.IN_PROGRESS
    # A request that failed on the server's side gives its key back.
    release(first.claim_id or 0)
    assert claim(token_id, "k-6", "f" * 64, later).outcome is Claim.CLAIMED
