"""Twilio's request-validator test vectors (request_validator.json), read as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict

VECTORS_FILE = Path(__file__).with_name("request_validator.json")


@dataclass(frozen=True)
class Vector:
    id: str
    auth_token: str
    url: str
    params: tuple[tuple[str, str], ...]
    body: str | None
    signature: str | None
    #: What the upstream test expects.
    valid: bool
    #: What our check must answer: upstream's answer unless the file says otherwise.
    expected: bool

    @property
    def form(self) -> MultiDict[str, str]:
        """The params as a form that keeps every value of a repeated key."""
        return MultiDict(list(self.params))

    @property
    def raw_body(self) -> bytes | None:
        return None if self.body is None else self.body.encode("utf-8")

    @property
    def base(self) -> str:
        """Scheme and authority: what PUBLIC_BASE_URL must be for the app to rebuild url."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def path_and_query(self) -> str:
        """The rest of url, exactly as it would be requested."""
        return self.url[len(self.base) :]


@dataclass(frozen=True)
class BodyHash:
    body: str
    sha256: str
    matches: bool


def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return data


def vectors() -> list[Vector]:
    return [
        Vector(
            id=item["id"],
            auth_token=item["auth_token"],
            url=item["url"],
            params=tuple((key, value) for key, value in item["params"]),
            body=item["body"],
            signature=item["signature"],
            valid=item["valid"],
            expected=item.get("accepted_here", item["valid"]),
        )
        for item in _load()["vectors"]
    ]


def body_hashes() -> list[BodyHash]:
    return [
        BodyHash(item["body"], item["sha256"], item["matches"]) for item in _load()["body_hashes"]
    ]
