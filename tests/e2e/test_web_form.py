"""The survey web form in a real browser: Debian's Chromium driven by Playwright.

The app is served by werkzeug on a free loopback port, on the test PostgreSQL; the
patient opens the link from their invitation, answers by tapping label text, and the
answers are read back from the database. Chromium must be installed at
/usr/bin/chromium: without it these tests fail, they do not skip.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app.core.clock import FixedClock
from tests.surveys.web_survey import (
    add_clinic,
    draft_catalogues,
    invite_web,
    serve_survey_pages,
    stored_answers,
)

try:
    from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

    HAVE_PLAYWRIGHT = True
except ImportError:  # reported by the `browser` fixture as a failure, not a skip
    HAVE_PLAYWRIGHT = False

CHROMIUM = Path("/usr/bin/chromium")
#: A small phone screen.
PHONE_SCREEN: ViewportSize = {"width": 375, "height": 740}
#: The smallest comfortable touch target, in CSS pixels.
MIN_TARGET = 44
TIMEOUT_MS = 5000


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not HAVE_PLAYWRIGHT:
        pytest.fail("Playwright is not installed: pip install playwright (into .venv)")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE_SCREEN, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app with its survey pages, served over HTTP on a free loopback port."""
    serve_survey_pages(app)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _link(body: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_.-]+", body)
    assert match is not None, "the invitation carries no link"
    return match.group(0)


def _watch_policy(page: Page) -> list[str]:
    """Content-Security-Policy refusals reported on the console, collected as they come."""
    refusals: list[str] = []

    def note(message: Any) -> None:
        if "Content Security Policy" in message.text:
            refusals.append(message.text)

    page.on("console", note)
    return refusals


def _stylesheet_loaded(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 0"
        )
    )


def _html_attributes(page: Page) -> tuple[Any, Any]:
    return page.get_attribute("html", "lang"), page.get_attribute("html", "dir")


def test_a_patient_answers_the_friends_and_family_test(
    app: Flask, clock: FixedClock, base_url: str, page: Page
) -> None:
    invite = invite_web(app, add_clinic(clock), clock, base_url=base_url)
    refusals = _watch_policy(page)
    response = page.goto(_link(invite.body))
    assert response is not None
    assert response.status == 200
    assert _html_attributes(page) == ("en", "ltr")
    assert _stylesheet_loaded(page)

    # Sent without the required answer: the summary is announced and takes the focus.
    page.get_by_label("Your answer").fill("The nurse explained everything")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.get_by_role("alert")
    assert "Choose one answer." in summary.inner_text()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    assert page.get_by_label("Your answer").input_value() == "The nurse explained everything"

    page.get_by_text("Good", exact=True).click()
    assert page.get_by_label("Good", exact=True).is_checked()
    target = page.locator("label", has_text="Neither good nor poor").bounding_box()
    assert target is not None
    assert target["height"] >= MIN_TARGET
    page.get_by_role("button", name="Send my answers").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    assert refusals == []
    assert stored_answers(invite.session_id) == {
        "fft": ("answered", "good"),
        "comment": ("answered", "The nurse explained everything"),
    }


def test_the_arabic_form_reads_right_to_left(
    app: Flask, clock: FixedClock, base_url: str, page: Page, tmp_path: Path
) -> None:
    with draft_catalogues(tmp_path / "translations"):
        invite = invite_web(app, add_clinic(clock), clock, locale="ar", base_url=base_url)
        page.goto(_link(invite.body))
        assert _html_attributes(page) == ("ar", "rtl")
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        label = page.get_by_text("جيدة", exact=True)
        radio = page.get_by_label("جيدة", exact=True)
        label_box, radio_box = label.bounding_box(), radio.bounding_box()
        assert label_box is not None
        assert radio_box is not None
        # The radio sits at the start of its row: on the right.
        assert radio_box["x"] > label_box["x"] + label_box["width"] / 2
        label.click()
        page.get_by_role("button", name="إرسال إجاباتي").click()
        assert page.get_by_role("heading", level=1).inner_text() == "شكرًا لك"
    assert stored_answers(invite.session_id) == {
        "fft": ("answered", "good"),
        "comment": ("skipped", None),
    }


def test_an_expired_link_shows_a_friendly_page(
    app: Flask, clock: FixedClock, base_url: str, page: Page
) -> None:
    invite = invite_web(app, add_clinic(clock), clock, base_url=base_url)
    clock.advance(timedelta(hours=49))  # past the clinic's 48-hour session lifetime
    response = page.goto(_link(invite.body))
    assert response is not None
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == "This survey has closed"
    assert page.locator("form").count() == 0
    assert stored_answers(invite.session_id) == {}
