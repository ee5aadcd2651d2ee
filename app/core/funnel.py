"""Funnel-plot control limits for proportions (Spiegelhalter, Stat Med 2005;24:1185-1202).

A unit with n cases has an observed rate of events / n. If every unit shared the overall
rate, its count would be Binomial(n, rate); the limits are that distribution's quantiles
at 2.5%/97.5% (95%) and 0.1%/99.9% (99.8%), divided by n. Binomial quantiles jump in
steps of 1/n, so each limit is interpolated between neighbouring counts as the paper
does: with r the smallest count whose cumulative probability F(r) reaches p,

    limit = (r - (F(r) - p) / (F(r) - F(r - 1))) / n,

kept within [0, 1]. Pure: the standard library and app.core.distributions only.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.distributions import binomial_cdf_window

#: The two limits the plot draws: two-sided coverage.
COVERAGES = (0.95, 0.998)


class FunnelPosition(enum.StrEnum):
    """Where a unit's rate lies against the limits at its volume."""

    ABOVE_998 = "above_998"  # above the upper 99.8% limit
    ABOVE_95 = "above_95"  # above the upper 95% limit, within the 99.8% limits
    WITHIN = "within"  # within the 95% limits
    BELOW_95 = "below_95"  # below the lower 95% limit, within the 99.8% limits
    BELOW_998 = "below_998"  # below the lower 99.8% limit


@dataclass(frozen=True)
class FunnelLimits:
    """The 95% and 99.8% limits for a unit of volume n."""

    n: int
    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float


@dataclass(frozen=True)
class FunnelUnit:
    """A unit on the plot: its events out of n, its rate and where that lies."""

    events: int
    n: int
    rate: float
    limits: FunnelLimits
    position: FunnelPosition


def overall_rate(events: Sequence[int], volumes: Sequence[int]) -> float:
    """All events over all volumes; ValueError without any volume or with a bad count."""
    for count, n in zip(events, volumes, strict=True):
        _check(count, n)
    total = sum(volumes)
    if total == 0:
        raise ValueError("a funnel plot needs at least one case")
    return sum(events) / total


def _check(events: int, n: int) -> None:
    for value, name in ((events, "events"), (n, "n")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a whole number of at least 0, got {value!r}")
    if events > n:
        raise ValueError(f"events ({events}) exceeds n ({n})")


def binomial_limit(rate: float, n: int, p: float) -> float:
    """The interpolated p-quantile of Binomial(n, rate) / n, within [0, 1]."""
    return binomial_limits(rate, n, [p])[0]


def binomial_limits(rate: float, n: int, ps: Sequence[float]) -> list[float]:
    """`binomial_limit` at each of `ps`, from one computation of the distribution."""
    for p in ps:
        if not 0.0 < p < 1.0:
            raise ValueError(f"p must be strictly between 0 and 1, got {p!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must lie between 0 and 1, got {rate!r}")
    if rate in (0.0, 1.0):
        return [rate for _ in ps]
    counts, cdf = binomial_cdf_window(n, rate)
    limits = []
    for p in ps:
        index = int(np.searchsorted(cdf, p, side="left"))
        index = min(index, len(counts) - 1)
        reached = float(cdf[index])
        before = float(cdf[index - 1]) if index > 0 else 0.0
        step = reached - before
        fraction = (reached - p) / step if step > 0 else 0.0
        limits.append(min(1.0, max(0.0, (int(counts[index]) - fraction) / n)))
    return limits


def funnel_limits(rate: float, n: int) -> FunnelLimits:
    """The 95% and 99.8% limits around `rate` for a unit of volume n (the binomial is
    computed once for all four)."""
    low_95, high_95, low_998, high_998 = binomial_limits(
        rate, n, [*_tails(COVERAGES[0]), *_tails(COVERAGES[1])]
    )
    return FunnelLimits(n, low_95, high_95, low_998, high_998)


def _tails(coverage: float) -> tuple[float, float]:
    tail = (1.0 - coverage) / 2.0
    return tail, 1.0 - tail


def funnel_curve(rate: float, smallest: int, largest: int, steps: int = 80) -> list[FunnelLimits]:
    """Limits at volumes from `smallest` to `largest`, spaced evenly on a log scale (each
    volume once), for drawing the funnel's lines."""
    low = max(1, smallest)
    high = max(low, largest)
    ratio = math.log(high / low) / max(1, steps - 1)
    volumes = sorted({round(low * math.exp(ratio * i)) for i in range(steps)} | {low, high})
    return [funnel_limits(rate, n) for n in volumes]


def position(rate: float, limits: FunnelLimits) -> FunnelPosition:
    """Where a rate lies against the limits; a rate exactly on a limit is within it."""
    if rate > limits.upper_998:
        return FunnelPosition.ABOVE_998
    if rate < limits.lower_998:
        return FunnelPosition.BELOW_998
    if rate > limits.upper_95:
        return FunnelPosition.ABOVE_95
    if rate < limits.lower_95:
        return FunnelPosition.BELOW_95
    return FunnelPosition.WITHIN


def funnel_units(
    events: Sequence[int],
    volumes: Sequence[int],
    rate: float | None = None,
    limits: Sequence[FunnelLimits | None] | None = None,
) -> list[FunnelUnit]:
    """Each unit's rate, limits and position around `rate` (the overall rate when None).

    `limits` may give a unit's limits already computed around that rate (None computes
    them). A unit with no cases has no rate to place and is refused (ValueError), as are
    counts that are not whole numbers, more events than cases, and limits given for
    another volume.
    """
    centre = overall_rate(events, volumes) if rate is None else rate
    known = list(limits) if limits is not None else [None] * len(volumes)
    units = []
    for count, n, given in zip(events, volumes, known, strict=True):
        _check(count, n)
        if n == 0:
            raise ValueError("a unit on a funnel plot needs at least one case")
        if given is not None and given.n != n:
            raise ValueError(f"limits for a volume of {given.n} given for a unit of {n}")
        unit_limits = given or funnel_limits(centre, int(n))
        observed = int(count) / int(n)
        units.append(
            FunnelUnit(int(count), int(n), observed, unit_limits, position(observed, unit_limits))
        )
    return units
