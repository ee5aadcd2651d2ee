"""The API's reference: the OpenAPI document and its page, public and self-contained."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from app.api.openapi import operations


def test_the_document_is_public_json(client: Any) -> None:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    doc = answer.get_json()
    assert doc["openapi"] == "3.1.0"
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status"} <= set(problem["required"])


def test_the_page_lists_every_operation_with_its_scope(app: Flask, client: Any) -> None:
    answer = client.get("/api/v1/docs")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "<script" not in page
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert stylesheets
    assert all(href.startswith("/static/") for href in stylesheets)
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from another site
    for operation in operations(app):
        anchor = operation.endpoint.split(".")[-1]
        assert f'id="{anchor}"' in page
        section = page[page.index(f'id="{anchor}"') :]
        scope = f"Needs the scope <code>{operation.scope.value}</code>"
        assert scope in section.split("</section>")[0]
