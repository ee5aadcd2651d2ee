"""An experiment's looks against its stopping boundary, for the pages that follow it (pure).

A look is an analysis: each recorded decision, and the analysis as it stands now. Its
observed |z| is the standard normal value of its two-sided p-value, |z| = Φ⁻¹(1 − p/2)
(for Fisher's exact test, the z that the same p-value would have).

The boundary path gives, for information fractions from 10% to 100% and at each look,
the O'Brien–Fleming |z| boundary that a look taken there would face after the recorded
looks before it (as `app.experiments.rules.decide` computes it). A result crosses the
boundary when its |z| reaches the line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.distributions import normal_upper_quantile
from app.experiments.analysis import ExperimentAnalysis, earlier_looks
from app.experiments.sequential import MIN_LOOK_GAP, obf_boundaries
from app.experiments.stats import Comparison

#: Fractions of the plan the boundary path is drawn at, besides the looks themselves.
GRID = tuple(k / 10 for k in range(1, 11))
#: A grid point this close to a look is left out: the look stands for it.
GRID_GAP = 0.02


@dataclass(frozen=True)
class Effects:
    """Arm B against arm A at one look: the risk difference and the odds ratio with their
    intervals (a bound is None where the data cannot bound it), and the p-value. The odds
    ratio itself is None where it cannot be estimated: with no DNA in an arm, the exact
    conditional estimate is 0 or infinite."""

    risk_difference: float
    rd_low: float
    rd_high: float
    odds_ratio: float | None
    or_low: float | None
    or_high: float | None
    p_value: float

    @property
    def z(self) -> float:
        """The observed |z| of the two-sided p-value (infinite for p = 0)."""
        return observed_z(self.p_value)

    @classmethod
    def of(cls, comparison: Comparison) -> Effects:
        low, high = comparison.or_ci
        return cls(
            risk_difference=comparison.risk_difference,
            rd_low=comparison.rd_ci[0],
            rd_high=comparison.rd_ci[1],
            odds_ratio=_estimable(comparison.odds_ratio),
            or_low=_finite(low),
            or_high=_finite(high),
            p_value=comparison.p_value,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Effects | None:
        """The effects of a stored analysis's "comparison" (None when it had none)."""
        if not data:
            return None
        rd, odds = data.get("rd_ci") or [None, None], data.get("or_ci") or [None, None]
        needed = (data.get("risk_difference"), rd[0], rd[1], data.get("p_value"))
        if any(value is None for value in needed):
            return None
        ratio = data.get("odds_ratio")
        return cls(
            risk_difference=float(data["risk_difference"]),
            rd_low=float(rd[0]),
            rd_high=float(rd[1]),
            odds_ratio=None if ratio is None else _estimable(float(ratio)),
            or_low=None if odds[0] is None else float(odds[0]),
            or_high=None if odds[1] is None else float(odds[1]),
            p_value=float(data["p_value"]),
        )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _estimable(ratio: float) -> float | None:
    """An odds ratio that can be drawn and compared: finite and above 0."""
    return ratio if math.isfinite(ratio) and ratio > 0 else None


def observed_z(p_value: float) -> float:
    """|z| for a two-sided p-value; infinite for 0."""
    if not 0.0 <= p_value <= 1.0:
        raise ValueError(f"a p-value lies in [0, 1], got {p_value!r}")
    if p_value == 0.0:
        return math.inf
    # p = 1 is |z| = 0, which the quantile gives with a rounding error either side.
    return max(0.0, normal_upper_quantile(p_value / 2.0))


@dataclass(frozen=True)
class Look:
    """One analysis of the experiment: recorded (a decision) or as it stands now."""

    fraction: float
    n_per_arm: int
    effects: Effects | None
    recorded: bool
    decided_at: datetime | None = None


def current_look(analysis: ExperimentAnalysis) -> Look:
    """The analysis as it stands, as a look."""
    effects = None if analysis.comparison is None else Effects.of(analysis.comparison)
    return Look(analysis.information_fraction, analysis.n_per_arm, effects, recorded=False)


def recorded_look(
    fraction: float, n_per_arm: int, analysis: Mapping[str, Any], decided_at: datetime
) -> Look:
    """A recorded decision as a look, from the analysis stored with it."""
    effects = Effects.from_json(analysis.get("comparison"))
    return Look(fraction, n_per_arm, effects, recorded=True, decided_at=decided_at)


def looks_to_show(recorded: Sequence[Look], now: Look | None) -> list[Look]:
    """The recorded looks, then the current one if it has data and is not one of them
    (at least MIN_LOOK_GAP past the last recorded fraction)."""
    shown = list(recorded)
    last = max((look.fraction for look in recorded), default=0.0)
    if now is not None and now.effects is not None and now.fraction >= last + MIN_LOOK_GAP:
        shown.append(now)
    return shown


@dataclass(frozen=True)
class BoundaryPoint:
    """The boundary a look at `fraction` would face, and the |z| of a look taken there."""

    fraction: float
    #: Two-sided |z|; infinite where no result could cross yet.
    boundary: float
    observed: float | None


def boundary_path(looks: Sequence[Look], alpha: float) -> list[BoundaryPoint]:
    """The boundary from 10% to 100% of the plan and at each look, in fraction order."""
    at_looks = {look.fraction: look for look in looks if 0.0 < look.fraction <= 1.0}
    fractions = set(at_looks)
    fractions |= {t for t in GRID if all(abs(t - f) >= GRID_GAP for f in at_looks)}
    recorded = [look.fraction for look in looks if look.recorded and look.fraction > 0.0]
    path = []
    for t in sorted(fractions):
        before = earlier_looks(recorded, t)
        boundary = obf_boundaries([*before, t], alpha)[-1]
        look = at_looks.get(t)
        observed = look.effects.z if look is not None and look.effects is not None else None
        path.append(BoundaryPoint(t, boundary, observed))
    return path
