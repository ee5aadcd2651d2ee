"""The API's reference: `/api/v1/openapi.json` and the page `/api/v1/docs`.

Both are public: they describe the API and hold no clinic's data. The page is the
document read aloud on the NHS.UK design system: server-rendered, our own CSS, no
script, under a Content-Security-Policy that lets nothing else in.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from markupsafe import Markup, escape

from app.api.openapi import build_document
from app.api.operations import API_PREFIX
from app.clinics.tokens import Scope

bp = Blueprint("api_reference", __name__, url_prefix=API_PREFIX)

#: Sent with the page: no script, nothing from another origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_CACHE = "wesaid_openapi"


def document() -> dict[str, Any]:
    """The document of the running app, built once."""
    cached: dict[str, Any] | None = current_app.extensions.get(_CACHE)
    if cached is None:
        cached = build_document(current_app)
        current_app.extensions[_CACHE] = cached
    return cached


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document."""
    return jsonify(document())


@bp.get("/docs")
def reference() -> Response:
    """Every operation: its scope, parameters, body and answers; then every schema."""
    doc = document()
    page = render_template(
        "api/reference.html",
        info=doc["info"],
        scopes=list(Scope),
        operations=_operations(doc),
        schemas=_schemas(doc),
        code=with_code,
    )
    return Response(page, headers=PAGE_HEADERS, mimetype="text/html")


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            found.append(
                {
                    "id": operation["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "description": operation["description"],
                    "scope": operation["security"][0]["bearer"][0],
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "where": parameter["in"],
                            "required": parameter["required"],
                            "type": type_name(parameter["schema"]),
                            "description": parameter.get("description")
                            or parameter["schema"].get("description", ""),
                        }
                        for parameter in operation["parameters"]
                    ],
                    "body": type_name(body["schema"]) if body else None,
                    "responses": [
                        {
                            "status": status,
                            "description": answer["description"],
                            "type": next(
                                (
                                    type_name(c["schema"])
                                    for c in answer.get("content", {}).values()
                                ),
                                "",
                            ),
                        }
                        for status, answer in operation["responses"].items()
                    ],
                }
            )
    return found


def _schemas(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        found.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "values": schema.get("enum"),
                "fields": [
                    {
                        "name": field,
                        "type": type_name(spec),
                        "required": field in required,
                        "description": spec.get("description", ""),
                    }
                    for field, spec in schema.get("properties", {}).items()
                ],
            }
        )
    return found


def with_code(text: str) -> Markup:
    """`text`, escaped, with its `backquoted` words as code."""
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if index % 2 else escape(part)
        for index, part in enumerate(parts)
    )


def type_name(schema: dict[str, Any]) -> str:
    """A schema as a reader would name its type: `string`, `list of Reminder`, ..."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_name(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return "list of " + type_name(schema.get("items", {}))
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    named = schema.get("type")
    if named is None:
        return "any"
    return f"{named} ({schema['format']})" if "format" in schema else str(named)
