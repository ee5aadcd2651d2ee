import math
from typing import Any

import numpy as np
import pytest

from app.results.nonresponse import (
    nonresponse_report,
    r_indicator,
    response_propensities,
    standardised_difference,
)

from .conftest import VARIABLES, load_reference, weighted_case


def cohort() -> tuple[dict[str, np.ndarray], np.ndarray]:
    data = load_reference()["cohort"]
    codes = {v: np.asarray(data[v], dtype=np.int64) for v in VARIABLES}
    return codes, np.asarray(data["responded"], dtype=bool)


def test_r_indicator_and_propensities_match_r_glm() -> None:
    expected = load_reference()["nonresponse"]
    codes, responded = cohort()
    report = nonresponse_report(codes, responded, levels=load_reference()["levels"])
    assert report.r_indicator == pytest.approx(expected["r_indicator"], rel=1e-9)
    assert report.propensity_sd == pytest.approx(expected["propensity_sd"], rel=1e-9)
    assert report.mean_propensity == pytest.approx(expected["mean_propensity"], rel=1e-9)
    assert report.max_bias == pytest.approx(
        (1 - expected["r_indicator"]) / (2 * expected["mean_propensity"]), rel=1e-9
    )
    fit = response_propensities(codes, responded)
    first = expected["propensity_first"]
    assert fit.converged
    assert fit.propensities[: len(first)] == pytest.approx(first, rel=1e-9)


def test_rates_per_level_count_the_cohort() -> None:
    codes, responded = cohort()
    report = nonresponse_report(codes, responded, levels=load_reference()["levels"])
    assert report.invited == len(responded)
    assert report.responded == int(responded.sum())
    for row in report.levels:
        level = load_reference()["levels"][row.variable].index(row.level)
        members = codes[row.variable] == level
        assert row.invited == int(members.sum())
        assert row.responded == int((members & responded).sum())
        assert row.rate == pytest.approx(responded[members].mean())
        assert row.rate_rest == pytest.approx(responded[~members].mean())
        assert row.ci_low < row.rate < row.ci_high


def test_weighting_on_the_same_variables_removes_the_differences() -> None:
    codes, responded = cohort()
    weights = np.zeros(len(responded))
    weights[responded] = weighted_case("rake3").weights
    report = nonresponse_report(codes, responded, weights=weights)
    before = [abs(row.std_diff_before) for row in report.levels]
    assert max(before) > 0.1
    for row in report.levels:
        assert row.std_diff_after == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("share", "reference", "expected"),
    [
        (0.5, 0.5, 0.0),
        (0.3, 0.2, 0.1 / math.sqrt((0.21 + 0.16) / 2)),
        (0.2, 0.3, -0.1 / math.sqrt((0.21 + 0.16) / 2)),
        (0.0, 0.0, 0.0),
        (1.0, 0.0, math.inf),
    ],
)
def test_standardised_difference(share: float, reference: float, expected: float) -> None:
    assert standardised_difference(share, reference) == pytest.approx(expected)


def two_groups(low_invited: int, low_replied: int) -> tuple[dict[str, Any], np.ndarray]:
    """1000 people in group 0 of whom 400 reply, and a second group as given."""
    group = np.r_[np.zeros(1000, dtype=np.int64), np.ones(low_invited, dtype=np.int64)]
    replied = np.r_[np.arange(1000) < 400, np.arange(low_invited) < low_replied]
    return {"language": group}, replied


@pytest.mark.parametrize(
    ("invited", "replied", "flagged"),
    [
        (200, 10, True),  # 5% against 40%
        (200, 60, False),  # 30%
        (10, 1, False),  # 10%, but too few to be sure: the upper end is above 20%
        (300, 0, True),  # nobody replied
    ],
)
def test_groups_far_below_the_rest_are_flagged(invited: int, replied: int, flagged: bool) -> None:
    codes, responded = two_groups(invited, replied)
    report = nonresponse_report(codes, responded, levels={"language": ["en", "pl"]})
    rows = {row.level: row for row in report.levels}
    assert rows["pl"].flagged is flagged
    assert rows["en"].flagged is False


def test_r_indicator_of_equal_propensities_is_one() -> None:
    assert r_indicator(np.full(50, 0.3)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("codes", "responded", "options", "message"),
    [
        ({"age": [0, 3]}, [1, 0], {"levels": {"age": ["a", "b"]}}, "row 1 has level code 3"),
        ({"age": [0, -1]}, [1, 0], {}, "row 1 has level code -1"),
        ({"age": [0, 1]}, [1, 2], {}, "row 1 is neither"),
        ({"age": [0, 1]}, [1, 0, 1], {}, "responded has shape"),
        ({"age": [0, 1]}, [1, 0], {"weights": [1.0]}, "2 cohort members but 1 weights"),
        ({"age": [0, 1], "sex": [0]}, [1, 0], {}, "differ in length"),
        ({"age": [0.5, 1]}, [1, 0], {}, "integer"),
        ({}, [], {}, "at least one"),
    ],
)
def test_bad_input_names_what_and_where(
    codes: dict[str, list[Any]], responded: list[int], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        nonresponse_report(codes, responded, **options)


def test_a_share_a_hair_past_one_is_read_as_one() -> None:
    # A weighted share summed in floating point can land at 1.0000000000000002.
    over = sum([0.1] * 10) + 2.3e-16
    assert over > 1.0
    assert standardised_difference(over, 1.0) == 0.0
    assert standardised_difference(over, 0.5) == pytest.approx(standardised_difference(1.0, 0.5))
