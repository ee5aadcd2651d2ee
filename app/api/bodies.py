"""Reading a request's JSON body and query string into the route's declared models.

What the models refuse becomes a `BodyError`: 400 with each field named (a row's field
with its 0-based index as `line`), 413 for more rows than a request may carry. The
reasons are pydantic's own messages, which describe the expected value and never repeat
the value sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

#: Generous for 10,000 import rows; the body is refused before it is read.
MAX_BODY_BYTES = 8 * 1024 * 1024


class BodyError(Exception):
    """The request is not what the route takes; `errors` name the fields."""

    def __init__(
        self, message: str, status: int = 400, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []


def parse_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    """`raw` (JSON) as `model`; raises BodyError naming what is wrong."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise _body_error(exc.errors(include_input=False, include_url=False)) from None
    except RecursionError:
        raise BodyError("the body is not valid JSON") from None


def parse_query(model: type[BaseModel], args: Mapping[str, Any]) -> BaseModel:
    """The query string as `model`; raises BodyError naming the parameter."""
    return _parameters(model, args, "query parameter")


def parse_path(model: type[BaseModel], args: Mapping[str, Any]) -> BaseModel:
    """The URL's arguments as `model`; raises BodyError naming the argument."""
    return _parameters(model, args, "URL argument")


def _parameters(model: type[BaseModel], args: Mapping[str, Any], what: str) -> BaseModel:
    try:
        return model.model_validate(dict(args))
    except ValidationError as exc:
        errors = [_field_error(error) for error in exc.errors(include_input=False)]
        first = errors[0]
        raise BodyError(f"{what} {first['field']!r}: {first['reason']}", errors=errors) from None


def _body_error(details: list[ErrorDetails]) -> BodyError:
    first = details[0]
    if first["type"].startswith("json") or first["type"] == "invalid_unicode":
        return BodyError("the body is not valid JSON")
    if not first["loc"]:
        return BodyError("the body must be a JSON object")
    if first["type"] == "too_long" and len(first["loc"]) == 1:
        limit = (first.get("ctx") or {}).get("max_length")
        return BodyError(f"at most {limit} rows per request", 413)
    errors = [_field_error(error) for error in details]
    return BodyError(f"{_path(first['loc'])}: {errors[0]['reason']}", errors=errors)


def _field_error(error: ErrorDetails) -> dict[str, Any]:
    """`{field, reason}`, with `line` for a row or a field of one (`patients[3].phone`)."""
    loc = list(error["loc"])
    reason = _reason(error)
    if len(loc) >= 2 and isinstance(loc[1], int):
        return {"line": loc[1], "field": _path(loc[2:]) or _path(loc[:2]), "reason": reason}
    return {"field": _path(loc), "reason": reason}


def _path(loc: Sequence[int | str]) -> str:
    """`patients[3].phone` from pydantic's location ("patients", 3, "phone")."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


#: Our words for pydantic's commonest refusals; the others keep pydantic's message.
_REASONS = {
    "extra_forbidden": "unknown field",
    "missing": "required",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "string_type": "must be text",
}


def _reason(error: ErrorDetails) -> str:
    if error["type"] in _REASONS:
        return _REASONS[error["type"]]
    if error["type"] == "value_error":  # our own validators' words
        return str((error.get("ctx") or {}).get("error", error["msg"]))
    return str(error["msg"])
