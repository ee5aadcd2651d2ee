"""A receptionist's day in Chromium: sign in, handle a reply that was not understood with
a note (in place, with htmx), find a patient by phone number, read their timeline and
change their language. Each page is checked by axe-core and saved as a screenshot, at a
laptop's size and (the timeline) a phone's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import InboundState, MessageState
from app.patients.models import Patient
from tests.casework import cases
from tests.e2e.browser import PHONE_SCREEN
from tests.e2e.staff import DESKTOP, check_page, open_section, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _a_morning(world: World, clock: FixedClock) -> cases.Desk:
    """A clinic with something of every kind to do, and a patient with some history."""
    north = world.clinic("north")
    north.name = "North Street Physiotherapy"
    db.session.commit()
    made = cases.every_kind(world, clock, north, "NS-1042")
    patient = made.patient
    patient.given_name, patient.family_name = "Amara", "Okafor"
    world.patient(north, "NS-2210", given_name="Tomasz", family_name="Nowak", locale="pl")
    db.session.commit()
    booked = world.book(north, "A-301", "NS-1042", datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    week_before = db.session.scalar(
        select(OutboundMessage).where(
            OutboundMessage.appointment_id == booked.id, OutboundMessage.rule == "7d"
        )
    )
    assert week_before is not None
    sent_at = clock.now() - timedelta(days=1)
    week_before.state, week_before.accepted_at = MessageState.DELIVERED, sent_at
    week_before.due_at = week_before.claimed_at = sent_at - timedelta(seconds=30)
    week_before.delivered_at = sent_at + timedelta(seconds=4)
    week_before.body = (
        "North Street Physiotherapy: your appointment is on Tuesday 10 March at 09:30. "
        "Reply 1 to confirm, 2 to cancel, 3 for a new time."
    )
    week_before.encoding, week_before.segments = "GSM-7", 1
    db.session.add(
        InboundMessage(
            provider_sid="SM" + "5" * 32,
            clinic_id=north.id,
            patient_id=patient.id,
            appointment_id=booked.id,
            from_number=patient.phone,
            to_number=north.sender,
            body="1",
            state=InboundState.PROCESSED,
            intent="confirm",
            received_at=sent_at + timedelta(minutes=20),
            processed_at=sent_at + timedelta(minutes=20),
        )
    )
    made.reply.body = "Can my daughter come in with me? She translates for me."
    db.session.commit()
    return made


def test_a_receptionist_works_through_the_morning(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    made = _a_morning(world, clock)
    receptionist = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, receptionist)

    # Today: the worklist, from the header's navigation.
    open_section(page, "Today")
    page.wait_for_url(f"{base_url}/staff/worklist")
    assert page.get_by_role("heading", level=1).inner_text() == "Today"
    check_page(page, "staff-worklist")

    # Handle the reply that was not understood, with a note: htmx replaces the item.
    item = page.locator(f"#item-flagged_reply-{made.reply.id}")
    item.get_by_text("Mark as handled", exact=True).first.click()
    item.get_by_label("Note (optional)").fill("Called her: her daughter is welcome to come.")
    item.get_by_role("button", name="Mark as handled").click()
    handled = page.locator(f"#item-flagged_reply-{made.reply.id}")
    handled.get_by_role("status").wait_for()
    assert "by Rita Patel" in handled.inner_text()
    assert "her daughter is welcome" in handled.inner_text()
    assert page.url == f"{base_url}/staff/worklist"  # in place: no new page
    check_page(page, "staff-worklist-handled")

    # Find the patient by their number, typed as they would say it.
    open_section(page, "Patients")
    page.wait_for_url(f"{base_url}/staff/patients")
    page.get_by_label("Name, phone number or patient ID").fill("07400 100001")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="1 patient found").wait_for()
    assert page.url == f"{base_url}/staff/patients"  # the number went in the form, not the URL
    check_page(page, "staff-patient-search")

    # Their timeline; change their language.
    page.get_by_role("link", name="Amara Okafor").click()
    page.wait_for_url(f"{base_url}/staff/patients/{made.patient.id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Amara Okafor"
    check_page(page, "staff-patient-timeline")
    page.get_by_text("Change channel or language", exact=True).last.click()
    page.get_by_label("Language").select_option("pl")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved. Messages use the new channel and language from now on.").wait_for()
    assert "Polish (polski)" in page.locator(".nhsuk-summary-list").first.inner_text()
    db.session.expire_all()
    stored = db.session.get(Patient, made.patient.id)
    assert stored is not None
    assert stored.locale == "pl"

    page.set_viewport_size(PHONE_SCREEN)
    page.reload()
    check_page(page, "staff-patient-timeline-phone")
    assert refused == []
