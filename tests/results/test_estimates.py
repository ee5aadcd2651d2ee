import math
from typing import Any

import numpy as np
import pytest

from app.core.distributions import t_quantile
from app.results.estimates import (
    FFT_ANSWERS,
    _logit,
    _Moments,
    _n_eff,
    effective_sample_size,
    fft_positive,
    kish_deff,
    weighted_mean,
    weighted_proportion,
)

from .conftest import CASES, load_reference, outcome, weighted_case

MEAN_FIELDS = {
    "mean": "estimate",
    "se": "se",
    "deff": "design_deff",
    "t_low": "ci_low",
    "t_high": "ci_high",
    "unweighted": "unweighted",
    "df": "df",
}
PROPORTION_CIS = ("logit", "beta", "wilson")


def _mean_cases() -> list[tuple[str, str, str, str]]:
    return [
        (case, name, field, attribute)
        for case in CASES
        for name in ("score", "answered", "positive")
        for field, attribute in MEAN_FIELDS.items()
    ]


@pytest.mark.parametrize(("case", "name", "field", "attribute"), _mean_cases())
def test_weighted_mean_matches_svymean(case: str, name: str, field: str, attribute: str) -> None:
    expected = load_reference()["cases"][case]["estimates"][name][field]
    estimate = weighted_mean(outcome(name), weighted_case(case))
    assert getattr(estimate, attribute) == pytest.approx(expected, rel=1e-6)
    assert estimate.ci_method == "wald"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ci", PROPORTION_CIS)
def test_proportion_intervals_match_svyciprop(case: str, ci: str) -> None:
    expected = load_reference()["cases"][case]["estimates"]["positive"]
    estimate = weighted_proportion(outcome("positive"), weighted_case(case), ci=ci)  # type: ignore[arg-type]
    assert estimate.ci_method == ci
    assert estimate.estimate == pytest.approx(expected["mean"], rel=1e-6)
    assert estimate.se == pytest.approx(expected["se"], rel=1e-6)
    assert estimate.ci_low == pytest.approx(expected[f"{ci}_low"], rel=1e-6)
    assert estimate.ci_high == pytest.approx(expected[f"{ci}_high"], rel=1e-6)


def test_missing_answers_leave_the_estimate_but_not_the_design() -> None:
    estimate = weighted_mean(outcome("answered"), weighted_case("rake3"))
    answered = int(np.count_nonzero(~np.isnan(outcome("answered"))))
    assert estimate.n == answered < len(outcome("answered"))
    assert estimate.df == answered - 1


def test_equal_weights_without_calibration_give_the_textbook_standard_error() -> None:
    y = outcome("score")
    estimate = weighted_mean(y, np.ones_like(y))
    assert estimate.estimate == pytest.approx(y.mean())
    assert estimate.se == pytest.approx(y.std(ddof=1) / math.sqrt(len(y)), rel=1e-12)
    assert math.isnan(estimate.design_deff)  # weights add up to n: no finite population


@pytest.mark.parametrize(
    ("weights", "deff", "ess"),
    [([1, 1, 1, 1], 1.0, 4.0), ([1, 2, 3], 42 / 36, 36 / 14), ([5, 5], 1.0, 2.0)],
)
def test_kish(weights: list[float], deff: float, ess: float) -> None:
    assert kish_deff(weights) == pytest.approx(deff)
    assert effective_sample_size(weights) == pytest.approx(ess)


def test_kish_of_the_raked_weights_matches_r() -> None:
    expected = load_reference()["cases"]["rake3"]["kish_deff"]
    assert kish_deff(weighted_case("rake3").weights) == pytest.approx(expected, rel=1e-9)


def test_a_proportion_of_zero_uses_korn_graubard_under_logit() -> None:
    n = 10
    estimate = weighted_proportion(np.zeros(n), np.full(n, 3.0), ci="logit")
    assert estimate.ci_method == "beta"
    assert estimate.ci_low == 0.0
    assert estimate.ci_high == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-10)  # qbeta(.975, 1, n)


