"""Experiment analysis from per-arm counts: looks, fractions, empty arms, JSON."""

from __future__ import annotations

import json
import math

import pytest

from app.experiments.analysis import ArmCounts, analyse, earlier_looks, json_safe
from app.experiments.rules import decide
from app.experiments.stats import compare_proportions


@pytest.mark.parametrize(
    ("recorded", "fraction", "looks"),
    [
        ([], 0.5, []),
        ([0.2, 0.2, 0.5], 0.9, [0.2, 0.5]),  # the same look recorded twice counts once
        ([0.5, 0.5004], 0.9, [0.5]),  # closer than the minimum gap to the previous look
        ([0.3, 0.9], 0.9, [0.3]),  # re-running the current look is not an earlier one
        ([0.3, 0.8995], 0.9, [0.3]),
    ],
)
def test_earlier_looks_are_distinct_and_before_this_one(
    recorded: list[float], fraction: float, looks: list[float]
) -> None:
    assert earlier_looks(recorded, fraction) == looks


def test_the_decision_uses_the_smaller_arm_and_the_earlier_looks() -> None:
    arms = [ArmCounts("A", 700, 500, 100, 50, 50), ArmCounts("B", 700, 560, 80, 40, 20)]
    result = analyse("x", arms, planned_n_per_arm=1200, recorded_looks=[0.25])
    assert (result.n_per_arm, result.information_fraction) == (600, 0.5)
    assert result.comparison == compare_proportions(100, 600, 80, 640)
    assert (result.decision, result.reasons) == decide(result.comparison, 1200, 600, [0.25])
    assert [(a.arm, a.n, a.pending) for a in result.arms] == [("A", 600, 50), ("B", 640, 20)]


def test_an_arm_without_outcomes_gives_no_decision() -> None:
    arms = [ArmCounts("A", 3, 2, 1, 0, 0), ArmCounts("B", 2, 0, 0, 1, 1)]
    result = analyse("x", arms, planned_n_per_arm=10)
    assert (result.comparison, result.decision) == (None, None)
    assert result.reasons == ["no attended or DNA appointments yet in arm B"]
    assert "Decision: none yet" in result.render_text()


def test_the_json_is_plain() -> None:
    assert json_safe({"ci": (0.1, math.inf), "n": [1, (2, 3)]}) == {
        "ci": [0.1, None],
        "n": [1, [2, 3]],
    }
    arms = [ArmCounts("A", 10, 5, 5, 0, 0), ArmCounts("B", 10, 10, 0, 0, 0)]
    data = analyse("x", arms, planned_n_per_arm=10).to_json()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
