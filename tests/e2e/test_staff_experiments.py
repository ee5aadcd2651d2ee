"""A clinic manager in Chromium: the experiments, one experiment's forest plots and
stopping boundary, a new experiment whose wording the lint refuses and then accepts,
started and stopped. Every page is checked by axe-core and saved as a screenshot at
1280x800."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.experiments.assigning import assign_experiment
from app.experiments.models import Experiment
from app.experiments.service import record_decision
from tests.e2e.staff import DESKTOP, check_page, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.web.test_experiments import COST_EN, arms_of, book, make_experiment, settle
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _experiments(world: World, clock: FixedClock) -> Experiment:
    """North's cost-wording experiment two looks in, and a draft."""
    north = world.clinic("north")
    world.clinic("south")
    experiment = make_experiment(
        "cost-wording",
        ["north"],
        clock,
        title="Stating the cost of a missed appointment",
        planned_n_per_arm=300,
    )
    book(world, north, 360)
    assign_experiment("cost-wording", clock)
    arms = arms_of(experiment.id)
    for seen, dna_a, dna_b in ((60, 13, 6), (120, 26, 12)):
        settle(arms["A"][:seen], dna=dna_a)
        settle(arms["B"][:seen], dna=dna_b)
        record_decision("cost-wording", clock)
    settle(arms["A"][:165], dna=36)
    settle(arms["B"][:165], dna=17)
    make_experiment("plain", ["north"], clock, start=False, title="Plain English reminder")
    return experiment


def test_a_clinic_manager_follows_an_experiment_and_runs_a_new_one(
    page: Page, base_url: str, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    running = _experiments(world, clock)
    manager = desk.member(Role.CLINIC_MANAGER, ["north", "south"], name="Mia Khan")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, manager)

    page.get_by_role("link", name="Experiments").first.click()
    page.wait_for_url(re.compile(r".*/staff/experiments$"))
    table = page.get_by_role("table")
    table.get_by_text("Running", exact=True).wait_for()
    table.get_by_text("Draft", exact=True).wait_for()
    table.get_by_text("165 of 300 per arm").wait_for()
    check_page(page, "staff-experiments")

    page.get_by_role("link", name="Stating the cost of a missed appointment").click()
    page.wait_for_url(re.compile(rf".*/staff/experiments/{running.id}$"))
    forest = page.locator("svg#risk-difference")
    assert forest.locator(".row").count() == 3  # two looks recorded, and now
    assert page.locator("svg#odds-ratio .estimate").count() == 3
    assert page.locator("svg#boundary .look").count() == 3
    assert page.locator("svg#boundary .boundary").count() == 1
    assert page.locator("#decisions-table tbody tr").count() == 2
    check_page(page, "staff-experiment")

    # A new experiment at south: the lint refuses CANCEL as a reply word.
    page.goto(f"{base_url}/staff/experiments")
    page.get_by_role("button", name="Create an experiment").click()
    page.get_by_label("Name of the experiment").fill("Naming the clinician")
    page.get_by_label("South").check()
    page.get_by_label("English").nth(1).fill(
        "%(clinic)s: Dr Rees expects you on %(date)s at %(time)s. Reply CANCEL to cancel."
    )
    page.get_by_role("button", name="Save as draft").click()
    summary = page.get_by_role("alert")
    summary.get_by_text("There is a problem").wait_for()
    summary.get_by_role("link").first.click()
    assert page.locator("#arm_b_en-error").inner_text().count("CANCEL") >= 1
    check_page(page, "staff-experiment-new")
    page.get_by_label("English").nth(1).fill(COST_EN)
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_text("The experiment is saved as a draft.").wait_for()
    page.get_by_text("There is nothing to compare yet").wait_for()
    check_page(page, "staff-experiment-draft")

    page.get_by_role("button", name="Start the experiment").click()
    page.get_by_text("The experiment has started.").wait_for()
    page.get_by_label("Why are you stopping it?").fill("The clinic is closing for building work")
    page.get_by_role("button", name="Stop the experiment").click()
    page.get_by_text("The experiment has stopped.").wait_for()
    page.locator("#decisions-table").get_by_text("building work").wait_for()
    assert refused == []
