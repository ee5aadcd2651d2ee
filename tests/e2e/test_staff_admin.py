"""An admin's pages in Chromium: templates, settings, users and API tokens.

The admin signs in with their authenticator code, reads a Welsh reminder's segment count,
tries a wording the lint refuses, saves a setting, invites a member of staff and reads
their link, then makes and revokes an API token. axe-core checks every page on the way;
each page but those showing a secret is saved as a screenshot at 1280x800.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.clinics.roles import Role
from app.clinics.tokens import create_token
from app.extensions import db
from tests.e2e.browser import axe_violations, blocking, describe
from tests.e2e.staff import DESKTOP, check_page, open_section, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page

BAD_WORDING = "%(clinic)s: your appointment is on %(date)s at %(time)s. Reply CANCEL to cancel."


def _check_secret_page(page: Page) -> None:
    """axe-core on a page that shows a secret once (no screenshot of it is kept)."""
    found = blocking(axe_violations(page))
    assert found == [], describe(found)


def _templates(page: Page, base_url: str) -> None:
    open_section(page, "Templates")
    page.get_by_label("Language").select_option("cy")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**?locale=cy")
    assert "mae eich apwyntiad" in page.locator("table").first.inner_text()
    check_page(page, "staff-templates")
    page.get_by_role("link", name=re.compile(r"^Appointment reminder\s+\(Welsh\)$")).click()
    preview = page.locator("#preview")
    assert preview.locator(".wesaid-sms").get_attribute("lang") == "cy"
    segments = preview.locator(".nhsuk-summary-list__row", has_text="Segments")
    assert int(segments.locator(".nhsuk-summary-list__value").inner_text()) >= 1
    check_page(page, "staff-template-page")


def _refused_wording(page: Page) -> None:
    page.get_by_label("Your clinic's wording").fill(BAD_WORDING)
    page.get_by_role("button", name="Preview").click()  # htmx: the preview alone changes
    preview = page.locator("#preview")
    preview.get_by_role("heading", name="Preview of your wording").wait_for()
    assert "opt-out keyword" in preview.inner_text()
    page.get_by_role("button", name="Save wording").click()
    summary = page.get_by_role("alert")
    assert summary.inner_text().startswith("There is a problem")
    assert "opt-out keyword" in summary.inner_text()
    assert page.title().startswith("Error:")
    check_page(page, "staff-template-edit")


def _settings(page: Page) -> None:
    open_section(page, "Settings")
    page.get_by_label("From").fill("21:30")
    page.get_by_role("button", name="Save settings").click()
    page.locator("main").get_by_text("Saved. You changed: quiet hours.").wait_for()
    check_page(page, "staff-settings")


def _invite(page: Page) -> None:
    open_section(page, "Users")
    page.get_by_role("button", name="Invite a member of staff").click()
    page.get_by_label("Email address").fill("nia.jones@example.nhs.uk")
    page.get_by_label("Full name").fill("Nia Jones")
    page.get_by_label("Receptionist").check()
    page.get_by_label("North Street Clinic").check()
    check_page(page, "staff-user-invite")
    page.get_by_role("button", name="Invite", exact=True).click()
    link = page.locator("#link").inner_text()
    assert link.startswith("https://wesaid.example.org/staff/welcome/")
    _check_secret_page(page)
    page.get_by_role("link", name="Back to users").click()
    page.locator("table").get_by_text("Nia Jones").wait_for()
    assert link not in page.content()
    check_page(page, "staff-users")


def _token(page: Page) -> None:
    open_section(page, "API tokens")
    page.get_by_role("button", name="Make a token").click()
    page.get_by_label("Name").fill("Patient administration system")
    page.get_by_label("North Street Clinic").check()
    page.get_by_label("Import and update patients").check()
    page.get_by_label("Import, move and cancel appointments").check()
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2027")
    check_page(page, "staff-token-new")
    page.get_by_role("button", name="Make token").click()
    assert page.locator("#secret").inner_text().startswith("ws_")
    _check_secret_page(page)
    page.get_by_role("link", name="Go to API tokens").click()
    page.get_by_role("link", name="Revoke Patient administration system").click()
    check_page(page, "staff-token-revoke")
    page.get_by_role("button", name="Revoke token").click()
    row = page.locator("tr", has_text="Patient administration system")
    assert "Revoked" in row.inner_text()
    check_page(page, "staff-tokens")


def test_an_admin_manages_templates_settings_users_and_tokens(
    page: Page, base_url: str, desk: StaffDesk, world: World
) -> None:
    north = world.clinic("north")
    north.name = "North Street Clinic"
    north.organisation.name = "Riverside NHS Trust"
    db.session.commit()
    admin = desk.member(Role.ADMIN, name="Ade Admin")
    desk.member(Role.CLINIC_MANAGER, ["north"], name="Mo Khan")
    create_token(
        label="Results dashboard",
        clock=desk.clock,
        organisation_id=north.organisation_id,
        scopes=["results:read", "attendance:read"],
    )
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, admin)
    _templates(page, base_url)
    _refused_wording(page)
    _settings(page)
    _invite(page)
    _token(page)
    assert refused == []
