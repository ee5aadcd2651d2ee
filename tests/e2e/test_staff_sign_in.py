"""Signing in to the workspace in Chromium: an admin with their authenticator code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.clinics.roles import Role
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_an_admin_signs_in_with_a_code(
    page: Page, base_url: str, desk: StaffDesk, world: World
) -> None:
    world.clinic("north")
    admin = desk.member(Role.ADMIN, name="Ade Admin")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base_url}/staff/sign-in")
    check_page(page, "staff-sign-in")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("There is a problem")
    check_page(page, "staff-sign-in-error")
    sign_in(page, base_url, desk, admin)
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Ade Admin"
    check_page(page, "staff-home")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/staff/sign-in")
    assert refused == []
