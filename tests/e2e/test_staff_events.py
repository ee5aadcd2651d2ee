"""A clinic manager's events pages in Chromium: subscribe the test's own receiver (the
secret shown once), set the FHIR write-back, watch a failed delivery in the delivery
log with its attempts, last status and next retry, then revoke the subscription.
axe-core checks every page; each page but the one showing a secret is saved as a
screenshot at 1280x800."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from redis import Redis

from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.e2e.browser import axe_violations, blocking, describe
from tests.e2e.staff import DESKTOP, check_page, open_section, sign_in, watch_policy
from tests.events.conftest import Booked, Courier, reply
from tests.events.receiver import Receiver
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def _subscribe(page: Page, receiver: Receiver) -> None:
    open_section(page, "Settings")
    page.get_by_role("link", name="Events for your other systems, and the FHIR write-back").click()
    check_page(page, "staff-events-empty")
    page.get_by_role("button", name="Add an address").click()
    page.get_by_label("Address (URL)").fill(receiver.url)
    page.get_by_label("Description (optional)").fill("Patient administration system")
    page.get_by_label("A patient cancelled an appointment").check()
    page.get_by_label("A patient opted out of messages").check()
    check_page(page, "staff-events-new")
    page.get_by_role("button", name="Add address").click()
    assert page.locator("#secret").inner_text().startswith("whsec_")
    found = blocking(axe_violations(page))
    assert found == [], describe(found)
    page.get_by_role("link", name="Go to events").click()


def _fhir(page: Page) -> None:
    page.get_by_role("link", name="Change the FHIR write-back").click()
    page.get_by_label("FHIR server base URL").fill("http://127.0.0.1:9/fhir")  # refuses
    page.get_by_label("Appointment identifier system").fill(
        "https://pas.example.nhs.uk/appointment-id"
    )
    check_page(page, "staff-events-fhir")
    page.get_by_role("button", name="Save").click()
    page.locator("main").get_by_text("written back").first.wait_for()
    check_page(page, "staff-events")


def test_a_manager_subscribes_reads_the_delivery_log_and_revokes(
    page: Page,
    base_url: str,
    desk: StaffDesk,
    world: World,
    app: Flask,
    redis_conn: Redis,
    clock: FixedClock,
    receiver: Receiver,
) -> None:
    north = world.clinic("north")
    north.name = "North Street Clinic"
    db.session.commit()
    patient = world.patient(north, "P-1", given_name="Gwenllian")
    appointment = world.book(north, "APPT-1", "P-1", clock.now().replace(day=9))
    manager = desk.member(Role.CLINIC_MANAGER, ["north"], name="Mo Khan")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, manager)
    _subscribe(page, receiver)
    _fhir(page)

    receiver.answer(500)
    reply(Booked(north, patient, appointment), "2", clock)
    courier = Courier(app, redis_conn)
    courier.round()
    page.get_by_role("link", name="Delivery log").click()
    log = page.locator("#delivery-log")
    webhook_row = log.locator("tr", has_text=receiver.url)
    assert "A patient cancelled an appointment" in webhook_row.inner_text()
    assert "HTTP 500" in webhook_row.inner_text()
    assert "Waiting" in webhook_row.inner_text()
    assert "Gwenllian" not in page.content()
    assert "P-1" not in page.content()
    check_page(page, "staff-events-log")

    page.get_by_role("link", name="Events", exact=True).click()
    page.get_by_role("button", name=f"Revoke {receiver.url}").click()
    page.locator("#subscriptions-table").get_by_text("Revoked").wait_for()
    assert refused == []
