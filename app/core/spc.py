"""Statistical process control: the XmR chart with the NHS "Making Data Count" rules.

The arithmetic and the rules are those of the NHS-R community's NHSRplotthedots package,
version 0.2.0, so that a chart here reads the same as one drawn by the NHS analysts who
use it:

- Each period (the whole series, or the stretch after each rebase) has its own mean and
  process limits at mean ± 2.66 × the mean moving range. With `screen_outliers`, moving
  ranges of 3.267 × their mean or more are dropped before the mean moving range is taken
  (the "Making Data Count" spreadsheets do not screen; pass False to match them).
- Special causes, in order of precedence when several hit one point: a point beyond a
  process limit; a point in a run of seven rising or falling values (six strict steps);
  a point beyond two-thirds of the way to a limit that sits with another such point in
  three consecutive points all on the same side of the mean (points beyond the limit
  itself do not count towards the two); a point in a run of seven on one side of the mean
  (a point exactly on the mean breaks a run). Every point of a qualifying run is flagged.
- A period whose mean moving range is undefined (one point) or screened away entirely (all
  values equal) has limits of NaN, and none of its points is beyond them.

Pure: no Flask, no database; only the standard library.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

#: Process limits sit this many mean moving ranges from the mean (3 / d2, d2 = 1.128).
LIMIT_FACTOR = 2.66
#: "Close to a limit" starts two-thirds of the way from the mean to a limit.
NEAR_FACTOR = 2 * (LIMIT_FACTOR / 3)
#: Moving ranges this many times their mean or more are screened out (3.267 = D4).
SCREEN_FACTOR = 3.267
#: Runs and trends are this many points long.
RUN_LENGTH = 7
#: Periods shorter than this have trial limits (NHSRplotthedots warns below 13 points).
TRIAL_LIMIT_POINTS = 13


class Improvement(enum.StrEnum):
    """Which way is better for the measure."""

    INCREASE = "increase"  # higher values are better
    DECREASE = "decrease"  # lower values are better
    NEUTRAL = "neutral"  # neither direction is better


class SpecialCause(enum.StrEnum):
    """Why a point stands out, in NHSRplotthedots' words."""

    COMMON_CAUSE = "Common Cause"  # nothing stands out
    ABOVE_UCL = "Above UCL"  # above the upper process limit
    BELOW_LCL = "Below LCL"  # below the lower process limit
    SEVEN_ABOVE = "7 Points Above CL"  # part of seven in a row above the mean
    SEVEN_BELOW = "7 Points Below CL"  # part of seven in a row below the mean
    TWO_IN_THREE_ABOVE = "2 in 3 Above CL"  # near the upper limit with another of three
    TWO_IN_THREE_BELOW = "2 in 3 Below CL"  # near the lower limit with another of three
    TREND_UP = "7 Point Trend (Increasing)"  # part of seven rising points
    TREND_DOWN = "7 Point Trend (Decreasing)"  # part of seven falling points


class PointType(enum.StrEnum):
    """What a point means for the measure, given the improvement direction."""

    COMMON_CAUSE = "common_cause"  # no special cause
    IMPROVEMENT = "special_cause_improvement"  # special cause in the better direction
    CONCERN = "special_cause_concern"  # special cause in the worse direction
    NEUTRAL_HIGH = "special_cause_neutral_high"  # high special cause, no better direction
    NEUTRAL_LOW = "special_cause_neutral_low"  # low special cause, no better direction


class Assurance(enum.StrEnum):
    """Whether the process, as it runs now, will meet the target."""

    CONSISTENT_PASS = "consistent_pass"  # noqa: S105 (a name) both limits meet the target
    CONSISTENT_FAIL = "consistent_fail"  # neither limit meets the target
    INCONSISTENT = "inconsistent"  # the target lies within the limits: hit and miss


#: The side of the mean (+1 above, -1 below) each special cause speaks of.
_SIDE = {
    SpecialCause.COMMON_CAUSE: 0,
    SpecialCause.ABOVE_UCL: 1,
    SpecialCause.BELOW_LCL: -1,
    SpecialCause.SEVEN_ABOVE: 1,
    SpecialCause.SEVEN_BELOW: -1,
    SpecialCause.TWO_IN_THREE_ABOVE: 1,
    SpecialCause.TWO_IN_THREE_BELOW: -1,
    SpecialCause.TREND_UP: 1,
    SpecialCause.TREND_DOWN: -1,
}


@dataclass(frozen=True)
class Limits:
    """One period's centre line and limits (NaN when the moving range is undefined)."""

    mean: float
    lower: float
    upper: float
    near_lower: float
    near_upper: float


