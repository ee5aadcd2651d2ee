"""Signing staff in through the real pages in Chromium, and checking each staff page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tests.e2e.browser import ROOT, axe_violations, blocking, describe, watch_policy
from tests.web.staff import Member, StaffDesk

if TYPE_CHECKING:
    from playwright.sync_api import Page

SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
#: A laptop screen, as most staff use the workspace.
DESKTOP = {"width": 1280, "height": 800}


def sign_in(page: Page, base_url: str, desk: StaffDesk, member: Member) -> None:
    """Sign `member` in with the sign-in form (and their authenticator code, if asked)."""
    page.goto(f"{base_url}/staff/sign-in")
    page.get_by_label("Email address").fill(member.email)
    page.get_by_label("Password").fill(member.password)
    page.get_by_role("button", name="Sign in").click()
    if page.url.endswith("/staff/second-factor"):
        assert member.totp_secret is not None
        desk.clock.advance(timedelta(seconds=30))  # each code is good once
        page.get_by_label("Security code").fill(desk.code(member.totp_secret))
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base_url}/staff/")


def check_page(page: Page, name: str) -> Path:
    """Fail on any serious or critical axe-core finding; save a full-page screenshot as
    tests/e2e/screenshots/<name>.png and return its path."""
    found = blocking(axe_violations(page))
    assert found == [], describe(found)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["DESKTOP", "SCREENSHOTS", "check_page", "sign_in", "watch_policy"]


def open_section(page: Page, name: str) -> None:
    """Follow the header's link to a workspace area; on a narrow screen, or with many
    areas, the design system folds the last of them under "More", opened first."""
    link = page.locator("header").get_by_role("link", name=name, exact=True).first
    if not link.is_visible():
        page.locator("header .nhsuk-header__menu-toggle").click()
    link.click()
