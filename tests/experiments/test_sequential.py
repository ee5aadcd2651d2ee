"""O'Brien–Fleming-type alpha spending boundaries."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.experiments.sequential import obf_alpha_spent, obf_boundaries
from tests.attendance.reference import REFERENCE


def _label(case: dict[str, Any]) -> str:
    return f"alpha={case['alpha']}:" + ",".join(f"{t:.3f}" for t in case["looks"])


@pytest.mark.parametrize("case", REFERENCE["obf"], ids=_label)
def test_boundaries_match_r_multivariate_normal(case: dict[str, Any]) -> None:
    """R integrates the joint normal law of the looks (mvtnorm, Miwa); we use a grid."""
    boundaries = obf_boundaries(case["looks"], case["alpha"])
    assert boundaries == pytest.approx(case["boundaries"], rel=1e-7)
    spent = [obf_alpha_spent(t, case["alpha"]) for t in case["looks"]]
    assert spent == pytest.approx(case["spent"], rel=1e-12)


def test_five_equal_looks_match_the_published_table() -> None:
    """Lan–DeMets O'Brien–Fleming, two-sided 0.05, as tabulated by ldbounds/gsDesign."""
    boundaries = obf_boundaries([0.2, 0.4, 0.6, 0.8, 1.0])
    assert [round(b, 3) for b in boundaries] == [4.877, 3.357, 2.680, 2.290, 2.031]


@pytest.mark.parametrize(
    ("t", "expected"),
    [(0.0, 0.0), (1.0, 0.05), (1.7, 0.05)],
)
def test_spending_starts_at_zero_and_ends_at_alpha(t: float, expected: float) -> None:
    assert obf_alpha_spent(t, 0.05) == pytest.approx(expected, abs=1e-15)


def test_spending_rises_with_information() -> None:
    spent = [obf_alpha_spent(t / 10) for t in range(1, 11)]
    assert spent == sorted(spent)
    assert spent[0] < 1e-6  # O'Brien–Fleming spends almost nothing early


def test_a_look_with_nothing_spent_has_no_boundary() -> None:
    first, last = obf_boundaries([0.001, 1.0])
    assert first == math.inf
    assert last == pytest.approx(1.959963984540054, rel=1e-9)


@pytest.mark.parametrize(
    ("looks", "alpha", "message"),
    [
        ([], 0.05, "at least one look"),
        ([0.5, 0.4], 0.05, r"information_fractions\[1\] \(0.4\) must exceed the previous"),
        ([0.5, 0.5005], 0.05, r"information_fractions\[1\] .* by at least 0.001"),
        ([0.5, 1.2], 0.05, r"information_fractions\[1\] must be in \(0, 1\]"),
        ([0.0], 0.05, r"information_fractions\[0\] must be in \(0, 1\]"),
        ([0.5], 1.5, "alpha must be strictly between 0 and 1"),
        ([i / 60 for i in range(1, 61)], 0.05, "at most 50 looks"),
    ],
)
def test_bad_looks_are_refused(looks: list[float], alpha: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        obf_boundaries(looks, alpha)