@dataclass(frozen=True)
class XmR:
    """An XmR chart's numbers: one entry per point in each list, in the input order."""

    values: list[float]
    improvement: Improvement
    target: float | None
    #: The 0-based period (rebase group) of each point.
    period: list[int]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    special_cause: list[SpecialCause]
    point_type: list[PointType]
    #: True where the point's period has fewer than 13 points (trial limits).
    trial_limits: list[bool]
    #: The last point's type: how the measure is varying now.
    variation_type: PointType
    #: None without a target, or when no direction is better.
    assurance_type: Assurance | None

    @property
    def periods(self) -> list[range]:
        """The index range of each period, in order."""
        return _spans(self.period)


def xmr(
    values: Sequence[float],
    improvement: Improvement | str = Improvement.DECREASE,
    target: float | None = None,
    rebase_at: Sequence[int] = (),
    screen_outliers: bool = True,
) -> XmR:
    """The XmR chart of `values` with "Making Data Count" special causes.

    `rebase_at` holds 0-based indices where a new period starts; each period's limits and
    rules use its own points only (index 0 changes nothing). Refuses (ValueError) an empty
    series, a value that is not a finite number, an unknown improvement direction and a
    rebase index outside the series.
    """
    ys = [_finite(v) for v in values]
    if not ys:
        raise ValueError("an XmR chart needs at least one value")
    direction = Improvement(improvement)
    goal = None if target is None else _finite(target)
    period = _periods(len(ys), rebase_at)
    limits: list[Limits] = []
    causes: list[SpecialCause] = []
    trial: list[bool] = []
    for span in _spans(period):
        chunk = ys[span.start : span.stop]
        found = period_limits(chunk, screen_outliers)
        limits += [found] * len(chunk)
        causes += special_causes(chunk, found)
        trial += [len(chunk) < TRIAL_LIMIT_POINTS] * len(chunk)
    types = [point_type(cause, direction) for cause in causes]
    last = limits[-1]
    return XmR(
        values=ys,
        improvement=direction,
        target=goal,
        period=period,
        mean=[x.mean for x in limits],
        lower=[x.lower for x in limits],
        upper=[x.upper for x in limits],
        special_cause=causes,
        point_type=types,
        trial_limits=trial,
        variation_type=types[-1],
        assurance_type=assurance_type(goal, last.lower, last.upper, direction),
    )


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"an XmR value must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"an XmR value must be finite, got {value!r}")
    return float(value)


def _periods(n: int, rebase_at: Sequence[int]) -> list[int]:
    starts = set()
    for index in rebase_at:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise ValueError(f"a rebase index must be a point of the series, got {index!r}")
        starts.add(index)
    period, current = [], 0
    for i in range(n):
        current += i in starts and i > 0
        period.append(current)
    return period


def _spans(period: list[int]) -> list[range]:
    starts = [i for i, p in enumerate(period) if i == 0 or p != period[i - 1]]
    return [range(a, b) for a, b in pairwise([*starts, len(period)])]


def exact_mean(values: Sequence[float]) -> float:
    """The mean rounded once from its exact value (as R's long-double `mean` does).

    Summing in floating point can land a point that equals the mean just off it, which
    would change the side of the mean it counts on.
    """
    return float(sum(map(Fraction, values), Fraction(0)) / len(values))


def mean_moving_range(values: Sequence[float], screen_outliers: bool = True) -> float:
    """The mean of the absolute differences of neighbours, NaN when there is none left."""
    ranges = [abs(b - a) for a, b in pairwise(values)]
    if not ranges:
        return math.nan
    average = exact_mean(ranges)
    if screen_outliers:
        ranges = [r for r in ranges if r < SCREEN_FACTOR * average]
        average = exact_mean(ranges) if ranges else math.nan
    return average


def period_limits(values: Sequence[float], screen_outliers: bool = True) -> Limits:
    """Mean, process limits and the two-thirds lines of one period's values."""
    centre = exact_mean(values)
    spread = mean_moving_range(values, screen_outliers)
    return Limits(
        mean=centre,
        lower=centre - LIMIT_FACTOR * spread,
        upper=centre + LIMIT_FACTOR * spread,
        near_lower=centre - NEAR_FACTOR * spread,
        near_upper=centre + NEAR_FACTOR * spread,
    )


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def special_causes(values: Sequence[float], limits: Limits) -> list[SpecialCause]:
    """Each point's special cause within one period with the given limits."""
    sides = [_sign(y - limits.mean) for y in values]
    outside = [y > limits.upper or y < limits.lower for y in values]
    close = [
        not out and (y < limits.near_lower or y > limits.near_upper)
        for y, out in zip(values, outside, strict=True)
    ]
    return combine_rules(
        values,
        sides,
        outside,
        in_trend=run_members(seven_point_trend(values)),
        in_two_of_three=in_two_in_three(two_in_three(close, sides), close),
        in_one_side_run=run_members(seven_on_one_side(sides)),
    )


