"""The survey web form in a real browser: Debian's Chromium driven by Playwright.

The app is served by werkzeug on a free loopback port, on the test PostgreSQL; the
patient opens the link from their invitation, answers by tapping label text, and the
answers are read back from the database. Chromium must be installed at
/usr/bin/chromium: without it these tests fail, they do not skip.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from playwright.sync_api import expect

from app.core.clock import FixedClock
from tests.e2e.browser import MIN_TARGET, link_in, watch_policy
from tests.public.web_survey import (
    add_clinic,
    draft_catalogues,
    invite_web,
    stored_answers,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _stylesheet_loaded(page: Page) -> bool:
    """The design system's stylesheet and ours, both from /static and both read."""
    return bool(
        page.evaluate(
            """() => {
              const sheets = [...document.styleSheets];
              return sheets.length === 2 && sheets.every(
                (s) => new URL(s.href).pathname.startsWith('/static/') && s.cssRules.length > 0
              );
            }"""
        )
    )


def _html_attributes(page: Page) -> tuple[Any, Any]:
    return page.get_attribute("html", "lang"), page.get_attribute("html", "dir")


def test_a_patient_answers_the_friends_and_family_test(
    app: Flask, clock: FixedClock, base_url: str, page: Page
) -> None:
    invite = invite_web(app, add_clinic(clock), clock, base_url=base_url)
    refusals = watch_policy(page)
    response = page.goto(link_in(invite.body))
    assert response is not None
    assert response.status == 200
    assert _html_attributes(page) == ("en", "ltr")
    assert _stylesheet_loaded(page)

    # Sent without the required answer: the summary is announced and takes the focus.
    page.get_by_label("Your answer").fill("The nurse explained everything")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.get_by_role("alert")
    assert "Choose one answer." in summary.inner_text()
    # The focus is on the error summary, whose alert is announced. The component's
    # script moves it once the page has loaded, which can follow the alert's arrival,
    # so the assertion waits for the focus rather than reading it once.
    error_summary = page.locator(".nhsuk-error-summary")
    expect(error_summary).to_be_focused()
    assert error_summary.locator("[role=alert]").count() == 1
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
        page.goto(link_in(invite.body))
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
    response = page.goto(link_in(invite.body))
    assert response is not None
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == "This survey has closed"
    assert page.locator("form").count() == 0
    assert stored_answers(invite.session_id) == {}
