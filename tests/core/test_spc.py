"""The XmR chart against NHSRplotthedots 0.2.0 and against series worked by hand.

tests/reference/spc/README.md says where each expected number comes from.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from app.core.spc import (
    LIMIT_FACTOR,
    Assurance,
    Improvement,
    Limits,
    PointType,
    SpecialCause,
    assurance_type,
    combine_rules,
    exact_mean,
    in_two_in_three,
    point_type,
    run_members,
    seven_on_one_side,
    seven_point_trend,
    special_causes,
    two_in_three,
    xmr,
)

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "spc"
PACKAGE = json.loads((REFERENCE / "nhsrplotthedots.json").read_text(encoding="utf-8"))
HAND = json.loads((REFERENCE / "hand_worked.json").read_text(encoding="utf-8"))
CAUSE = {code: SpecialCause(text) for code, text in HAND["legend"]["special_cause"].items()}
TYPE = {code: PointType(text) for code, text in HAND["legend"]["point_type"].items()}


def _helper_cases(name: str) -> list[Any]:
    return [
        pytest.param(c["input"], c["expected"], id=str(i))
        for i, c in enumerate(PACKAGE["helpers"][name]["cases"])
    ]


def _series(source: dict[str, Any]) -> list[Any]:
    return [pytest.param(s, id=s["name"]) for s in source["series"]]


def _chart(case: dict[str, Any]) -> Any:
    return xmr(
        case["values"],
        improvement=case["improvement"],
        target=case["target"],
        rebase_at=case["rebase_at"],
        screen_outliers=case["screen_outliers"],
    )


def _significant(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


# NHSRplotthedots' helpers (tests/testthat/test-ptd_calculate_point_type.R) ----------------


@pytest.mark.parametrize(("sides", "expected"), _helper_cases("seven_on_one_side"))
def test_seven_on_one_side(sides: list[int], expected: list[int]) -> None:
    assert seven_on_one_side(sides) == [bool(x) for x in expected]


@pytest.mark.parametrize(("ends", "expected"), _helper_cases("run_members"))
def test_every_point_of_a_run_is_a_member(ends: list[int], expected: list[int]) -> None:
    assert run_members(ends) == [bool(x) for x in expected]


@pytest.mark.parametrize(("values", "expected"), _helper_cases("seven_point_trend"))
def test_seven_point_trend(values: list[float], expected: list[int]) -> None:
    assert seven_point_trend(values) == expected


@pytest.mark.parametrize(("given", "expected"), _helper_cases("two_in_three"))
def test_two_in_three(given: list[list[int]], expected: list[int]) -> None:
    close, sides = given
    assert two_in_three([bool(c) for c in close], sides) == [bool(x) for x in expected]


@pytest.mark.parametrize(("given", "expected"), _helper_cases("in_two_in_three_of_close"))
def test_only_the_close_points_of_two_in_three_are_flagged(
    given: list[list[int]], expected: list[int]
) -> None:
    close, sides = ([bool(c) for c in given[0]], given[1])
    assert in_two_in_three(two_in_three(close, sides), close) == [bool(x) for x in expected]


def test_rules_combine_by_precedence() -> None:
    (case,) = PACKAGE["helpers"]["combine_rules"]["cases"]
    found = combine_rules(
        case["values"],
        case["sides"],
        outside=[bool(x) for x in case["outside"]],
        in_trend=[bool(x) for x in case["in_trend"]],
        in_two_of_three=[bool(x) for x in case["in_two_of_three"]],
        in_one_side_run=[bool(x) for x in case["in_one_side_run"]],
    )
    assert found == case["expected"]


# tests/testthat/test-ptd_calculate_assurance_type.R ---------------------------------------


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c["improvement"]) for c in PACKAGE["assurance"]["cases"]]
)
def test_assurance_type(case: dict[str, Any]) -> None:
    target = PACKAGE["assurance"]["target"]
    found = [
        assurance_type(target, limits["lower"], limits["upper"], case["improvement"])
        for limits in PACKAGE["assurance"]["limits"]
    ]
    assert found == case["expected"]


def test_assurance_reads_the_last_period() -> None:
    # test-ptd_calculate_assurance_type.R "it returns correct values for assurance when
    # rebase": only the last rows' limits count.
    values = [10, 12] * 5 + [20, 22] * 5
    rebased = xmr(values, "increase", target=15, rebase_at=[10])
    whole = xmr(values, "increase", target=15)
    assert rebased.assurance_type is Assurance.CONSISTENT_PASS
    assert whole.assurance_type is Assurance.INCONSISTENT


# NHSRplotthedots' series: the numbers its tests state, and what its sources compute -------


@pytest.mark.parametrize("case", _series(PACKAGE))
def test_series_as_nhsrplotthedots_states(case: dict[str, Any]) -> None:
    chart = _chart(case)
    expected = case["expected"]
    for key in ("mean", "lower", "upper"):
        if key in expected:
            value, digits = expected[key]
            got = getattr(chart, key)[0]
            if case["source"].startswith("vignettes/"):
                assert round(got, digits) == pytest.approx(value)
            else:
                assert _significant(got, digits) == pytest.approx(value)
    if "sides_prefix" in expected:
        sides = [(y > m) - (y < m) for y, m in zip(chart.values, chart.mean, strict=True)]
        assert sides[: len(expected["sides_prefix"])] == expected["sides_prefix"]
    if "common_cause_count" in expected:
        assert chart.point_type.count(PointType.COMMON_CAUSE) == expected["common_cause_count"]
    if "period" in expected:
        assert chart.period == expected["period"]
    if "point_type" in expected:
        assert chart.point_type == expected["point_type"]
    if "point_type_suffix" in expected:
        assert (
            chart.point_type[-len(expected["point_type_suffix"]) :]
            == (expected["point_type_suffix"])
        )
    if "variation_type" in expected:
        assert chart.variation_type == expected["variation_type"]
    if "assurance_type" in expected:
        assert chart.assurance_type == expected["assurance_type"]


@pytest.mark.parametrize("case", _series(PACKAGE))
def test_series_as_nhsrplotthedots_computes(case: dict[str, Any]) -> None:
    chart = _chart(case)
    computed = case["computed"]
    for span, limits in zip(chart.periods, computed["periods"], strict=True):
        # Bit for bit: the mean is rounded once from its exact value, as R's is.
        assert chart.mean[span.start] == limits["mean"]
        assert chart.lower[span.start] == limits["lower"]
        assert chart.upper[span.start] == limits["upper"]
    assert chart.special_cause == computed["special_cause"]
    assert chart.point_type == computed["point_type"]
    assert chart.variation_type == computed["variation_type"]
    assert chart.assurance_type == computed["assurance_type"]
    assert chart.trial_limits == computed["trial_limits"]


def test_screening_narrows_the_limits() -> None:
    # test-ptd_spc_standard.R "it returns expected values": the three sets of limits differ,
    # and the unscreened range is the wider one.
    by_name = {s["name"]: _chart(s) for s in PACKAGE["series"]}
    plain = by_name["seed_123"]
    screened = by_name["seed_123_outlier_screened"]
    unscreened = by_name["seed_123_outlier_unscreened"]
    assert len({plain.lower[0], screened.lower[0], unscreened.lower[0]}) == 3
    assert len({plain.upper[0], screened.upper[0], unscreened.upper[0]}) == 3
    assert unscreened.upper[0] - unscreened.lower[0] > screened.upper[0] - screened.lower[0]


# Series worked by hand ---------------------------------------------------------------------


@pytest.mark.parametrize("case", _series(HAND))
def test_hand_worked_series(case: dict[str, Any]) -> None:
    chart = _chart(case)
    for span, period in zip(chart.periods, case["periods"], strict=True):
        mean = float(Fraction(period["mean"]))
        assert chart.mean[span.start] == pytest.approx(mean, abs=1e-12)
        if period["mean_moving_range"] is None:
            assert math.isnan(chart.lower[span.start])
            assert math.isnan(chart.upper[span.start])
        else:
            spread = LIMIT_FACTOR * float(Fraction(period["mean_moving_range"]))
            assert chart.lower[span.start] == pytest.approx(mean - spread, abs=1e-12)
            assert chart.upper[span.start] == pytest.approx(mean + spread, abs=1e-12)
        assert len({chart.mean[i] for i in span}) == 1
    assert chart.special_cause == [CAUSE[c] for c in case["special_cause"]]
    assert chart.point_type == [TYPE[c] for c in case["point_type"]]
    assert chart.variation_type is TYPE[case["variation_type"]]
    assert chart.assurance_type == case["assurance_type"]
    assert chart.trial_limits == [case["trial_limits"]] * len(case["values"])


NARROW = Limits(mean=0.0, lower=-3.0, upper=3.0, near_lower=-2.0, near_upper=2.0)
WIDE = Limits(mean=0.0, lower=-30.0, upper=30.0, near_lower=-20.0, near_upper=20.0)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in HAND["rules"]["cases"]])
def test_rules_against_limits_given_by_hand(case: dict[str, Any]) -> None:
    limits = WIDE if case.get("wide") else NARROW
    assert special_causes(case["values"], limits) == [CAUSE[c] for c in case["expected"]]


# Directions, inputs and edges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "improvement", "expected"),
    [
        (SpecialCause.ABOVE_UCL, Improvement.INCREASE, PointType.IMPROVEMENT),
        (SpecialCause.ABOVE_UCL, Improvement.DECREASE, PointType.CONCERN),
        (SpecialCause.ABOVE_UCL, Improvement.NEUTRAL, PointType.NEUTRAL_HIGH),
        (SpecialCause.TREND_DOWN, Improvement.INCREASE, PointType.CONCERN),
        (SpecialCause.TREND_DOWN, Improvement.DECREASE, PointType.IMPROVEMENT),
        (SpecialCause.TREND_DOWN, Improvement.NEUTRAL, PointType.NEUTRAL_LOW),
        (SpecialCause.TWO_IN_THREE_BELOW, "decrease", PointType.IMPROVEMENT),
        (SpecialCause.SEVEN_ABOVE, "increase", PointType.IMPROVEMENT),
        (SpecialCause.COMMON_CAUSE, "neutral", PointType.COMMON_CAUSE),
    ],
)
def test_point_type_follows_the_improvement_direction(
    cause: SpecialCause, improvement: str, expected: PointType
) -> None:
    assert point_type(cause, improvement) is expected


def test_the_default_direction_is_decrease_and_results_are_plain_strings() -> None:
    chart = xmr([36, 50, 52, 50, 52, 50, 52, 50, 52, 50, 52, 66])
    assert chart.improvement is Improvement.DECREASE
    assert chart.point_type[0] == "special_cause_improvement"
    assert chart.special_cause[-1] == "Above UCL"
    assert chart.variation_type == "special_cause_concern"
    assert chart.assurance_type is None


def test_an_exact_mean_keeps_a_point_on_it() -> None:
    # Summed in floating point, 0.1 + 0.2 + 0.3 over 3 lands just below 0.2.
    assert sum([0.1, 0.2, 0.3]) / 3 != 0.2
    assert exact_mean([0.1, 0.2, 0.3]) == 0.2
    chart = xmr([0.1, 0.2, 0.3])
    assert chart.mean[0] == 0.2


def test_rebasing_at_the_first_point_changes_nothing() -> None:
    values = [3, 5, 4, 6, 5, 7]
    assert xmr(values, rebase_at=[0]) == xmr(values)
    assert xmr(values, rebase_at=[0, 3, 3]).period == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([], {}, "at least one value"),
        ([1, float("nan")], {}, "finite"),
        ([1, float("inf")], {}, "finite"),
        ([1, "2"], {}, "must be a number"),
        ([1, True], {}, "must be a number"),
        ([1, 2, 3], {"rebase_at": [3]}, "rebase index"),
        ([1, 2, 3], {"rebase_at": [-1]}, "rebase index"),
        ([1, 2, 3], {"improvement": "sideways"}, "sideways"),
        ([1, 2, 3], {"target": float("nan")}, "finite"),
    ],
)
def test_bad_input_is_refused(values: list[Any], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        xmr(values, **kwargs)


def test_two_in_three_needs_matching_lengths() -> None:
    with pytest.raises(ValueError, match="one entry per point"):
        two_in_three([True, False, True], [1])
