"""The Wilson interval for a proportion, and how proportions and intervals are written.

Shared by the results store (response rates), attendance (DNA rates) and experiments
(arm rates), so that one figure is computed and printed the same way everywhere.
"""

from __future__ import annotations

import math

import numpy as np

from app.core.distributions import normal_upper_quantile

Interval = tuple[float, float]


def check_count(value: object, name: str) -> int:
    """`value` as a non-negative whole number; ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return int(value)


def check_alpha(alpha: float) -> float:
    """`alpha` if it lies strictly between 0 and 1; ValueError otherwise."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def two_sided_z(alpha: float) -> float:
    """The normal quantile that leaves alpha/2 in each tail (1.96 for 0.05)."""
    return normal_upper_quantile(check_alpha(alpha) / 2.0)


def wilson_interval(events: int, n: int, alpha: float = 0.05) -> Interval:
    """Wilson score interval for a proportion, without continuity correction.

    The same interval as R's `prop.test(events, n, correct = FALSE)$conf.int`; exactly 0
    or 1 at the ends. Refuses (ValueError) a count that is not a whole number, n of 0 and
    more events than n.
    """
    x = check_count(events, "events")
    total = check_count(n, "n")
    if total == 0:
        raise ValueError("n must be at least 1")
    if x > total:
        raise ValueError(f"events ({x}) exceeds n ({total})")
    return wilson(x, total, two_sided_z(alpha))


def wilson(x: int, n: int, z: float) -> Interval:
    """The Wilson interval of x events in n at the normal quantile z (unchecked)."""
    p = x / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == n else min(1.0, centre + half)
    return low, high


def percent(value: float | None) -> str:
    """A proportion as a percentage with one decimal, or '-'."""
    return "-" if value is None else f"{100 * value:.1f}%"


def interval_text(low: float | None, high: float | None) -> str:
    """'7.1%-9.0%', or '-' when there is no interval."""
    return "-" if low is None or high is None else f"{percent(low)}-{percent(high)}"
