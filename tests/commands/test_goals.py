"""`wesaid goals pathway` and `wesaid goals pathways` through the Flask CLI runner."""

from __future__ import annotations

from typing import Any

from app.goals.service import pathway_hours
from tests.world import World


def test_a_pathway_is_set_listed_and_removed(runner: Any, world: World) -> None:
    north = world.clinic("north")
    found = runner.invoke(
        args=["goals", "pathway", "--clinic", "north", "--pathway", "physio", "--hours", "48"]
    )
    assert found.exit_code == 0, found.output
    assert pathway_hours(north.id) == {"physio": 48}
    listed = runner.invoke(args=["goals", "pathways", "--clinic", "north"])
    assert listed.output == "physio\t48 hours before\n"
    removed = runner.invoke(
        args=["goals", "pathway", "--clinic", "north", "--pathway", "physio", "--remove"]
    )
    assert removed.output.strip() == "north: physio no longer uses goals"
    assert pathway_hours(north.id) == {}


def test_bad_hours_and_unknown_clinics_are_refused(runner: Any, world: World) -> None:
    world.clinic("north")
    for args in (
        ["--clinic", "north", "--pathway", "physio", "--hours", "0"],
        ["--clinic", "north", "--pathway", "Physio Two", "--hours", "24"],
        ["--clinic", "north", "--pathway", "physio"],
        ["--clinic", "nowhere", "--pathway", "physio", "--hours", "24"],
    ):
        refused = runner.invoke(args=["goals", "pathway", *args])
        assert refused.exit_code != 0, args
        assert refused.output.startswith("error: "), refused.output
