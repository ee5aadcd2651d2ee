"""The public "you said, we did" page in Chromium, in English, Arabic (right to left) and
Bengali: axe-core finds nothing serious or critical, the page's policy refuses nothing,
no cookie is stored and no request leaves the page's own origin."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from app.audit.service import Actor
from app.clinics.roles import Role
from app.themes import service as themes
from app.themes.codebook import codebook
from app.yousaid import service
from app.yousaid.models import EntryStatus
from tests.e2e.browser import axe_violations, blocking, describe, watch_policy
from tests.e2e.staff import DESKTOP, SCREENSHOTS, check_page, open_section, sign_in
from tests.web.staff import StaffDesk
from tests.world import World
from tests.yousaid.seed import surveyed_month
from tests.yousaid.test_service import WORDS, _comment

if TYPE_CHECKING:
    from playwright.sync_api import Page

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)
STAFF = Actor(user_id=None)
#: The page's heading in each language (the drafts in translations/).
HEADINGS = {
    "en": "What patients told us and what we did",
    "ar": "ما قاله لنا المرضى وما فعلناه",
    "bn": "রোগীরা আমাদের কী বলেছেন এবং আমরা কী করেছি",
}


def _published(world: World) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-02", 40, 9, WORDS)
    surveyed_month(clinic, "2026-03", 40, 24, WORDS)
    comment = _comment(clinic.id, "2026-03")
    parking = next(t for t in codebook(clinic.organisation_id) if t.name == "Parking")
    themes.confirm(comment.id, [parking.id], 2, STAFF, NOW)
    quote = service.approve_quote(comment.id, STAFF, NOW)
    given = service.EntryInput(
        "The car park was full",
        "We opened the staff car park to patients",
        EntryStatus.IN_PROGRESS,
        theme_ids=[parking.id],
        quote_ids=[quote.id],
    )
    service.create_entry(clinic.organisation_id, clinic.id, given, STAFF, NOW)


@pytest.mark.parametrize(("locale", "direction"), [("en", "ltr"), ("ar", "rtl"), ("bn", "ltr")])
def test_the_public_page_in_three_languages(
    world: World, base_url: str, page: Page, locale: str, direction: str
) -> None:
    _published(world)
    refusals = watch_policy(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{base_url}/p/trust/north?lang={locale}")
    assert response is not None
    assert response.status == 200
    assert page.get_attribute("html", "lang") == locale
    assert page.get_attribute("html", "dir") == direction
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[locale]
    assert page.locator("blockquote").count() >= 1
    assert "07400" not in page.content()

    found = blocking(axe_violations(page))
    assert found == [], describe(found)
    assert refusals == []
    assert page.context.cookies() == []
    assert all(url.startswith(base_url) for url in requested)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"public-page-{locale}.png"), full_page=True)

    # The switcher's links lead to the same page in another language.
    page.locator("a[hreflang=so]").click()
    page.locator("html[lang=so]").wait_for(state="attached")


def test_a_lead_approves_a_quote_and_writes_an_entry_in_the_browser(
    world: World, base_url: str, page: Page, desk: StaffDesk
) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-03", 40, 24, WORDS)
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, desk.member(Role.EXPERIENCE_LEAD, ["north"], name="Lee Lead"))
    open_section(page, "You said, we did")
    page.get_by_role("link", name="Choose quotes for the public page").click()
    page.wait_for_url(re.compile(r".*/you-said/quotes$"))
    assert "07400" not in page.content()
    check_page(page, "staff-you-said-quotes")
    page.get_by_role("button", name="Approve").first.click()
    page.get_by_role("heading", name="Published quotes").wait_for()

    page.goto(f"{base_url}/staff/you-said/new")
    page.get_by_label("Where").select_option(label="North")
    page.get_by_label("You said").fill("The waiting room was too hot")
    page.get_by_label("We did").fill("We fitted blinds and a fan")
    page.get_by_label("In progress").check()
    page.locator("input[name=quotes]").first.check()
    check_page(page, "staff-you-said-entry")
    page.get_by_role("button", name="Save the entry").click()
    page.get_by_text("Entry saved.").wait_for()
    assert refused == []
    page.goto(f"{base_url}/p/trust/north")
    assert "We fitted blinds and a fan" in page.content()
