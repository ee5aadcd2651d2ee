"""An analyst reads a clinic's survey results and who is not heard in Chromium: every chart
is drawn as an SVG with a point (or bar) for each figure, the choice of month works
without JavaScript, and both pages pass axe-core (screenshots staff-results.png and
staff-heard.png)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.results import cohorts
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page

MONTHS = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]


def test_an_analyst_reads_the_results_and_who_is_not_heard(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north", org="trust")
    north.name = "North Street Physiotherapy"
    db.session.commit()
    snapshots = cohorts.survey_months(north, MONTHS, 400)
    latest = snapshots[-1]
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, desk.member(Role.ANALYST, org="trust", name="Ana Lyst"))
    page.get_by_role("link", name="Results", exact=True).first.click()
    page.wait_for_url(f"{base_url}/staff/results")

    # Every chart is an SVG image with a point or bar for each figure.
    charts = page.locator(".wesaid-chart__figure svg[role=img]")
    questions = [q for q in latest.questions or [] if q.get("options") or q.get("mean")]
    shown = [q for q in questions if not (q.get("options") or [q.get("mean")])[0].get("suppressed")]
    assert charts.count() == 3 + len(shown)  # FFT, its trend, responses, each question
    assert page.locator("#fft .bar-value").count() == 4
    assert page.locator("#fft-trend .point").count() == 3 * len(MONTHS)
    assert page.locator("#response-trend .point").count() == 2 * len(MONTHS)
    for index, question in enumerate(latest.questions or [], start=1):
        if question in shown:
            bars = len(question["options"]) if question.get("options") else 2
            assert page.locator(f"#q{index} .bar-value").count() == bars
    assert page.get_by_text("Not shown: fewer than 10 responses.").count() == 1
    check_page(page, "staff-results")

    # An earlier month, chosen with the form (a GET: no JavaScript needed).
    page.get_by_label("Month", exact=True).select_option("2026-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**month=2026-01**")
    assert page.get_by_role("heading", name="After your visit, January 2026").count() == 1
    assert page.locator("#fft-trend .point").count() == 3 * (len(MONTHS) - 1)

    page.get_by_role("link", name="Who is not heard").click()
    page.wait_for_url("**/staff/results/heard?**month=2026-01**")
    levels = snapshots[-2].nonresponse["levels"]
    for variable, prefix in (
        ("age_band", "rates-age-band"),
        ("sex", "rates-sex"),
        ("ethnic", "rates-ethnic"),
        ("imd", "rates-imd"),
        ("language", "rates-language"),
        ("channel", "rates-channel"),
    ):
        groups = [r for r in levels if r["variable"] == variable]
        assert page.locator(f"#{prefix} .bar-value").count() == len(groups), variable
    assert page.locator("#r-indicator .point").count() == len(MONTHS) - 1
    assert page.locator("#differences .dot").count() == 2 * len(levels)
    assert page.get_by_role("heading", name="Age band: 75+").count() == 1
    assert page.get_by_text("Invite more of them by voice call.").count() == 1
    check_page(page, "staff-heard")
    assert refused == []
