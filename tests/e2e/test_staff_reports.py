"""An analyst asks for the month's board report in Chromium: the form on the board report
page, the report's page while it waits for a worker, and its download, a PDF with every
clinic's chart. Each page is checked by axe-core."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from flask import Flask
from pypdf import PdfReader
from redis import Redis

from app.clinics.roles import Role
from app.core.clock import FixedClock
from tests.attendance.boardroom import CLINICS, boardroom
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.web.test_imports import work
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_an_analyst_asks_for_and_downloads_the_board_report(
    page: Page,
    base_url: str,
    app: Flask,
    redis_conn: Redis,
    desk: StaffDesk,
    world: World,
    clock: FixedClock,
) -> None:
    boardroom(world, clock)
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, desk.member(Role.ANALYST, name="Ana Lyst"))

    page.get_by_role("link", name="Board report", exact=True).first.click()
    page.wait_for_url(f"{base_url}/staff/reports")
    assert page.get_by_role("heading", level=1).inner_text() == "Board report"
    page.get_by_label("Month").select_option("2026-02")
    check_page(page, "staff-board-report")
    page.get_by_role("button", name="Make the board report").click()
    page.get_by_text("Waiting to start").wait_for()
    check_page(page, "staff-board-report-waiting")

    work(app, redis_conn)  # a worker lays it out
    page.reload()
    page.get_by_text("Ready").first.wait_for()
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download the board report (PDF)").click()
    download = downloading.value
    assert download.suggested_filename.endswith("-2026-02.pdf")
    reader = PdfReader(io.BytesIO(download.path().read_bytes()))
    text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
    assert "Board report: February 2026" in text
    for _slug, name, *_rest in CLINICS:
        assert f"DNA rate by month, {name}" in text
    page.get_by_role("link", name="Back to board reports").click()
    page.locator("table").get_by_text("Ready").first.wait_for()
    check_page(page, "staff-board-reports")
    assert refused == []
