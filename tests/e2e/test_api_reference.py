"""The API's reference page in Chromium: axe-core finds nothing serious, and the page's
Content-Security-Policy refuses nothing it asks for (it asks only for our own CSS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.e2e.browser import axe_violations, blocking, describe, watch_policy

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_the_reference_page_is_accessible(page: Page, base_url: str) -> None:
    refusals = watch_policy(page)
    response = page.goto(f"{base_url}/api/v1/docs")
    assert response is not None
    assert response.status == 200
    assert page.locator("h1").inner_text().startswith("WeSaid API")
    # The design system's styles applied: its header is blue, not the browser's default.
    colour = page.locator("header").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(0, 94, 184)"
    found = blocking(axe_violations(page))
    assert not found, describe(found)
    assert refusals == []