def test_a_proportion_of_one_with_unequal_weights_keeps_its_effective_size() -> None:
    """All answers positive: the linearised variance is zero up to rounding, which must
    not shrink the effective size to nothing (and the interval with it)."""
    weights = np.array([0.7, 1.9, 1.3, 0.4, 2.2, 1.1, 0.9, 1.5])
    estimate = weighted_proportion(np.ones(len(weights)), weights, ci="logit")
    n_eff = effective_sample_size(weights)
    assert estimate.ci_method == "beta"
    assert estimate.ci_high == 1.0
    assert estimate.ci_low == pytest.approx(0.025 ** (1 / n_eff), rel=1e-9)  # qbeta(.025, n, 1)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_a_rounding_variance_at_the_ends_does_not_empty_the_effective_size(p: float) -> None:
    """Raked weights can leave a linearised variance of 1e-35 where it is zero: the
    effective size then comes from the weights, as it does for a variance of zero."""
    weights = np.array([0.7, 1.9, 1.3, 0.4])
    moments = _Moments(p, 1e-35, np.ones(4, dtype=bool), weights, 0.0)
    assert _n_eff(moments) == pytest.approx(effective_sample_size(weights))


def test_wilson_of_zero_uses_the_kish_sample_size() -> None:
    n = 10
    estimate = weighted_proportion(np.zeros(n), np.ones(n), ci="wilson")
    z = t_quantile(0.975, n - 1)
    assert estimate.ci_low == 0.0
    assert estimate.ci_high == pytest.approx(z * z / (n + z * z), rel=1e-12)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (list(FFT_ANSWERS), 2 / 6),  # "Don't know" counts in the denominator
        (["very good", "GOOD", "poor", None, ""], 2 / 3),  # blanks are left out
        (["Don’t know", "Good"], 1 / 2),  # either apostrophe
        (["  Very   good ", "Neither good nor poor"], 1 / 2),
    ],
)
def test_fft_positive(answers: list[Any], expected: float) -> None:
    estimate = fft_positive(answers, np.ones(len(answers)))
    assert estimate.estimate == pytest.approx(expected)
    assert estimate.n == sum(1 for a in answers if a)


def test_fft_positive_is_weighted() -> None:
    estimate = fft_positive(["Good", "Poor", "Poor"], [4.0, 1.0, 1.0])
    assert estimate.estimate == pytest.approx(4 / 6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: weighted_proportion([0, 1, 2], [1, 1, 1]), "row 2: a proportion needs 0 or 1"),
        (lambda: weighted_mean([1.0, 2.0], [1.0, 1.0, 1.0]), "2 values but 3 weights"),
        (lambda: weighted_mean([math.nan, math.nan], [1.0, 1.0]), "no respondent answered"),
        (lambda: weighted_mean([1.0, math.inf], [1.0, 1.0]), "row 1: value is infinite"),
        (lambda: weighted_proportion([0, 1], [1, 1], ci="exact"), "ci must be one of"),  # type: ignore[arg-type]
        (lambda: weighted_mean([1.0, 2.0], [1.0, 1.0], level=95), "level must be between"),
        (lambda: fft_positive(["Good", "Excellent"], [1, 1]), "row 1: 'Excellent' is not"),
    ],
)
def test_bad_input_is_refused(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_a_share_resting_on_vanishing_weights_has_an_interval_not_an_overflow() -> None:
    """Raking a small cohort can drive a few respondents' weights towards 0 (1e-298, say):
    a share carried by them alone is then about 1e-57, while the residuals on the margins
    leave a variance of about 1e-32. The logit interval's half-width (some 1e40) is more
    than exp() can hold; the interval is all of [0, 1], as the data say nothing."""
    weights = np.array([3.5, 7.0, 2.2e-55, 3.5, 5.2, 2.8, 1.4e-298, 1.8, 4.3e-138, 7.3, 1.7e-152])
    moments = _Moments(5.4e-57, 1.85e-32, np.ones(len(weights), dtype=bool), weights, 3e-58)
    low, high = _logit(moments, 12, 0.95)
    assert (low, high) == (pytest.approx(0.0, abs=1e-300), 1.0)
