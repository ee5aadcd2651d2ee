"""Funnel-plot limits: how far a clinic's DNA rate may stray from the overall rate by
chance alone, for its number of appointments (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.core.distributions import binomial_cdf_window, normal_cdf


@dataclass(frozen=True)
class FunnelLimits:
    """Control limits for a funnel plot of a rate against its denominator.

    `lower[i, j]` and `upper[i, j]` are the limits for `z[i]` at denominator `n[j]`.
    """

    overall_rate: float
    n: NDArray[np.int64]
    z: tuple[float, ...]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    method: str


def funnel_limits(
    overall_rate: float,
    n: int | Sequence[int] | NDArray[np.integer],
    z: Sequence[float] = (1.96, 3.09),
    method: str = "exact",
) -> FunnelLimits:
    """Funnel plot limits around `overall_rate` for each denominator in `n`.

    "exact" (the default): binomial limits with Spiegelhalter's (2005) interpolation,
    (r − a)/n where r is the binomial quantile at Φ(±z) and a = (F(r) − p)/(F(r) −
    F(r − 1)), so the limits are smooth in n. "normal": rate ± z·√(rate(1 − rate)/n).
    Both are clipped to [0, 1].
    """
    if not 0.0 < overall_rate < 1.0:
        raise ValueError(f"overall_rate must be strictly between 0 and 1, got {overall_rate!r}")
    sizes = np.atleast_1d(np.asarray(n))
    if sizes.ndim != 1 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError("n must be a whole number or a one-dimensional list of them")
    bad = np.flatnonzero(sizes < 1)
    if bad.size:
        raise ValueError(f"n[{bad[0]}] must be at least 1, got {sizes[bad[0]]}")
    levels = tuple(float(value) for value in z)
    if not levels or any(not value > 0 for value in levels):
        raise ValueError("z must list one or more positive numbers")
    sizes = sizes.astype(np.int64)
    if method == "normal":
        half = np.outer(levels, np.sqrt(overall_rate * (1 - overall_rate) / sizes))
        lower, upper = np.clip(overall_rate - half, 0, 1), np.clip(overall_rate + half, 0, 1)
    elif method == "exact":
        lower = np.empty((len(levels), len(sizes)))
        upper = np.empty((len(levels), len(sizes)))
        for column, m in enumerate(sizes):
            lower[:, column], upper[:, column] = _exact_limits(overall_rate, int(m), levels)
    else:
        raise ValueError(f"method must be 'exact' or 'normal', got {method!r}")
    return FunnelLimits(overall_rate, sizes, levels, lower, upper, method)


def _exact_limits(rate: float, n: int, levels: Sequence[float]) -> tuple[list[float], list[float]]:
    """The lower and upper limits at each z of `levels` for a denominator n, from one
    computation of Binomial(n, rate)."""
    counts, cdf = binomial_cdf_window(n, rate)
    lower = [_interpolated(counts, cdf, normal_cdf(-z), n) for z in levels]
    upper = [_interpolated(counts, cdf, normal_cdf(z), n) for z in levels]
    return lower, upper


def _interpolated(counts: NDArray[np.int64], cdf: NDArray[np.float64], p: float, n: int) -> float:
    index = int(np.searchsorted(cdf, p, side="left"))
    index = min(index, len(counts) - 1)
    below = cdf[index - 1] if index > 0 else 0.0
    fraction = (cdf[index] - p) / (cdf[index] - below)
    return min(1.0, max(0.0, float((counts[index] - fraction) / n)))
