"""An experiment's looks against its stopping boundary: each look's effects and |z|, the
looks a page shows, and the boundary path that `rules.decide` applies."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from app.experiments.analysis import ArmCounts, analyse
from app.experiments.monitoring import (
    GRID,
    BoundaryPoint,
    Effects,
    Look,
    boundary_path,
    current_look,
    looks_to_show,
    observed_z,
    recorded_look,
)
from app.experiments.sequential import obf_boundaries
from app.experiments.stats import compare_proportions

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Hallsworth et al. (2015), trial one, as the README reproduces it.
TRIAL = compare_proportions(280, 2528, 213, 2528)


@pytest.mark.parametrize(
    ("p_value", "z"),
    [(1.0, 0.0), (0.05, 1.959964), (0.01, 2.575829), (0.0026998, 3.0), (0.0, math.inf)],
)
def test_observed_z_is_the_normal_value_of_the_two_sided_p(p_value: float, z: float) -> None:
    assert observed_z(p_value) == pytest.approx(z, abs=1e-5)
    assert observed_z(p_value) >= 0.0  # never a rounding error below 0 (p = 1)


@pytest.mark.parametrize("p_value", [-0.1, 1.5, math.nan])
def test_a_p_value_outside_0_and_1_is_refused(p_value: float) -> None:
    with pytest.raises(ValueError, match="p-value"):
        observed_z(p_value)


def test_effects_of_a_comparison_and_of_its_stored_analysis_agree() -> None:
    now = Effects.of(TRIAL)
    assert (now.risk_difference, (now.rd_low, now.rd_high)) == (
        TRIAL.risk_difference,
        TRIAL.rd_ci,
    )
    assert (now.odds_ratio, now.or_low, now.or_high) == (TRIAL.odds_ratio, *TRIAL.or_ci)
    assert now.z == pytest.approx(observed_z(TRIAL.p_value))
    counts = [ArmCounts("A", 2528, 2248, 280, 0, 0), ArmCounts("B", 2528, 2315, 213, 0, 0)]
    stored = analyse("trial", counts, 2528).to_json()
    assert Effects.from_json(stored["comparison"]) == pytest.approx(now)


def test_an_unbounded_odds_ratio_keeps_no_bound() -> None:
    empty = compare_proportions(0, 40, 6, 40)  # no DNA in A: the exact interval is open
    effects = Effects.of(empty)
    assert empty.odds_ratio == math.inf
    assert (effects.odds_ratio, effects.or_high) == (None, None)
    assert effects.or_low == empty.or_ci[0]
    assert effects.risk_difference == empty.risk_difference
    counts = [ArmCounts("A", 40, 40, 0, 0, 0), ArmCounts("B", 40, 34, 6, 0, 0)]
    stored = analyse("open", counts, 100).to_json()["comparison"]
    assert stored["or_ci"][1] is None
    assert Effects.from_json(stored) == effects


@pytest.mark.parametrize(
    "stored",
    [None, {}, {"risk_difference": 0.1}, {**TRIAL.__dict__, "p_value": None}],
)
def test_a_stored_analysis_without_a_comparison_has_no_effects(stored: object) -> None:
    assert Effects.from_json(stored) is None  # type: ignore[arg-type]


def _look(fraction: float, recorded: bool = True, effects: Effects | None = None) -> Look:
    return Look(fraction, round(fraction * 100), effects or Effects.of(TRIAL), recorded, WHEN)


def test_the_current_look_is_shown_only_past_the_last_recorded_one() -> None:
    recorded = [_look(0.2), _look(0.4)]
    assert looks_to_show(recorded, _look(0.55, recorded=False)) == [
        *recorded,
        _look(0.55, recorded=False),
    ]
    assert looks_to_show(recorded, _look(0.4, recorded=False)) == recorded  # the same look
    assert looks_to_show(recorded, None) == recorded
    nothing = Look(0.0, 0, None, recorded=False)
    assert looks_to_show([], nothing) == []


def test_looks_from_an_analysis_and_from_a_recorded_decision() -> None:
    counts = [ArmCounts("A", 60, 50, 10, 0, 0), ArmCounts("B", 60, 55, 5, 0, 0)]
    analysis = analyse("x", counts, 200)
    now = current_look(analysis)
    assert (now.fraction, now.n_per_arm, now.recorded) == (0.3, 60, False)
    assert now.effects == Effects.of(compare_proportions(10, 60, 5, 60))
    then = recorded_look(0.3, 60, analysis.to_json(), WHEN)
    assert (then.recorded, then.decided_at) == (True, WHEN)
    assert then.effects == pytest.approx(now.effects)
    before = current_look(analyse("y", [counts[0], ArmCounts("B", 3, 0, 0, 0, 3)], 200))
    assert before.effects is None


def test_the_boundary_path_runs_over_the_grid_and_through_each_look() -> None:
    looks = [_look(0.25), _look(0.5), _look(0.62, recorded=False)]
    path = boundary_path(looks, 0.05)
    fractions = [point.fraction for point in path]
    assert fractions == sorted(fractions)
    assert set(fractions) == {0.25, 0.5, 0.62} | set(GRID)
    for point in path:
        # What a look taken here faces after the recorded looks before it (as decide).
        before = [f for f in (0.25, 0.5) if f <= point.fraction - 1e-3]
        assert point.boundary == pytest.approx(obf_boundaries([*before, point.fraction])[-1])
        looked = point.fraction in (0.25, 0.5, 0.62)
        assert point.observed == (pytest.approx(Effects.of(TRIAL).z) if looked else None)
    assert path[-1] == BoundaryPoint(1.0, pytest.approx(obf_boundaries([0.25, 0.5, 1.0])[-1]), None)


def test_a_grid_point_next_to_a_look_gives_way_to_it() -> None:
    path = boundary_path([_look(0.31)], 0.05)
    assert [point.fraction for point in path] == [0.1, 0.2, 0.31, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert [point.fraction for point in boundary_path([], 0.05)] == list(GRID)
