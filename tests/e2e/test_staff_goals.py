"""A clinician works with a patient's goals in Chromium: adds one in the patient's words,
reads each goal's chart on the timeline, turns one goal's large chart toward the patient
and records today's score, and closes a goal that changed. Each page is checked by
axe-core and saved as a screenshot, at a laptop's size."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from app.audit.service import SYSTEM
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from app.goals import service as goals
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.goals.cohort import OPENED, SPECS, goal_cohort
from tests.web.staff import StaffDesk
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page

WALK = "Walk to the shops on my own"
SLEEP = "Sleep through the night without waking"


def _scored(patient_id: int, clock: FixedClock, text: str, scores: list[int]) -> int:
    goal = goals.open_goal(patient_id, goals.GoalInput(text, "en", score=scores[0]), SYSTEM, clock)
    for score in scores[1:]:
        clock.advance(timedelta(days=14))
        goals.record_score(goal.id, score, SYSTEM, clock)
    return goal.id


def test_a_clinician_works_with_a_patients_goals(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north", org="trust")
    north.name = "North Street Physiotherapy"
    db.session.commit()
    patient = world.patient(north, "P-204", given_name="Maria", family_name="Kowalska", locale="pl")
    walk = _scored(patient.id, clock, WALK, [2, 3, 5, 6])
    _scored(patient.id, clock, SLEEP, [4])
    clinician = desk.member(Role.CLINICIAN, name="Sam Reid")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, clinician)

    # A third goal, in Polish with its English translation.
    page.goto(f"{base_url}/staff/patients/{patient.id}/goals/new")
    page.get_by_label("The language the goal is written in").select_option("pl")
    page.get_by_label("The goal, in the patient's own words").fill("Chodzić po schodach bez laski")
    page.get_by_role("button", name="Save the goal").click()
    page.get_by_text("Write the goal in English too").first.wait_for()
    check_page(page, "staff-goal-new")
    page.get_by_label("The goal in English").fill("Climb the stairs without a stick")
    page.get_by_label("How close the patient is now").select_option("1")
    page.get_by_role("button", name="Save the goal").click()
    page.wait_for_url(f"{base_url}/staff/patients/{patient.id}#goals")

    # The timeline: each goal with its chart, latest score and change since the first.
    section = page.locator("section[aria-labelledby=goals]")
    cards = section.locator(".wesaid-goal")
    assert cards.count() == 3
    first = cards.nth(0)
    assert WALK in first.inner_text()
    assert "6 out of 10, +4 since the first score" in first.inner_text()
    assert "Reliable improvement" in first.inner_text()
    assert first.locator("svg .point").count() == 4
    assert "No follow-up yet" in cards.nth(1).inner_text()
    assert "Climb the stairs without a stick" in cards.nth(2).inner_text()
    section.scroll_into_view_if_needed()
    check_page(page, "staff-goals")

    # Turned toward the patient: the goal large, and today's score recorded.
    first.get_by_role("link", name="Show this goal to the patient").click()
    page.wait_for_url(f"{base_url}/staff/patients/{patient.id}/goals/{walk}")
    assert page.locator(".wesaid-goal__chart--large svg .point").count() == 4
    check_page(page, "staff-goal-patient-view")
    page.get_by_label("8", exact=True).check()
    page.get_by_role("button", name="Record the score").click()
    page.get_by_text("Score recorded.").wait_for()
    assert page.locator(".wesaid-goal__chart--large svg .point").count() == 5
    assert "+6" in page.locator(".wesaid-goal__figures").inner_text()

    # The second goal changed: closed, and its score kept.
    page.goto(f"{base_url}/staff/patients/{patient.id}#goals")
    section.locator(".wesaid-goal", has_text=SLEEP).get_by_role(
        "link", name="Close this goal"
    ).click()
    page.get_by_label("Changed").check()
    check_page(page, "staff-goal-close")
    page.get_by_role("button", name="Close the goal").click()
    page.get_by_text("Goal closed. Its scores are kept.").wait_for()
    closed = section.locator(".wesaid-goal", has_text=SLEEP)
    assert "Changed" in closed.inner_text()
    assert refused == []


def test_a_manager_reads_the_services_goal_outcomes(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north", org="trust")
    north.name = "North Street Physiotherapy"
    db.session.commit()
    goal_cohort(north, SPECS, OPENED)
    manager = desk.member(Role.CLINIC_MANAGER, name="Grace Obi")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, manager)
    page.get_by_role("link", name="Goals", exact=True).first.click()
    page.wait_for_url(f"{base_url}/staff/goals")
    assert page.get_by_role("heading", level=1).inner_text() == "Goal outcomes"
    figures = page.locator(".nhsuk-summary-list").inner_text()
    assert "25.0% (95% interval" in figures
    assert page.locator("svg#goal-changes .bar").count() == 5
    check_page(page, "staff-goal-outcomes")
    assert refused == []


def test_a_manager_says_which_pathways_ask_for_goals_scores(
    page: Page, base_url: str, desk: StaffDesk, world: World
) -> None:
    north = world.clinic("north", org="trust")
    north.name = "North Street Physiotherapy"
    db.session.commit()
    manager = desk.member(Role.CLINIC_MANAGER, ["north"], name="Ana Price")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, manager)

    page.goto(f"{base_url}/staff/settings/{north.id}")
    page.get_by_role("link", name="Pathways that ask for goals' scores").click()
    page.wait_for_url(f"{base_url}/staff/settings/{north.id}/goals")
    page.get_by_label("Pathway").fill("brain-injury-rehab")
    page.get_by_label("Hours before each appointment").fill("48")
    page.get_by_role("button", name="Save").click()
    page.locator("#goal-pathways-table").wait_for()
    assert "brain-injury-rehab" in page.locator("#goal-pathways-table").inner_text()
    check_page(page, "staff-goal-pathways")

    page.get_by_label("Hours before each appointment").fill("a week")
    page.get_by_label("Pathway").fill("physio")
    page.get_by_role("button", name="Save").click()
    page.locator(".nhsuk-error-summary").wait_for()
    assert "Enter a whole number of hours from 1 to 672" in page.content()
    check_page(page, "staff-goal-pathways-error")
    assert refused == []
