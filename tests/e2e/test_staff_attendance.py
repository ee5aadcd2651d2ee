"""A clinic manager reads attendance as a board does, in Chromium: every clinic's latest
DNA rate with its icons, one clinic's SPC chart (given a target, and a new period from
the month its process changed), its breakdowns, and the clinics on a funnel plot. Each
page is checked by axe-core and saved as a screenshot, at a laptop's size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.clinics.roles import Role
from app.core.clock import FixedClock
from tests.attendance.boardroom import CLINICS, boardroom
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_a_manager_reads_attendance_as_a_board_does(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    room = boardroom(world, clock)
    north = room.clinics["north"]
    manager = desk.member(Role.CLINIC_MANAGER, name="Grace Obi")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, manager)

    # Every clinic, from the header's navigation: two years to last month (February).
    page.get_by_role("link", name="Attendance", exact=True).first.click()
    page.wait_for_url(f"{base_url}/staff/attendance")
    assert page.get_by_role("heading", level=1).inner_text() == "Attendance"
    board = page.locator("table.wesaid-board")
    assert board.locator("tbody tr").count() == len(CLINICS)
    north_row = board.locator("tbody tr", has_text="North Street Physiotherapy")
    assert "Special cause improvement" in north_row.inner_text()
    assert "Feb 2026: 7 of 120" in north_row.inner_text()
    east_row = board.locator("tbody tr", has_text="Eastgate Children's Clinic")
    assert "Special cause concern" in east_row.inner_text()
    assert "missed consistently" in east_row.inner_text()
    check_page(page, "staff-attendance")

    # North's chart: one point a month.
    page.get_by_role("link", name="North Street Physiotherapy").click()
    page.wait_for_url(f"{base_url}/staff/attendance/{north.id}?first=2024-03&last=2026-02")
    chart = page.locator("svg#dna")
    assert chart.locator(".point").count() == len(room.months["north"])
    assert chart.locator(".mean").count() == 1

    # Its process changed in July 2025: a new period starts there.
    page.get_by_label("Month the new period starts").select_option("2025-07")
    page.get_by_role("button", name="Start a new period").click()
    page.get_by_text("A new period starts in July 2025.").wait_for()
    assert chart.locator(".point").count() == len(room.months["north"])
    assert chart.locator(".mean").count() == 2
    assert "July 2025" in page.locator(".wesaid-rebase-list").inner_text()

    # Its target moves to 8%.
    page.get_by_label("Target DNA rate").fill("8")
    page.get_by_role("button", name="Save target").click()
    page.get_by_text("Target saved: 8.0%.").wait_for()
    assert chart.locator(".target").count() == 1
    check_page(page, "staff-attendance-clinic")

    # The table behind the chart opens from its link.
    page.get_by_role("link", name="Table of the numbers in this chart").click()
    page.locator("#dna-table").wait_for()

    # Who misses appointments there.
    page.get_by_role(
        "link", name="DNA rates by patient group, reminder and booking lead time"
    ).click()
    page.wait_for_url(f"{base_url}/staff/attendance/{north.id}/breakdowns")
    assert page.get_by_role("heading", level=1).inner_text() == "DNA rates by group"
    assert page.locator("section.wesaid-chart").count() >= 6
    notice = page.get_by_role("heading", name="Cancellations by patients, by notice given")
    assert notice.count() == 1
    check_page(page, "staff-attendance-breakdowns")

    # The clinics compared over the last year.
    page.get_by_role("link", name="Attendance", exact=True).first.click()
    page.get_by_role("link", name="Compare the clinics on a funnel plot").click()
    page.wait_for_url(f"{base_url}/staff/attendance/funnel")
    funnel = page.locator("svg#funnel")
    assert funnel.locator(".unit").count() == len(CLINICS)
    check_page(page, "staff-attendance-funnel")
    assert refused == []
