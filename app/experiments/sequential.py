"""Group-sequential boundaries: O'Brien–Fleming-type alpha spending (Lan and DeMets).

A two-sided test at overall level alpha is split into two one-sided tests at alpha/2,
each spending by the O'Brien–Fleming-type function of Lan and DeMets (1983),
s(t) = 2 − 2Φ(z_{1−alpha/4} / √t), so the two-sided alpha spent by information
fraction t is 2·s(t) and all of it is spent at t = 1. These are the boundaries that R's
`ldbounds` and `gsDesign` report for a symmetric two-sided design; for five equally
spaced looks at alpha = 0.05 they are 4.877, 3.357, 2.680, 2.290, 2.031.

The boundary at each look is the |z| whose crossing probability under the null, having
not crossed at any earlier look, equals the alpha newly spent. That probability is found
by numerical integration (Armitage, McPherson and Rowe, 1969): the density of the
Brownian B-value B(t) = Z(t)·√t on the region not yet stopped is carried from look to
look by Simpson's rule on a grid fine enough for the narrowest step between looks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from app.core.distributions import normal_sf, normal_sf_array, normal_upper_quantile

FloatArray = NDArray[np.float64]

#: Looks closer than this in information fraction are refused: the grid needed to
#: integrate across so small a step would be very large, and such looks add nothing.
MIN_LOOK_GAP = 1e-3
MAX_LOOKS = 50
# Grid points per standard deviation of the narrowest distribution in play.
_POINTS_PER_SD = 24
# Beyond this many standard deviations the B-value density is below 1e-23.
_SPAN_SD = 10.0
_ROW_BLOCK = 512
_BISECTION_STEPS = 200


def obf_alpha_spent(information_fraction: float, alpha: float = 0.05) -> float:
    """Two-sided alpha spent by `information_fraction` (0 at 0, alpha at 1 and beyond)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    if information_fraction <= 0.0:
        return 0.0
    t = min(float(information_fraction), 1.0)
    return 4.0 * normal_sf(normal_upper_quantile(alpha / 4.0) / math.sqrt(t))


def obf_boundaries(information_fractions: Sequence[float], alpha: float = 0.05) -> list[float]:
    """Nominal two-sided |z| boundaries at each look, in the order given.

    `information_fractions` are the looks' shares of the planned information (for equal
    arms, n per arm / planned n per arm): strictly increasing, in (0, 1], at least
    0.001 apart. A boundary is `math.inf` when the alpha spent so far rounds to zero.
    """
    looks = _check_looks(information_fractions)
    boundaries: list[float] = []
    grid: FloatArray | None = None
    mass: FloatArray | None = None
    spent_before = 0.0
    for index, t in enumerate(looks):
        spent = obf_alpha_spent(t, alpha)
        previous = looks[index - 1] if index else 0.0
        if grid is None or mass is None:
            bound = normal_upper_quantile(spent / 2.0) if spent > 0.0 else math.inf
        else:
            bound = _solve_boundary(grid, mass, t, t - previous, spent - spent_before)
        boundaries.append(bound)
        spent_before = spent
        if index + 1 < len(looks):
            following = looks[index + 1] - t
            grid, mass = _carry(grid, mass, t, t - previous, bound, following)
    return boundaries


def _check_looks(information_fractions: Sequence[float]) -> list[float]:
    looks = [float(value) for value in information_fractions]
    if not looks:
        raise ValueError("information_fractions must list at least one look")
    if len(looks) > MAX_LOOKS:
        raise ValueError(f"at most {MAX_LOOKS} looks are supported, got {len(looks)}")
    for index, t in enumerate(looks):
        if not 0.0 < t <= 1.0:
            raise ValueError(f"information_fractions[{index}] must be in (0, 1], got {t!r}")
        if index and t - looks[index - 1] < MIN_LOOK_GAP:
            raise ValueError(
                f"information_fractions[{index}] ({t!r}) must exceed the previous look by "
                f"at least {MIN_LOOK_GAP}"
            )
    return looks


def _simpson_grid(half_width: float, step: float) -> tuple[FloatArray, FloatArray]:
    intervals = 2 * max(2, math.ceil(half_width / step))
    points = np.linspace(-half_width, half_width, intervals + 1)
    weights = np.ones(intervals + 1)
    weights[1:-1:2] = 4.0
    weights[2:-1:2] = 2.0
    return points, weights * (points[1] - points[0]) / 3.0


def _carry(
    grid: FloatArray | None,
    mass: FloatArray | None,
    t: float,
    gap: float,
    bound: float,
    following: float,
) -> tuple[FloatArray, FloatArray]:
    """Grid and Simpson-weighted density of B(t) on the region not yet stopped."""
    scale = min(math.sqrt(gap), math.sqrt(following), math.sqrt(t))
    half_width = min(bound, _SPAN_SD) * math.sqrt(t)
    points, weights = _simpson_grid(half_width, scale / _POINTS_PER_SD)
    if grid is None or mass is None:
        sd = math.sqrt(t)
        density = np.exp(-0.5 * (points / sd) ** 2) / (sd * math.sqrt(2.0 * math.pi))
    else:
        density = _convolve(points, grid, mass, math.sqrt(gap))
    return points, density * weights


def _convolve(points: FloatArray, grid: FloatArray, mass: FloatArray, sd: float) -> FloatArray:
    density = np.empty_like(points)
    norm = sd * math.sqrt(2.0 * math.pi)
    for start in range(0, len(points), _ROW_BLOCK):
        block = points[start : start + _ROW_BLOCK, None]
        kernel = np.exp(-0.5 * ((block - grid[None, :]) / sd) ** 2)
        density[start : start + _ROW_BLOCK] = kernel @ mass / norm
    return density


def _solve_boundary(
    grid: FloatArray, mass: FloatArray, t: float, gap: float, target: float
) -> float:
    """The c with P(not stopped before, |Z(t)| ≥ c) = target, by bisection."""
    if target <= 0.0:
        return math.inf
    sd = math.sqrt(gap)
    root_t = math.sqrt(t)

    def crossing(c: float) -> float:
        upper = normal_sf_array((c * root_t - grid) / sd)
        lower = normal_sf_array((c * root_t + grid) / sd)
        return float(np.dot(mass, upper + lower))

    if crossing(0.0) <= target:
        return 0.0
    low, high = 0.0, 1.0
    while crossing(high) > target:
        low, high = high, 2.0 * high
        if high > 1e3:
            return math.inf
    for _ in range(_BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if crossing(middle) > target:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)