def seven_on_one_side(sides: Sequence[int]) -> list[bool]:
    """True at each point that ends seven in a row on one side of the mean.

    `sides` holds +1 above, -1 below and 0 on the mean; a 0 never counts.
    """
    return [
        i >= RUN_LENGTH - 1
        and side != 0
        and all(sides[i - k] == side for k in range(1, RUN_LENGTH))
        for i, side in enumerate(sides)
    ]


def seven_point_trend(values: Sequence[float]) -> list[int]:
    """+1 (-1) at each point that ends seven strictly rising (falling) values, else 0."""
    steps = [_sign(b - a) for a, b in pairwise(values)]
    ends = []
    for i in range(len(values)):
        window = steps[i - (RUN_LENGTH - 1) : i] if i >= RUN_LENGTH - 1 else []
        ends.append(window[0] if window and all(s == window[0] != 0 for s in window) else 0)
    return ends


def run_members(ends: Sequence[int | bool]) -> list[bool]:
    """True at each point of a run of seven, given where the runs end."""
    n = len(ends)
    return [any(ends[j] for j in range(i, min(i + RUN_LENGTH, n))) for i in range(n)]


def two_in_three(close: Sequence[bool], sides: Sequence[int]) -> list[bool]:
    """True at each point of three consecutive points, all on one side of the mean, of
    which at least two are close to a limit.

    Only whole windows of three count, so the flag needs three points of the period.
    """
    n = len(close)
    if len(sides) != n:
        raise ValueError("close and sides must have one entry per point")
    windows = [
        range(start, start + 3)
        for start in range(n - 2)
        if sum(close[j] for j in range(start, start + 3)) >= 2
        and abs(sum(sides[j] for j in range(start, start + 3))) == 3
    ]
    return [any(i in window for window in windows) for i in range(n)]


def in_two_in_three(flags: Sequence[bool], close: Sequence[bool]) -> list[bool]:
    """Of the points in a two-in-three window, those that are themselves close."""
    return [bool(flag and near) for flag, near in zip(flags, close, strict=True)]


def combine_rules(
    values: Sequence[float],
    sides: Sequence[int],
    outside: Sequence[bool],
    in_trend: Sequence[bool],
    in_two_of_three: Sequence[bool],
    in_one_side_run: Sequence[bool],
) -> list[SpecialCause]:
    """One special cause per point from the rules' flags, by precedence: beyond a limit,
    then a trend, then two in three, then seven on one side."""
    n = len(values)
    steps = [_sign(b - a) for a, b in pairwise(values)]
    causes = []
    for i in range(n):
        above = sides[i] > 0
        if outside[i]:
            causes.append(SpecialCause.ABOVE_UCL if sides[i] == 1 else SpecialCause.BELOW_LCL)
        elif in_trend[i]:
            # Where the next point is in a trend too, the step to it names the direction;
            # otherwise the step from the previous point does (as NHSRplotthedots reads it).
            right = i + 1 < n and in_trend[i + 1]
            step = steps[i] if right else (steps[i - 1] if i > 0 else 0)
            causes.append(SpecialCause.TREND_UP if step == 1 else SpecialCause.TREND_DOWN)
        elif in_two_of_three[i]:
            causes.append(
                SpecialCause.TWO_IN_THREE_ABOVE if above else SpecialCause.TWO_IN_THREE_BELOW
            )
        elif in_one_side_run[i]:
            causes.append(SpecialCause.SEVEN_ABOVE if above else SpecialCause.SEVEN_BELOW)
        else:
            causes.append(SpecialCause.COMMON_CAUSE)
    return causes


def point_type(cause: SpecialCause | str, improvement: Improvement | str) -> PointType:
    """What a special cause means for a measure with the given improvement direction."""
    side = _SIDE[SpecialCause(cause)]
    direction = Improvement(improvement)
    if side == 0:
        return PointType.COMMON_CAUSE
    if direction is Improvement.NEUTRAL:
        return PointType.NEUTRAL_HIGH if side > 0 else PointType.NEUTRAL_LOW
    better = side == (1 if direction is Improvement.INCREASE else -1)
    return PointType.IMPROVEMENT if better else PointType.CONCERN


def assurance_type(
    target: float | None, lower: float, upper: float, improvement: Improvement | str
) -> Assurance | None:
    """Whether a process with these limits passes the target consistently, fails it
    consistently or hits and misses; None without a target or a better direction.

    A target exactly on a limit, or limits of NaN, give "inconsistent".
    """
    direction = Improvement(improvement)
    if target is None or direction is Improvement.NEUTRAL:
        return None
    increasing = direction is Improvement.INCREASE
    if target > upper:
        return Assurance.CONSISTENT_FAIL if increasing else Assurance.CONSISTENT_PASS
    if target < lower:
        return Assurance.CONSISTENT_PASS if increasing else Assurance.CONSISTENT_FAIL
    return Assurance.INCONSISTENT
