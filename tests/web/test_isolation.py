"""Clinic isolation, route by route: every route of the app, visited as every role of
another clinic, every role of another organisation, and nobody.

The routes come from `app.url_map`, so a new route is covered the day it is added, or
this test fails: a route's arguments must have a value here (`ARGUMENTS`, naming a row of
the clinic under test), and a route outside the workspace and the API must be listed in
`ELSEWHERE` with what protects it. Every answer is a 302 to sign in, 400, 401, 403, 404,
405 or 422, or, for a page that names no record, the visitor's own (empty) view: never a
500, and never a byte of the other clinic's data. POSTs change nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import Rule

from app.audit.models import AuditEvent
from app.audit.service import SYSTEM
from app.clinics import accounts
from app.clinics.models import ApiToken, StaffUser
from app.clinics.roles import Role
from app.clinics.tokens import create_token, revoke_token
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.patients.models import Patient
from app.runtime import get_runtime
from app.uploads.kinds import ImportKind, ImportState
from app.uploads.models import ImportRun
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World

#: What identifies the clinic under test's patient: none of it may reach an outsider.
SECRETS = ("Zebedee", "Quartermain", "+447400999111", "07400 999111", "NORTH-SECRET-1")
SECRET_BODY = "meet me by the north gate"

#: Routes that are not the workspace's or the API's, and what protects them instead.
ELSEWHERE = {
    "static": "public files of the design system",
    "survey_web.show_form": "a signed, expiring link per invitation (tests/public)",
    "survey_web.submit_form": "a signed, expiring link per invitation (tests/public)",
    "webhooks.inbound_sms": "Twilio's request signature (tests/webhooks)",
    "webhooks.status_callback": "Twilio's request signature (tests/webhooks)",
    "voice.call_answered": "Twilio's request signature (tests/webhooks)",
    "voice.survey_answer": "Twilio's request signature (tests/webhooks)",
    "voice.reminder_menu": "Twilio's request signature (tests/webhooks)",
}
#: Workspace pages anyone may open: they show no clinic data.
OPEN_PAGES = {
    "staff_auth.sign_in",
    "staff_auth.second_factor",
    "staff_auth.enrol",
    "staff_auth.welcome",
    "staff_auth.sign_out",
}


@dataclass
class North:
    """The clinic under test and its rows."""

    clinic_id: int
    patient_id: int
    appointment_id: int
    outbound_id: int
    inbound_id: int


#: A value for each route argument, naming a row of the clinic under test.
ARGUMENTS: dict[str, Callable[[North], object]] = {
    "slug": lambda north: "north",
    "secret": lambda north: "not-a-link",
    "survey": lambda north: "fft",
    "period": lambda north: "2026-03",
    "patient_id": lambda north: north.patient_id,
    "appointment_id": lambda north: north.appointment_id,
    "message_id": lambda north: north.outbound_id,
    "inbound_id": lambda north: north.inbound_id,
    "clinic_id": lambda north: north.clinic_id,
    "name": lambda north: "reminder",
    "locale": lambda north: "cy",
    "user_id": lambda north: _north_staff(north).id,
    "grant_id": lambda north: _north_staff(north).grants[0].id,
    "token_id": lambda north: _north_token(north),
    "run_id": lambda north: _north_import(north),
}


def _north_staff(north: North) -> StaffUser:
    """A receptionist of the clinic under test only (made the first time it is asked for)."""
    email = "north-only@example.nhs.uk"
    found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    if found is None:
        accounts.invite(email, "trust", Role.RECEPTIONIST, ["north"], get_runtime().clock, SYSTEM)
        found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    assert found is not None
    return found


def _north_token(north: North) -> int:
    """An API token of the clinic under test (made the first time it is asked for)."""
    found = db.session.scalar(select(ApiToken.id).where(ApiToken.label == "north isolation"))
    if found is None:
        clock = get_runtime().clock
        found = create_token(label="north isolation", clinic_id=north.clinic_id, clock=clock).id
    return found


def _north_import(north: North) -> int:
    """An import of the clinic under test, its file named after the patient (made the
    first time it is asked for)."""
    found = db.session.scalar(select(ImportRun.id).where(ImportRun.clinic_id == north.clinic_id))
    if found is None:
        run = ImportRun(
            clinic_id=north.clinic_id,
            user_id=_north_staff(north).id,
            kind=ImportKind.PATIENTS,
            file_name="Quartermain.csv",
            file_bytes=1,
            strict=False,
            state=ImportState.IMPORTED,
            report="Quartermain.csv:2: phone: premium rate number not accepted",
            problems=1,
            created_at=get_runtime().clock.now(),
        )
        db.session.add(run)
        db.session.commit()
        found = run.id
    return found


def _seed(world: World, clock: FixedClock) -> North:
    north = world.clinic("north", org="trust")
    world.clinic("south", org="trust")
    world.clinic("east", org="other")
    patient = world.patient(
        north,
        "NORTH-SECRET-1",
        phone="+447400999111",
        given_name="Zebedee",
        family_name="Quartermain",
    )
    appointment = world.book(
        north, "APPT-1", "NORTH-SECRET-1", datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    )
    outbound = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.patient_id == patient.id)
    )
    assert outbound is not None
    outbound.body = SECRET_BODY
    inbound = InboundMessage(
        provider_sid="SM" + "9" * 32,
        clinic_id=north.id,
        patient_id=patient.id,
        from_number=patient.phone,
        to_number=north.sender,
        body=SECRET_BODY,
        state="flagged",
        flag_reason="not_understood",
        received_at=clock.now(),
    )
    db.session.add(inbound)
    db.session.commit()
    return North(north.id, patient.id, appointment.id, outbound.id, inbound.id)


def _fingerprint() -> str:
    """A digest of the clinic's personal data and messages: equal before and after means
    nothing was changed."""
    rows: list[Any] = []
    for model in (Patient, OutboundMessage, InboundMessage):
        for row in db.session.scalars(select(model).order_by(model.id)):
            rows.append(sorted((k, str(v)) for k, v in vars(row).items() if not k.startswith("_")))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def _url(app: Flask, rule: Rule, north: North) -> str:
    missing = sorted(set(rule.arguments) - set(ARGUMENTS))
    assert not missing, f"{rule.endpoint}: no value for {missing}; add them to ARGUMENTS"
    values = {name: ARGUMENTS[name](north) for name in rule.arguments}
    with app.test_request_context():
        return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def test_every_route_is_covered(app: Flask) -> None:
    for rule in _rules(app):
        if rule.endpoint in ELSEWHERE:
            continue
        assert rule.rule.startswith(("/staff", "/api/")), (
            f"{rule.rule} ({rule.endpoint}): neither workspace, API nor ELSEWHERE"
        )
        missing = sorted(set(rule.arguments) - set(ARGUMENTS))
        assert not missing, f"{rule.endpoint}: add values for {missing} to ARGUMENTS"


@dataclass
class Outsider:
    label: str
    client: Any


def _outsiders(app: Flask, desk: StaffDesk) -> Iterator[Outsider]:
    yield Outsider("nobody", app.test_client())
    for org, clinics in (("trust", ["south"]), ("other", [])):
        for role in Role:
            member = desk.member(role, clinics, org=org)
            client = app.test_client()
            desk.sign_in(client, member)
            yield Outsider(f"{role.value} of {org}/{clinics or 'all'}", client)


def _acceptable(status: int, names_a_record: bool, endpoint: str) -> bool:
    if status in (302, 400, 401, 403, 404, 405, 422, 429):
        return True
    # A page naming no record shows the visitor their own view (of their own clinics).
    return status == 200 and (not names_a_record or endpoint in OPEN_PAGES)


def test_outsiders_get_nothing_of_another_clinic(
    app: Flask, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = _seed(world, clock)
    app.config["SIGN_IN_RATE_LIMIT"] = "1000 per minute"  # fourteen sign-ins from one address
    rules = [r for r in _rules(app) if r.rule.startswith("/staff")]
    before = _fingerprint()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    failures: list[str] = []
    for outsider in _outsiders(app, desk):
        token = None
        if outsider.label != "nobody":
            token = csrf_token(outsider.client, "/staff/")
        for rule in rules:
            url = _url(app, rule, north)
            names_a_record = bool(set(rule.arguments) - {"secret"})
            for method in _methods(rule):
                data = {"csrf_token": token} if token and method != "GET" else {}
                answer = outsider.client.open(url, method=method, data=data)
                body = answer.get_data(as_text=True)
                where = f"{outsider.label} {method} {url}"
                if not _acceptable(answer.status_code, names_a_record, rule.endpoint):
                    failures.append(f"{where}: {answer.status_code}")
                leaked = [s for s in (*SECRETS, SECRET_BODY) if s in body]
                if leaked:
                    failures.append(f"{where}: shows {leaked}")
    assert failures == []
    db.session.expire_all()
    assert _fingerprint() == before
    # Outsiders' visits may be audited (sign-ins, refusals) but nothing of north was seen.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= audit_before


@pytest.mark.parametrize("who", ["nobody", "other clinic", "other organisation", "revoked"])
def test_api_routes_refuse_tokens_of_others(
    app: Flask, client: Any, world: World, clock: FixedClock, who: str
) -> None:
    north = _seed(world, clock)
    south = world.clinics["south"]
    east = world.clinics["east"]
    headers = {}
    if who == "other clinic":
        headers = {
            "Authorization": "Bearer "
            + create_token(label="s", clinic_id=south.id, clock=clock).secret
        }
    elif who == "other organisation":
        issued = create_token(label="o", organisation_id=east.organisation_id, clock=clock)
        headers = {"Authorization": f"Bearer {issued.secret}"}
    elif who == "revoked":
        issued = create_token(label="r", clinic_id=north.clinic_id, clock=clock)
        revoke_token(issued.id, clock)
        headers = {"Authorization": f"Bearer {issued.secret}"}
    before = _fingerprint()
    for rule in _rules(app):
        if not rule.rule.startswith("/api/"):
            continue
        url = _url(app, rule, north)
        for method in _methods(rule):
            answer = client.open(url, method=method, headers=headers, json={})
            assert answer.status_code == 401, f"{who} {method} {url}: {answer.status_code}"
            body = answer.get_data(as_text=True)
            assert not [s for s in (*SECRETS, SECRET_BODY) if s in body]
    assert _fingerprint() == before
