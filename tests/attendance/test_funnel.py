"""Funnel-plot limits against R's numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from app.attendance.funnel import funnel_limits
from tests.attendance.reference import REFERENCE


@pytest.mark.parametrize("case", REFERENCE["funnel"], ids=lambda case: f"rate={case['rate']}")
def test_exact_funnel_limits_match_r(case: dict[str, Any]) -> None:
    limits = funnel_limits(case["rate"], case["n"], case["z"])
    np.testing.assert_allclose(limits.lower, case["lower"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(limits.upper, case["upper"], rtol=1e-6, atol=1e-12)
    assert np.all(np.diff(limits.upper, axis=1) < 0)  # the funnel narrows as n grows
    assert np.all(limits.lower <= case["rate"])
    assert np.all(limits.upper[0] < limits.upper[1])  # 3.09 is wider than 1.96


@pytest.mark.parametrize(("rate", "n", "z"), [(0.1, 100, 1.96), (0.25, 40, 3.09), (0.02, 50, 3.0)])
def test_normal_funnel_limits(rate: float, n: int, z: float) -> None:
    limits = funnel_limits(rate, [n], [z], method="normal")
    half = z * math.sqrt(rate * (1 - rate) / n)
    assert limits.lower[0, 0] == pytest.approx(max(0.0, rate - half))
    assert limits.upper[0, 0] == pytest.approx(rate + half)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.0, [10]), "overall_rate must be strictly between 0 and 1"),
        ((0.1, [10, 0, 5]), r"n\[1\] must be at least 1"),
        ((0.1, [10.5]), "n must be a whole number"),
        ((0.1, [10], (1.96, -1.0)), "z must list one or more positive numbers"),
        ((0.1, [10], (1.96,), "poisson"), "method must be 'exact' or 'normal'"),
    ],
)
def test_bad_funnel_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        funnel_limits(*args)
