"""Funnel-plot limits against R's binomial quantiles with Spiegelhalter's interpolation."""

from __future__ import annotations

import pytest

from app.core.funnel import (
    FunnelLimits,
    FunnelPosition,
    binomial_limit,
    binomial_limits,
    funnel_curve,
    funnel_limits,
    funnel_units,
    overall_rate,
    position,
)


@pytest.mark.parametrize(
    ("rate", "n", "p", "expected"),
    [  # R: r <- qbinom(p, n, rate); F <- function(k) pbinom(k, n, rate)
        # min(1, max(0, (r - (F(r) - p) / (F(r) - F(r - 1))) / n))
        (0.1, 100, 0.025, 0.040380595524393),
        (0.1, 100, 0.975, 0.157718611639127),
        (0.1, 100, 0.001, 0.014178865008435),
        (0.1, 100, 0.999, 0.198356718502886),
        (0.1, 1, 0.025, 0.0),
        (0.1, 1, 0.975, 0.75),
        (0.1, 1, 0.999, 0.99),
        (0.25, 40, 0.025, 0.108223638367914),
        (0.25, 40, 0.999, 0.465589929470013),
        (0.08, 1000, 0.025, 0.063090727004447),
        (0.08, 1000, 0.975, 0.096718719967192),
        (0.08, 1000, 0.001, 0.054214926639401),
        (0.08, 1000, 0.999, 0.107175196683928),
        (0.5, 7, 0.025, 0.044897959183673),
        (0.5, 7, 0.975, 0.812244897959184),
        (0.02, 5000, 0.001, 0.014058801178085),
        (0.02, 5000, 0.999, 0.026289571291263),
        (0.9, 30, 0.025, 0.765139239781952),
        (0.9, 30, 0.999, 0.999213672504136),
    ],
)
def test_binomial_limit_matches_r(rate: float, n: int, p: float, expected: float) -> None:
    assert binomial_limit(rate, n, p) == pytest.approx(expected, abs=1e-12)


def test_limits_at_a_rate_of_zero_or_one_are_the_rate() -> None:
    assert funnel_limits(0.0, 50) == FunnelLimits(50, 0.0, 0.0, 0.0, 0.0)
    assert funnel_limits(1.0, 50).upper_998 == 1.0


def test_the_funnel_narrows_as_volume_grows() -> None:
    curve = funnel_curve(0.12, 10, 2000)
    assert curve[0].n == 10
    assert curve[-1].n == 2000
    assert [c.n for c in curve] == sorted({c.n for c in curve})
    widths = [c.upper_998 - c.lower_998 for c in curve]
    assert widths[0] > widths[len(widths) // 2] > widths[-1]
    for c in curve:
        assert c.lower_998 <= c.lower_95 <= 0.12 <= c.upper_95 <= c.upper_998


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.03, FunnelPosition.BELOW_998),
        (0.06, FunnelPosition.BELOW_95),
        (0.1, FunnelPosition.WITHIN),
        (0.17, FunnelPosition.ABOVE_95),
        (0.25, FunnelPosition.ABOVE_998),
    ],
)
def test_position(rate: float, expected: FunnelPosition) -> None:
    limits = FunnelLimits(n=100, lower_95=0.08, upper_95=0.16, lower_998=0.04, upper_998=0.2)
    assert position(rate, limits) is expected


def test_a_rate_on_a_limit_is_within_it() -> None:
    limits = funnel_limits(0.1, 100)
    assert position(limits.upper_95, limits) is FunnelPosition.WITHIN
    assert position(limits.upper_998, limits) is FunnelPosition.ABOVE_95


def test_units_are_placed_around_the_overall_rate() -> None:
    events, volumes = [10, 40, 2], [100, 200, 100]
    assert overall_rate(events, volumes) == pytest.approx(52 / 400)
    units = funnel_units(events, volumes)
    assert [u.rate for u in units] == [0.1, 0.2, 0.02]
    assert [u.limits.n for u in units] == volumes
    assert units[1].position is FunnelPosition.ABOVE_95
    assert units[2].position is FunnelPosition.BELOW_998


@pytest.mark.parametrize(
    ("events", "volumes", "message"),
    [
        ([5], [4], "exceeds"),
        ([-1], [4], "whole number"),
        ([1.5], [4], "whole number"),
        ([0], [0], "at least one case"),
        ([1, 0], [5, 0], "at least one case"),
    ],
)
def test_bad_counts_are_refused(events: list[int], volumes: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        funnel_units(events, volumes)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="p must"):
        binomial_limit(0.1, 10, 1.0)
    with pytest.raises(ValueError, match="n must"):
        binomial_limit(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="rate must"):
        binomial_limit(1.5, 10, 0.5)


@pytest.mark.parametrize(("rate", "n"), [(0.1, 100), (0.1, 1), (0.08, 1000), (0.9, 30)])
def test_the_four_limits_of_one_volume_come_from_one_binomial(rate: float, n: int) -> None:
    tails = [0.001, 0.025, 0.975, 0.999]
    assert binomial_limits(rate, n, tails) == [binomial_limit(rate, n, p) for p in tails]
    limits = funnel_limits(rate, n)
    low_998, low_95, high_95, high_998 = binomial_limits(rate, n, tails)
    assert (limits.n, limits.lower_95, limits.upper_95) == (n, pytest.approx(low_95), high_95)
    assert (limits.lower_998, limits.upper_998) == (pytest.approx(low_998), high_998)


def test_units_take_limits_already_computed_for_their_volume() -> None:
    events, volumes = [10, 40, 2], [100, 200, 100]
    computed = funnel_units(events, volumes)
    given = [u.limits for u in computed]
    assert funnel_units(events, volumes, limits=[given[0], None, given[2]]) == computed
    narrow = FunnelLimits(n=100, lower_95=0.09, upper_95=0.11, lower_998=0.095, upper_998=0.105)
    (placed,) = funnel_units([2], [100], 0.1, limits=[narrow])
    assert (placed.limits, placed.position) == (narrow, FunnelPosition.BELOW_998)
    with pytest.raises(ValueError, match="limits for a volume of 100 given for a unit of 200"):
        funnel_units([10], [200], 0.1, limits=[narrow])
