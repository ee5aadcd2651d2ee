"""Every route under /api/v1 needs a token and names its scope, in the code and in the
published document: a walk over the app's url_map."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from app.api.openapi import operations
from app.api.reference import document
from app.clinics.tokens import Scope, create_token
from app.core.clock import FixedClock
from tests.world import World

#: The API's description: public, and holds no clinic's data.
PUBLIC = {"api_reference.openapi_json", "api_reference.reference"}
#: A value for each URL argument of the API.
ARGUMENTS = {"slug": "north", "external_id": "P1", "survey": "fft", "period": "2026-03"}


def _api_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) of every route under /api/v1 but the public ones."""
    return sorted(
        (rule.rule, method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.endpoint not in PUBLIC
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


def _url(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: ARGUMENTS.get(match.group(1), "1"), rule)


def test_every_route_is_a_documented_operation_with_a_scope(app: Flask) -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    declared = {(op.endpoint, op.method): op for op in operations(app)}
    ids = []
    for rule, method, endpoint in _api_rules(app):
        assert (endpoint, method) in declared, f"{method} {rule}: not declared as an operation"
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
        described = doc["paths"][path][method.lower()]
        assert described["security"] == [{"bearer": [declared[endpoint, method].scope.value]}]
        assert {"401", "403"} <= set(described["responses"])
        ids.append(described["operationId"])
    assert len(ids) == len(set(ids)) >= 11
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= PUBLIC


@pytest.fixture
def clinic_tokens(world: World, clock: FixedClock) -> dict[str, str]:
    """A token of the clinic for each scope alone, and one with every scope."""
    north = world.clinic("north")
    world.patient(north, "P1")
    issued = {
        scope.value: create_token(
            label=scope.value, clinic_id=north.id, clock=clock, scopes=[scope]
        ).secret
        for scope in Scope
    }
    issued["all"] = create_token(label="all", clinic_id=north.id, clock=clock).secret
    return issued


def test_each_route_needs_a_token_and_its_scope(
    app: Flask, client: Any, clinic_tokens: dict[str, str]
) -> None:
    declared = {(op.endpoint, op.method): op for op in operations(app)}
    for rule, method, endpoint in _api_rules(app):
        url, needed = _url(rule), declared[endpoint, method].scope
        anonymous = client.open(url, method=method, json={})
        assert anonymous.status_code == 401, f"{method} {url}"
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        for scope in Scope:
            if scope is needed:
                continue
            headers = {"Authorization": f"Bearer {clinic_tokens[scope.value]}"}
            refused = client.open(url, method=method, json={}, headers=headers)
            assert refused.status_code == 403, f"{method} {url} with {scope}"
            assert refused.mimetype == "application/problem+json"
            assert needed.value in refused.get_json()["detail"]
        headers = {"Authorization": f"Bearer {clinic_tokens[needed.value]}"}
        allowed = client.open(url, method=method, json={}, headers=headers)
        assert allowed.status_code not in (401, 403), f"{method} {url}"
