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

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.clinics.roles import Role
from app.clinics.tokens import create_token, revoke_token
from app.core.clock import FixedClock
from app.extensions import db
from tests.web.routes import (
    ARGUMENTS,
    ELSEWHERE,
    OPEN_PAGES,
    SECRET_BODY,
    SECRETS,
    fingerprint,
    methods,
    readable,
    rules,
    seed,
    url_for_rule,
)
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World


def test_every_route_is_covered(app: Flask) -> None:
    for rule in rules(app):
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
    north = seed(world, clock)
    app.config["SIGN_IN_RATE_LIMIT"] = "1000 per minute"  # fourteen sign-ins from one address
    staff_rules = [r for r in rules(app) if r.rule.startswith("/staff")]
    before = fingerprint()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    failures: list[str] = []
    for outsider in _outsiders(app, desk):
        token = None
        if outsider.label != "nobody":
            token = csrf_token(outsider.client, "/staff/")
        for rule in staff_rules:
            url = url_for_rule(app, rule, north)
            names_a_record = bool(set(rule.arguments) - {"secret"})
            for method in methods(rule):
                data = {"csrf_token": token} if token and method != "GET" else {}
                answer = outsider.client.open(url, method=method, data=data)
                body = readable(answer)
                where = f"{outsider.label} {method} {url}"
                if not _acceptable(answer.status_code, names_a_record, rule.endpoint):
                    failures.append(f"{where}: {answer.status_code}")
                leaked = [s for s in (*SECRETS, SECRET_BODY) if s in body]
                if leaked:
                    failures.append(f"{where}: shows {leaked}")
    assert failures == []
    db.session.expire_all()
    assert fingerprint() == before
    # Outsiders' visits may be audited (sign-ins, refusals) but nothing of north was seen.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= audit_before


@pytest.mark.parametrize("who", ["nobody", "other clinic", "other organisation", "revoked"])
def test_api_routes_refuse_tokens_of_others(
    app: Flask, client: Any, world: World, clock: FixedClock, who: str
) -> None:
    north = seed(world, clock)
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
    before = fingerprint()
    for rule in rules(app):
        if not rule.rule.startswith("/api/") or rule.endpoint in ELSEWHERE:
            continue
        url = url_for_rule(app, rule, north)
        for method in methods(rule):
            answer = client.open(url, method=method, headers=headers, json={})
            assert answer.status_code == 401, f"{who} {method} {url}: {answer.status_code}"
            body = readable(answer)
            assert not [s for s in (*SECRETS, SECRET_BODY) if s in body]
    assert fingerprint() == before
