"""Arm assignment and the stopping decision."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
import pytest

from app.experiments.rules import assign_arm, assign_arms, decide
from app.experiments.stats import compare_proportions, obf_boundaries

TWO_ARMS = [("control", 1), ("specific_cost", 1)]
THREE_ARMS = [("control", 1), ("specific_cost", 2), ("social_norm", 1)]


def _by_the_documented_rule(seed: str, appointment_id: int, stratum: str, arms: Any) -> str:
    """The assignment rule as the module documents it, written out independently."""
    key = hashlib.blake2b(seed.encode(), digest_size=32).digest()
    label = stratum.encode()
    message = len(label).to_bytes(4, "big") + label + appointment_id.to_bytes(8, "big")
    value = int.from_bytes(hashlib.blake2b(message, key=key, digest_size=8).digest(), "big")
    bucket = value % sum(weight for _, weight in arms)
    for name, weight in arms:
        if bucket < weight:
            return str(name)
        bucket -= weight
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("seed", "stratum", "arms"),
    [
        ("dna-wording-2026", "clinic-7", TWO_ARMS),
        ("dna-wording-2026", "clinic-8", THREE_ARMS),
        ("another seed, longer than the sixty-four bytes a BLAKE2b key may hold", "", TWO_ARMS),
        ("ünïcode", "clinique-é", [("only", 3)]),
    ],
)
def test_assignment_follows_the_documented_rule(seed: str, stratum: str, arms: Any) -> None:
    """Stable across releases: running experiments must never be reassigned."""
    for appointment_id in (0, 1, 2, 99, 123_456, 2**40 + 7, 2**64 - 1):
        expected = _by_the_documented_rule(seed, appointment_id, stratum, arms)
        assert assign_arm(seed, appointment_id, stratum, arms) == expected


@pytest.mark.parametrize("arms", [TWO_ARMS, THREE_ARMS])
@pytest.mark.parametrize("stratum", ["clinic-1", "clinic-2"])
def test_vectorised_assignment_gives_the_same_answers(arms: Any, stratum: str) -> None:
    ids = np.arange(5_000, dtype=np.int64) * 7919 + 11
    together = assign_arms("seed-1", ids, stratum, arms)
    one_by_one = [assign_arm("seed-1", int(i), stratum, arms) for i in ids]
    assert together.tolist() == one_by_one


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64])
def test_vectorised_assignment_accepts_integer_arrays(dtype: Any) -> None:
    ids = np.array([5, 17, 4_000_000], dtype=dtype)
    expected = [assign_arm("s", int(i), "c", TWO_ARMS) for i in ids]
    assert assign_arms("s", ids, "c", TWO_ARMS).tolist() == expected


def test_allocation_follows_the_weights() -> None:
    n = 200_000
    arms = assign_arms("ratio-check", np.arange(n), "clinic-1", THREE_ARMS)
    for name, weight in THREE_ARMS:
        share = weight / 4
        observed = float(np.mean(arms == name))
        assert abs(observed - share) < 4 * math.sqrt(share * (1 - share) / n)


@pytest.mark.parametrize(
    ("other_seed", "other_stratum"), [("seed-2", "clinic-1"), ("seed-1", "clinic-2")]
)
def test_seed_and_stratum_give_independent_draws(other_seed: str, other_stratum: str) -> None:
    ids = np.arange(20_000)
    first = assign_arms("seed-1", ids, "clinic-1", TWO_ARMS)
    second = assign_arms(other_seed, ids, other_stratum, TWO_ARMS)
    agreement = float(np.mean(first == second))
    assert abs(agreement - 0.5) < 4 * math.sqrt(0.25 / len(ids))


@pytest.mark.parametrize(
    ("seed", "appointment_id", "arms", "message"),
    [
        ("s", 1, [], "arms must list at least one"),
        ("s", 1, [("a", 1), ("a", 2)], r"arms\[1\] repeats the name 'a'"),
        ("s", 1, [("a", 1), ("b", 0)], r"arms\[1\] \('b'\) needs a whole-number weight"),
        ("s", 1, [("a", 1.5)], r"arms\[0\] \('a'\) needs a whole-number weight"),
        ("s", 1, [("a", True)], r"arms\[0\] \('a'\) needs a whole-number weight"),
        ("s", 1, [("", 1)], r"arms\[0\] needs a non-empty name"),
        ("s", 1, [("a", 1, 2)], r"arms\[0\] must be a \(name, weight\) pair"),
        ("", 1, TWO_ARMS, "seed must be a non-empty string"),
        ("s", -1, TWO_ARMS, "appointment_id must be between 0 and 2\\*\\*64 - 1"),
        ("s", 2**64, TWO_ARMS, "appointment_id must be between 0 and 2\\*\\*64 - 1"),
        ("s", True, TWO_ARMS, "appointment_id must be a whole number"),
        ("s", "12", TWO_ARMS, "appointment_id must be a whole number"),
    ],
)
def test_bad_assignment_input(seed: str, appointment_id: Any, arms: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign_arm(seed, appointment_id, "clinic-1", arms)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (np.array([1, -4, 2]), r"appointment_ids\[1\] is negative"),
        (np.array([1.0, 2.0]), "one-dimensional array of whole numbers"),
        (np.array([[1, 2]]), "one-dimensional array of whole numbers"),
    ],
)
def test_bad_id_arrays(ids: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign_arms("s", ids, "clinic-1", TWO_ARMS)


# Hallsworth-sized trial: 280/2528 DNAs with the control wording, 213/2528 with costs.
BETTER = compare_proportions(280, 2528, 213, 2528)  # p ≈ 0.0015
WORSE = compare_proportions(213, 2528, 280, 2528)
NO_DIFFERENCE = compare_proportions(150, 1000, 148, 1000)


@pytest.mark.parametrize(
    ("analysis", "planned", "n", "looks", "lower_is_better", "decision", "last_reason"),
    [
        (BETTER, 2528, 2528, (), True, "ship", "arm B is better and the boundary is crossed"),
        (BETTER, 8000, 2528, (0.15,), True, "continue", "planned sample size not reached"),
        (BETTER, 5000, 2528, (), True, "ship", "arm B is better and the boundary is crossed"),
        (BETTER, 4000, 2528, (0.3,), True, "ship", "arm B is better"),
        (BETTER, 10000, 2528, (), True, "continue", "planned sample size not reached"),
        (BETTER, 2528, 3000, (0.5,), True, "ship", "arm B is better"),
        (BETTER, 2528, 2528, (), False, "stop", "arm B is worse and the boundary is crossed"),
        (WORSE, 2528, 2528, (), True, "stop", "arm B is worse and the boundary is crossed"),
        (WORSE, 10000, 2528, (), True, "continue", "planned sample size not reached"),
        (NO_DIFFERENCE, 1000, 1000, (), True, "stop", "planned sample size reached without"),
        (NO_DIFFERENCE, 2000, 1000, (), True, "continue", "planned sample size not reached"),
    ],
)
def test_decision(
    analysis: Any,
    planned: int,
    n: int,
    looks: tuple[float, ...],
    lower_is_better: bool,
    decision: str,
    last_reason: str,
) -> None:
    got, reasons = decide(analysis, planned, n, looks, lower_is_better=lower_is_better)
    assert got == decision
    assert reasons[-1].startswith(last_reason)
    fraction = min(1.0, n / planned)
    boundary = obf_boundaries([*looks, fraction])[-1]
    assert f"|z| ≥ {boundary:.3f}" in reasons[1]


def test_no_winner_before_the_planned_size_on_p_below_005_alone() -> None:
    """p = 0.0015 < 0.05, but at a quarter of the information the boundary is ~4.33."""
    assert BETTER.p_value < 0.05
    decision, reasons = decide(BETTER, planned_n_per_arm=10_112, n_per_arm=2528)
    assert decision == "continue"
    assert "4.333" in reasons[1]


@pytest.mark.parametrize(
    ("planned", "n", "looks", "message"),
    [
        (0, 10, (), "planned_n_per_arm and n_per_arm must be at least 1"),
        (100, 0, (), "planned_n_per_arm and n_per_arm must be at least 1"),
        (100.0, 10, (), "planned_n_per_arm must be a whole number"),
        (100, 10.0, (), "n_per_arm must be a whole number"),
        (100, 50, (0.6,), r"looks\[0\] \(0.6\) must be below this look's information fraction"),
        (100, 150, (0.5, 1.0), r"looks\[1\] \(1.0\) must be below"),
    ],
)
def test_bad_decision_input(planned: Any, n: int, looks: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decide(BETTER, planned, n, looks)
