"""Erasure and the audit log in Chromium: an admin signs in with their code, erases a
patient and finds the erasure in the audit log; an auditor downloads the log. Each page
is checked by axe-core and saved as a screenshot at 1280 by 800."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.e2e.browser import axe_violations, blocking, describe
from tests.e2e.staff import DESKTOP, check_page, open_section, sign_in, watch_policy
from tests.privacy.rows import received, sent, sid, surveyed
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_an_admin_erases_a_patient_then_finds_it_in_the_audit_log(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "PX-31", given_name="Morwenna", family_name="Tregothnan")
    world.book(north, "A-1", "PX-31", clock.now().replace(day=20, hour=14))
    sent(patient, "Morwenna, your appointment is on Friday", clock.now(), provider_sid=sid())
    received(north, patient.phone, "Thank you", clock.now(), patient=patient)
    surveyed(north, patient, clock.now(), "1", "The physio was brilliant")
    db.session.commit()
    admin = desk.member(Role.ADMIN, name="Ade Admin")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, admin)

    page.goto(f"{base_url}/staff/patients/{patient.id}/erase")
    assert (
        page.get_by_role("heading", level=1).inner_text().endswith("Erase this patient's details")
    )
    assert "Morwenna Tregothnan" in page.locator("main").inner_text()
    check_page(page, "staff-erase")

    page.get_by_label("Patient ID").fill("PX-3")
    page.get_by_role("button", name="Erase patient").click()
    assert page.get_by_role("alert").inner_text().startswith("There is a problem")
    page.get_by_label("Patient ID").fill("PX-31")
    page.get_by_role("button", name="Erase patient").click()
    page.get_by_role("heading", level=1, name="Patient details erased").wait_for()
    assert "Morwenna" not in page.locator("main").inner_text()
    check_page(page, "staff-erased")

    page.get_by_role("link", name="Go to the audit log").click()
    page.wait_for_url(f"{base_url}/staff/audit")
    page.get_by_label("Action").select_option("erase_patient")
    with page.expect_navigation():  # the search posts: the address stays the same
        page.get_by_role("button", name="Search").click()
    rows = page.locator("table.wesaid-audit-table tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "Erased a patient" in row
    assert f"patient {patient.id}" in row
    assert "Ade Admin" in row
    assert admin.email in row
    page.get_by_label("Action").select_option("")
    page.get_by_role("button", name="Search").click()
    check_page(page, "staff-audit")
    assert refused == []


def test_an_auditor_downloads_the_log(
    page: Page, base_url: str, desk: StaffDesk, world: World, tmp_path: Path
) -> None:
    world.clinic("north")
    auditor = desk.member(Role.AUDITOR, name="Aud Itor")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, auditor)
    open_section(page, "Audit log")
    page.wait_for_url(f"{base_url}/staff/audit")
    found = blocking(axe_violations(page))
    assert found == [], describe(found)
    with page.expect_download() as started:
        page.get_by_role("button", name="Download as CSV").click()
    download = started.value
    assert download.suggested_filename.startswith("audit-log-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["when_utc", "action", "who"]
    assert ["sign_in", f"Aud Itor ({auditor.email})"] in [row[1:3] for row in rows[1:]]
    assert refused == []
