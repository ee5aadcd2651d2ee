"""Reads about experiments: which a staff member may see (all of an experiment's clinics
in their scope), their progress in one read, and free slugs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from app.appointments.models import Appointment
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import NotFound
from app.experiments.assigning import assign_experiment
from app.experiments.models import Experiment, ExperimentAssignment
from app.experiments.queries import (
    experiments_within,
    free_slug,
    get_experiment_within,
    progress_within,
)
from app.experiments.service import create_experiment
from app.experiments.spec import parse_definition
from app.extensions import db
from app.messaging.states import MessageState as M
from tests.experiments.test_service import SOON, S
from tests.experiments.test_spec import raw
from tests.world import World


@pytest.fixture
def scene(world: World) -> dict[str, Clinic]:
    return {
        "north": world.clinic("north"),
        "south": world.clinic("south"),
        "west": world.clinic("west", "other"),
    }


def _experiment(slug: str, clinics: list[str], clock: FixedClock, **changes: Any) -> Experiment:
    return create_experiment(
        parse_definition(raw(slug=slug, clinics=clinics, **changes)), clock, start=False
    )


def test_an_experiment_is_within_a_scope_only_with_all_its_clinics(
    scene: dict[str, Clinic], clock: FixedClock
) -> None:
    north, south, west = (scene[name].id for name in ("north", "south", "west"))
    one = _experiment("one", ["north"], clock)
    both = _experiment("both", ["north", "south"], clock)
    other = _experiment("other", ["west"], clock)
    assert experiments_within({north}) == [one]
    assert experiments_within({north, south}) == [both, one]  # newest first
    assert experiments_within({north, south, west}) == [other, both, one]
    assert experiments_within(set()) == []
    assert get_experiment_within(both.id, {north, south}) is both
    for experiment_id, clinics in ((both.id, {north}), (other.id, {north}), (999, {north})):
        with pytest.raises(NotFound):
            get_experiment_within(experiment_id, clinics)


def test_progress_is_the_smaller_arm_s_outcomes_against_the_plan(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    running = create_experiment(
        parse_definition(raw(slug="run", clinics=["north"], planned_n_per_arm=4)), clock
    )
    _experiment("idle", ["south"], clock)
    patient = world.patient(scene["north"], "p-1")
    for _ in range(12):
        world.add(patient, SOON, S.BOOKED, reminders=[M.PENDING])
    assign_experiment("run", clock)
    arms: dict[str, list[int]] = {"A": [], "B": []}
    for appointment_id, arm in db.session.execute(
        select(ExperimentAssignment.appointment_id, ExperimentAssignment.arm)
    ):
        arms[arm].append(appointment_id)
    outcomes = {"A": [S.DNA, S.ATTENDED, S.ATTENDED], "B": [S.ATTENDED, S.CANCELLED_PATIENT]}
    for arm, statuses in outcomes.items():
        for appointment_id, status in zip(arms[arm], statuses, strict=False):
            db.session.execute(
                update(Appointment).where(Appointment.id == appointment_id).values(status=status)
            )
    db.session.commit()
    found = {p.experiment.slug: p for p in progress_within({scene["north"].id, scene["south"].id})}
    assert (found["idle"].n_per_arm, found["idle"].assigned, found["idle"].fraction) == (0, 0, 0)
    assert found["run"].experiment is running
    assert found["run"].assigned == 12
    assert found["run"].n_per_arm == 1  # B: one attended (a cancellation is no outcome)
    assert found["run"].fraction == 0.25


@pytest.mark.parametrize(
    ("title", "taken", "slug"),
    [
        ("Stating the cost!", [], "stating-the-cost"),
        ("Stating the cost", ["stating-the-cost"], "stating-the-cost-2"),
        ("Stating the cost", ["stating-the-cost", "stating-the-cost-2"], "stating-the-cost-3"),
        ("Ŵyn — ŷd", [], "wyn-yd"),
        ("日本", [], "experiment"),
        ("a" * 80, [], "a" * 56),
    ],
)
def test_a_slug_is_made_from_the_title_and_never_taken(
    scene: dict[str, Clinic], clock: FixedClock, title: str, taken: list[str], slug: str
) -> None:
    for name in taken:
        _experiment(name, ["north"], clock)
    assert free_slug(title) == slug
