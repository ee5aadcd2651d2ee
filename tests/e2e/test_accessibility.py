"""Every survey page in Chromium, checked by axe-core, in English, Arabic and Urdu, under the
pages' own Content-Security-Policy; the form on a phone screen and with no JavaScript.

axe-core runs on each page as the patient sees it (the form, the form with errors, the
thanks page and every page that says why there is no form) and must find nothing
`serious` or `critical`. Arabic and Urdu pages use the project's own catalogues, as
patients get them, and read right to left.

Screenshots of the form on a 375-pixel phone go to a temporary folder, or to the folder
named by WESAID_SCREENSHOTS, which is how docs/screenshots/ is refreshed:

    WESAID_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/e2e -k phone
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from app.core.clock import FixedClock
from app.surveys import service
from tests.e2e.browser import (
    MIN_TARGET,
    PHONE_SCREEN,
    TIMEOUT_MS,
    axe_violations,
    blocking,
    describe,
    link_in,
    watch_policy,
)
from tests.public.web_survey import WebInvite, add_clinic, invite_web, stored_answers

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCREENSHOTS_ENV = "WESAID_SCREENSHOTS"
#: The Arabic interface words, from translations/ar (a draft awaiting review).
ARABIC_SUBMIT = "إرسال إجاباتي"


def _open(app: Flask, clock: FixedClock, base_url: str, page: Page, locale: str) -> WebInvite:
    invite = invite_web(app, add_clinic(clock), clock, locale=locale, base_url=base_url)
    response = page.goto(link_in(invite.body))
    assert response is not None
    assert response.status == 200
    return invite


def _send(page: Page) -> None:
    """Submit the form and wait for the page it leads to (a check made at once could
    read the page it left)."""
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()


def _answer_first_and_send(page: Page) -> None:
    page.locator("input[type=radio]").first.check()
    _send(page)


# Each takes the open form to one page and returns the status the patient should get.
def _form(page: Page, clock: FixedClock, link: str) -> int:
    return 200


def _errors(page: Page, clock: FixedClock, link: str) -> int:
    _send(page)
    return 422


def _stale(page: Page, clock: FixedClock, link: str) -> int:
    clock.advance(timedelta(hours=25))  # the form token lasts a day, the session 48 hours
    _answer_first_and_send(page)
    return 400


def _thanks(page: Page, clock: FixedClock, link: str) -> int:
    _answer_first_and_send(page)
    return 200


def _answered(page: Page, clock: FixedClock, link: str) -> int:
    _answer_first_and_send(page)
    page.goto(link)
    return 409


def _closed(page: Page, clock: FixedClock, link: str) -> int:
    clock.advance(timedelta(hours=49))
    page.goto(link)
    return 410


STATES: dict[str, Callable[[Page, FixedClock, str], int]] = {
    "form": _form,
    "errors": _errors,
    "stale-form": _stale,
    "thanks": _thanks,
    "answered": _answered,
    "closed": _closed,
}


def _status(page: Page) -> int:
    return int(page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus"))


def _assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not blocking(violations), describe(violations)
    if violations:  # moderate or minor: shown with -s, not failed
        print(f"\naxe, {page.url}:\n{describe(violations)}")


@pytest.mark.parametrize("locale", ["en", "ar", "ur"])
@pytest.mark.parametrize("state", list(STATES))
def test_every_survey_page_passes_axe(
    app: Flask, clock: FixedClock, base_url: str, page: Page, locale: str, state: str
) -> None:
    refusals = watch_policy(page)
    invite = _open(app, clock, base_url, page, locale)
    assert STATES[state](page, clock, link_in(invite.body)) == _status(page)
    assert page.get_attribute("html", "lang") == locale
    assert page.get_attribute("html", "dir") == ("rtl" if locale in {"ar", "ur"} else "ltr")
    _assert_accessible(page)
    assert refusals == []


def test_the_pages_without_a_session_pass_axe(
    app: Flask,
    clock: FixedClock,
    base_url: str,
    page: Page,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refusals = watch_policy(page)
    # Not found.
    response = page.goto(f"{base_url}/s/not-a-link")
    assert response is not None
    assert response.status == 404
    _assert_accessible(page)
    # Something went wrong while storing.
    invite = _open(app, clock, base_url, page, "en")

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("storage is down")

    monkeypatch.setattr(service, "record_form", broken)
    _answer_first_and_send(page)
    assert _status(page) == 500
    _assert_accessible(page)
    # Too many attempts: a new limit counts afresh, so the second visit is one too many.
    app.config["SURVEY_LINK_RATE_LIMIT"] = "1 per minute"
    statuses = [page.goto(link_in(invite.body)) for _ in range(2)]
    assert [r.status if r is not None else None for r in statuses] == [200, 429]
    _assert_accessible(page)
    assert refusals == []


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_form_on_a_phone(
    app: Flask, clock: FixedClock, base_url: str, page: Page, locale: str, tmp_path: Path
) -> None:
    _open(app, clock, base_url, page, locale)
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"survey-form-{locale}.png"), full_page=True)
    # Nothing wider than the screen, so nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    # Every answer (its radio and its label), the comment and the button: big targets.
    targets = page.locator("form .nhsuk-radios__item > *, form textarea, form button").all()
    heights = [box["height"] for box in (t.bounding_box() for t in targets) if box is not None]
    assert len(heights) == len(targets) == 6 * 2 + 2
    assert min(heights) >= MIN_TARGET
    if locale == "ar":
        # Right to left: each radio sits to the right of its label, the text starts right.
        radio = page.locator("input[type=radio]").first.bounding_box()
        label = page.locator("label.nhsuk-radios__label").first.bounding_box()
        assert radio is not None
        assert label is not None
        assert radio["x"] > label["x"]
        page.get_by_role("button", name=ARABIC_SUBMIT).wait_for()


def test_the_form_works_without_javascript(
    app: Flask, clock: FixedClock, base_url: str, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE_SCREEN, has_touch=True, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        invite = _open(app, clock, base_url, page, "en")
        comment = '<b>Kind</b> & "quick"'
        page.get_by_label("Your answer").fill(comment)
        _send(page)
        # The error summary takes the focus without script: it is marked to (autofocus,
        # focusable by script only), which the browser honours once the page is drawn
        # and its window has the focus (a headless window does not always, so the focus
        # itself is not waited for); its link leads to the field.
        summary = page.locator(".nhsuk-error-summary")
        assert summary.get_attribute("autofocus") is not None
        assert summary.get_attribute("tabindex") == "-1"
        page.get_by_role("link", name="Question 1: Choose one answer.").click()
        assert page.evaluate("document.activeElement.id") == "q-fft-1"
        # What the patient wrote comes back as text, never as markup.
        assert page.get_by_label("Your answer").input_value() == comment
        assert page.locator("main b").count() == 0
        page.get_by_text("Good", exact=True).click()
        _send(page)
        assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    finally:
        context.close()
    assert stored_answers(invite.session_id) == {
        "fft": ("answered", "good"),
        "comment": ("answered", comment),
    }
