"""The API's description, OpenAPI 3.1, built from the operations the routes declare.

Nothing in it is written by hand: paths, parameters, bodies, answers and each
operation's scope (as its bearer security requirement) come from the `ApiBlueprint`s
registered on the app. `app.api.reference` serves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.api.operations import API_PREFIX, ApiBlueprint, Operation
from app.api.problems import MEDIA_TYPE
from app.api.retries import KEY_HEADER, KEY_PATTERN
from app.api.schemas import Problem
from app.clinics.tokens import Scope

REF = "#/components/schemas/{model}"
_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
#: The URL arguments every route shares, for routes that declare no model of them.
_ARGUMENTS: dict[str, dict[str, Any]] = {
    "slug": {"type": "string", "minLength": 1, "maxLength": 64, "description": "The clinic"},
}
DESCRIPTION = (
    "The JSON API of WeSaid for a clinic's own systems. Every request carries "
    "`Authorization: Bearer <token>`, a token of the clinic in the URL or of its "
    "organisation; each operation needs the scope it names. Errors are RFC 9457 problem "
    "documents. Every POST takes an `Idempotency-Key`; list operations are paged with "
    "`cursor` and `limit`; reads answer an `ETag` and honour `If-None-Match`."
)
_AUTOMATIC: dict[int, str] = {
    400: "The URL, query or body is not what the operation takes; `errors` names the fields",
    401: "No live bearer token for this clinic (an unknown clinic answers the same)",
    403: "The token does not have this operation's scope",
    404: "No such record of the clinic, or no such route",
    429: "Too many requests with this token; `Retry-After` says when to try again",
}


def operations(app: Flask) -> list[Operation]:
    """Every operation of the app's API, by path and method."""
    found = [
        operation
        for blueprint in app.blueprints.values()
        if isinstance(blueprint, ApiBlueprint)
        for operation in blueprint.operations
    ]
    return sorted(found, key=lambda operation: (operation.rule, operation.method))


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s API."""
    declared = operations(app)
    schemas = _schemas(declared)
    paths: dict[str, dict[str, Any]] = {}
    for operation in declared:
        path = API_PREFIX + _ARGUMENT.sub(r"{\2}", operation.rule)
        paths.setdefault(path, {})[operation.method.lower()] = _operation(operation, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "WeSaid API", "version": "1", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token; its scopes: "
                    + ", ".join(f"`{scope.value}`" for scope in Scope),
                }
            },
        },
    }


def _schemas(declared: Iterable[Operation]) -> dict[str, Any]:
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Problem, "serialization")}
    for operation in declared:
        if operation.body is not None:
            models.add((operation.body, "validation"))
        models |= {(model, "serialization") for model in operation.responses.values() if model}
    ordered = sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))
    _keys, document = models_json_schema(ordered, ref_template=REF)
    return dict(document.get("$defs", {}))


def _operation(operation: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": operation.endpoint.split(".")[-1],
        "summary": operation.summary,
        "description": f"{operation.description}\n\nNeeds the scope `{operation.scope.value}`.",
        "tags": [operation.tag],
        "security": [{"bearer": [operation.scope.value]}],
        "parameters": _path_parameters(operation, schemas)
        + _model_parameters(operation.query, "query", schemas),
        "responses": _responses(operation, schemas),
    }
    if operation.method == "POST":
        described["parameters"].append(
            {
                "name": KEY_HEADER,
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key and request answer as the "
                "first did, and write nothing again (kept 24 hours per token)",
                "schema": {"type": "string", "pattern": KEY_PATTERN},
            }
        )
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.body, schemas, "-Input")}},
        }
    return described


def _path_parameters(operation: Operation, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    declared = _properties(operation.path, schemas) if operation.path else {}
    found = []
    for converter, name in _ARGUMENT.findall(operation.rule):
        schema = declared.get(name) or _ARGUMENTS.get(name)
        if schema is None:
            schema = (
                {"type": "integer", "minimum": 0}
                if converter == "int"
                else {
                    "type": "string",
                    "minLength": 1,
                }
            )
        found.append({"name": name, "in": "path", "required": True, "schema": schema})
    return found


def _model_parameters(
    model: type[BaseModel] | None, where: str, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    if model is None:
        return []
    required = set(model.model_json_schema(ref_template=REF).get("required", []))
    return [
        {
            "name": name,
            "in": where,
            "required": name in required,
            "description": schema.get("description", ""),
            "schema": schema,
        }
        for name, schema in _properties(model, schemas).items()
    ]


def _properties(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's fields' schemas, by their names in the request (aliases)."""
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.get("$defs", {}))
    return dict(schema.get("properties", {}))


def _responses(operation: Operation, schemas: Mapping[str, Any]) -> dict[str, Any]:
    answers: dict[int, type[BaseModel] | None] = dict.fromkeys(_AUTOMATIC)
    if operation.body is not None:
        answers |= {413: None, 422: None}
    if operation.method == "POST":
        answers |= {409: None, 422: None}
    if operation.method == "GET":
        answers[304] = None
    answers |= operation.responses
    return {
        str(status): _response(status, model, schemas) for status, model in sorted(answers.items())
    }


def _response(
    status: int, model: type[BaseModel] | None, schemas: Mapping[str, Any]
) -> dict[str, Any]:
    description = _AUTOMATIC.get(status) or HTTPStatus(status).phrase
    if model is not None:
        answer: dict[str, Any] = {
            "description": (model.__doc__ or description).strip().splitlines()[0],
            "content": {"application/json": {"schema": _ref(model, schemas, "-Output")}},
        }
        if status == 200:
            answer["headers"] = {
                "ETag": {"description": "Of this answer", "schema": {"type": "string"}}
            }
        return answer
    if status in (204, 304):
        return {"description": description}
    schema = _ref(Problem, schemas, "-Output")
    return {"description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


def _ref(model: type[BaseModel], schemas: Mapping[str, Any], suffix: str) -> dict[str, str]:
    """A reference to `model`'s schema; pydantic names a model's request and answer
    schemas apart (`-Input`, `-Output`) where they differ."""
    name = model.__name__
    if name not in schemas and f"{name}{suffix}" in schemas:
        name = f"{name}{suffix}"
    return {"$ref": REF.format(model=name)}
