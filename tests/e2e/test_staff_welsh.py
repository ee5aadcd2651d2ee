"""The workspace in Welsh, in Chromium: a receptionist switches the worklist to Cymraeg
from its footer, axe-core checks the Welsh page (its lang attributes included), the
choice stays on the next pages, and "English" switches back. The switch is a plain form:
it works with JavaScript turned off too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.casework import cases
from tests.e2e.browser import PHONE_SCREEN, axe_violations, describe
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: axe-core's checks of the page's language and of each part in another language.
LANGUAGE_RULES = {"html-has-lang", "html-lang-valid", "valid-lang", "html-xml-lang-mismatch"}


def _language_problems(page: Page) -> str:
    """Every axe-core finding about languages, whatever its impact."""
    return describe([v for v in axe_violations(page) if v["id"] in LANGUAGE_RULES])


def test_a_receptionist_switches_the_worklist_to_welsh(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    north.name = "Ffisiotherapi Stryd y Gogledd"
    db.session.commit()
    cases.every_kind(world, clock, north, "NS-1042")
    receptionist = desk.member(Role.RECEPTIONIST, ["north"], name="Rhys Jones")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, receptionist)
    page.goto(f"{base_url}/staff/worklist")
    assert page.locator("html").get_attribute("lang") == "en"

    cymraeg = page.locator("footer").get_by_role("button", name="Cymraeg")
    assert cymraeg.get_attribute("lang") == "cy"
    cymraeg.click()
    page.locator("html[lang=cy]").wait_for(state="attached")
    assert page.url == f"{base_url}/staff/worklist"  # the same page, in Welsh
    assert page.get_by_role("heading", level=1).inner_text() == "Heddiw"
    assert "Dydd Llun 2 Mawrth 2026" in page.locator("main").inner_text()
    english = page.locator("footer").get_by_role("button", name="English")
    assert english.get_attribute("lang") == "en"
    assert _language_problems(page) == ""
    check_page(page, "staff-worklist-cy")

    # The choice stays: the next page, from the Welsh navigation, is Welsh too.
    page.get_by_role("link", name="Cleifion", exact=True).first.click()
    page.wait_for_url(f"{base_url}/staff/patients")
    assert page.get_by_role("heading", level=1).inner_text() == "Dod o hyd i glaf"
    page.set_viewport_size(PHONE_SCREEN)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    page.locator("footer").get_by_role("button", name="English").click()
    page.locator("html[lang=en]").wait_for(state="attached")
    assert page.url == f"{base_url}/staff/patients"
    assert page.get_by_role("heading", level=1).inner_text() == "Find a patient"
    assert refused == []


def test_the_switch_works_without_javascript(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE_SCREEN)
    page = context.new_page()
    page.goto(f"{base_url}/staff/sign-in")
    page.locator("footer").get_by_role("button", name="Cymraeg").click()
    page.locator("html[lang=cy]").wait_for(state="attached")
    assert page.url == f"{base_url}/staff/sign-in"
    assert page.get_by_role("heading", level=1).inner_text() == "Mewngofnodi i WeSaid"
    context.close()
