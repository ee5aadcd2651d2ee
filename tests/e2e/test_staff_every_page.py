"""Every workspace page in Chromium, as an admin sees it, passes axe-core.

The pages come from `app.url_map` (every GET route under /staff, with arguments naming
rows of a seeded clinic, as the isolation test builds them), so a new page is checked
the day it is added. Pages the areas' own browser tests drive through their flows are
checked here too, in the state a plain visit leaves them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from app.clinics.roles import Role
from app.core.clock import FixedClock
from tests.e2e.browser import axe_violations, blocking, describe
from tests.e2e.staff import DESKTOP, sign_in, watch_policy
from tests.web.routes import methods, rules, seed, url_for_rule
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_every_page_an_admin_opens_passes_axe(
    app: Flask, page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = seed(world, clock)
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, desk.member(Role.ADMIN, name="Ade Admin"))
    checked, failures = [], []
    for rule in rules(app):
        if not rule.rule.startswith("/staff") or "GET" not in methods(rule):
            continue
        if rule.endpoint in ("staff_auth.welcome", "staff_auth.enrol", "staff_auth.second_factor"):
            continue  # pages of signing in, checked signed out in test_staff_sign_in
        url = url_for_rule(app, rule, north)
        # Downloads (reports, exports) are not pages: ask first, with the page's session.
        ahead = page.request.get(base_url + url, max_redirects=0)
        assert ahead.status < 500, f"{url}: {ahead.status}"
        if ahead.status != 200 or "text/html" not in ahead.headers.get("content-type", ""):
            continue
        if not ahead.text().lstrip().lower().startswith("<!doctype html>"):
            continue  # a part of a page for htmx, checked inside its page
        page.goto(base_url + url)
        checked.append(url)
        found = blocking(axe_violations(page))
        if found:
            failures.append(f"{url}:\n{describe(found)}")
    assert failures == []
    assert refused == []
    assert len(checked) >= 15, checked
