"""Normal, chi-square and conditional hypergeometric distributions against R."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from app.core.distributions import (
    ConditionalTable,
    binomial_cdf_window,
    chi2_1df_sf,
    normal_cdf,
    normal_quantile,
    normal_upper_quantile,
)
from tests.attendance.reference import cases, close


@pytest.mark.parametrize("case", cases("normal_quantile", key="p"))
def test_normal_quantile_matches_qnorm(case: dict[str, Any]) -> None:
    value = normal_quantile(case["p"])
    assert math.isclose(value, case["quantile"], rel_tol=1e-12, abs_tol=1e-14)
    assert math.isclose(normal_cdf(value), case["p"], rel_tol=1e-12)


@pytest.mark.parametrize("q", [1e-300, 1e-20, 0.05, 0.5, 0.7])
def test_upper_quantile_inverts_the_tail(q: float) -> None:
    x = normal_upper_quantile(q)
    assert math.isclose(0.5 * math.erfc(x / math.sqrt(2)), q, rel_tol=1e-13)


@pytest.mark.parametrize("case", cases("chi2_1df", key="statistic"))
def test_chi_square_tail_matches_pchisq(case: dict[str, Any]) -> None:
    assert close(chi2_1df_sf(case["statistic"]), case["p_value"], rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: normal_quantile(0.0), "probability must be strictly between 0 and 1"),
        (lambda: normal_quantile(1.0), "probability must be strictly between 0 and 1"),
        (lambda: normal_upper_quantile(-0.1), "tail probability must be strictly"),
        (lambda: chi2_1df_sf(-1.0), "a chi-square statistic cannot be negative"),
        (lambda: ConditionalTable(x=5, row1=3, col1=9, total=20), "do not describe a 2×2 table"),
    ],
)
def test_bad_arguments(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def _table(case: dict[str, Any]) -> ConditionalTable:
    # Rows: arm B, arm A; first column: events (as the R script builds it).
    events = case["events_a"] + case["events_b"]
    return ConditionalTable(
        x=case["events_b"], row1=case["n_b"], col1=events, total=case["n_a"] + case["n_b"]
    )


@pytest.mark.parametrize("case", cases("comparisons"))
def test_conditional_odds_ratio_matches_fisher_test(case: dict[str, Any]) -> None:
    """Every table, large ones too, against fisher.test and its precise re-solution.

    fisher.test's own estimate and interval come from uniroot at its default tolerance,
    so they are checked to 1e-3; the re-solved values and the p-value to 1e-6.
    """
    table = _table(case)
    alpha = case["alpha"]
    assert close(table.two_sided_p(), case["fisher"]["p_value"])
    assert close(table.conditional_mle(), case["fisher_precise"]["estimate"])
    assert all(map(close, table.exact_interval(alpha), case["fisher_precise"]["conf_int"]))
    assert close(table.conditional_mle(), case["fisher"]["estimate"], rel=1e-3)
    for ours, theirs in zip(table.exact_interval(alpha), case["fisher"]["conf_int"], strict=True):
        assert close(ours, theirs, rel=1e-3)


def test_conditional_probabilities_are_a_distribution() -> None:
    table = ConditionalTable(x=4, row1=10, col1=12, total=30)
    for psi in (-3.0, 0.0, 2.5):
        probs = table.probabilities(psi)
        assert math.isclose(probs.sum(), 1.0, rel_tol=1e-12)
        assert table.tail_at_least(psi) + table.tail_at_most(psi) == pytest.approx(
            1.0 + probs[table.x - table.low]
        )
    # The mean rises with the odds ratio.
    assert table.mean(-1.0) < table.mean(0.0) < table.mean(1.0)


@pytest.mark.parametrize(("n", "rate"), [(1, 0.3), (40, 0.1), (97, 0.62)])
def test_binomial_window_matches_the_binomial_formula(n: int, rate: float) -> None:
    counts, cdf = binomial_cdf_window(n, rate)
    running = 0.0
    for count, cumulative in zip(counts, cdf, strict=True):
        running += math.comb(n, int(count)) * rate**count * (1 - rate) ** (n - count)
        assert cumulative == pytest.approx(running, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("n", "rate"), [(2000, 0.02), (10**6, 0.5), (10**7, 0.001)])
def test_binomial_window_has_the_binomial_mean_and_variance(n: int, rate: float) -> None:
    counts, cdf = binomial_cdf_window(n, rate)
    probs = np.diff(cdf, prepend=0.0)
    mean = float((counts * probs).sum())
    variance = float(((counts - mean) ** 2 * probs).sum())
    assert mean == pytest.approx(n * rate, rel=1e-10)
    assert variance == pytest.approx(n * rate * (1 - rate), rel=1e-8)
