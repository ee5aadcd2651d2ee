"""Schemathesis against the live app: every operation of the published OpenAPI document,
with requests it allows and requests it forbids, sent to the real WSGI app with a real
token that has every scope.

For each operation, a bounded number of generated requests of each kind; every answer
must be no 5xx, a status, content type, headers and body the document declares, and a
refusal (4xx) for every request the document forbids.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from tests.world import World

#: Per operation and per kind (allowed, forbidden): about 15 s for the whole API.
EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
#: What a refusal may be. Beside the fuzzer's own list, 413: a body with more rows than
#: one request may carry (the document's `maxItems`) is refused as too large.
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = {"checks": {"negative_data_rejection": {"expected-statuses": [*REFUSALS, "5xx"]}}}


def test_every_operation_keeps_to_the_document(app: Flask, world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    world.book(north, "A1", patient.external_id, clock.now().replace(day=20))
    token = create_token(label="fuzz", clinic_id=north.id, clock=clock).secret
    app.config["API_RATE_LIMIT"] = "100000 per minute"  # the fuzzer is one busy client
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG)
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(mode, path_parameters={"slug": "north"})
            _run(strategy, headers)


def _run(strategy: st.SearchStrategy[Any], headers: dict[str, str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def sent(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    sent()
