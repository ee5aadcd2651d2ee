import math
from collections.abc import Callable
from typing import Any

import pytest

from app.core.distributions import (
    beta_quantile,
    normal_quantile,
    regularized_beta,
    t_quantile,
)
from tests.results.conftest import load_reference

QUANTILES = load_reference()["quantiles"]


def _label(case: dict[str, Any]) -> str:
    shape = {"t": "df={df:g}", "beta": "a={a:g},b={b:g}", "normal": ""}[str(case["dist"])]
    return f"{case['dist']}-p={case['p']:g}-" + shape.format(**case)


@pytest.mark.parametrize("case", QUANTILES, ids=[_label(q) for q in QUANTILES])
def test_quantiles_match_r(case: dict[str, Any]) -> None:
    if case["dist"] == "t":
        value = t_quantile(case["p"], case["df"])
    elif case["dist"] == "beta":
        value = beta_quantile(case["p"], case["a"], case["b"])
    else:
        value = normal_quantile(case["p"])
    assert value == pytest.approx(case["value"], rel=1e-9, abs=1e-14)


@pytest.mark.parametrize(("p", "df"), [(0.025, 4), (0.1, 30), (0.005, 1), (0.3, 883)])
def test_t_quantile_is_symmetric(p: float, df: float) -> None:
    assert t_quantile(p, df) == pytest.approx(-t_quantile(1 - p, df), rel=1e-12)


@pytest.mark.parametrize(("x", "a", "b"), [(0.2, 2.0, 3.0), (0.7, 0.5, 0.5), (0.01, 40.0, 9.0)])
def test_beta_quantile_inverts_the_distribution(x: float, a: float, b: float) -> None:
    assert beta_quantile(regularized_beta(x, a, b), a, b) == pytest.approx(x, rel=1e-10)


@pytest.mark.parametrize(
    ("x", "a", "b", "expected"),
    [
        (0.3, 1.0, 1.0, 0.3),  # uniform
        (0.5, 2.0, 2.0, 0.5),  # symmetric
        (0.4, 2.0, 1.0, 0.16),  # x^a when b = 1
        (0.4, 1.0, 3.0, 1 - 0.6**3),  # 1 - (1 - x)^b when a = 1
        (0.0, 2.0, 5.0, 0.0),
        (1.0, 2.0, 5.0, 1.0),
    ],
)
def test_regularized_beta_closed_forms(x: float, a: float, b: float, expected: float) -> None:
    assert regularized_beta(x, a, b) == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_t_quantile_with_infinite_df_is_normal() -> None:
    assert t_quantile(0.975, math.inf) == pytest.approx(normal_quantile(0.975), rel=1e-14)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: t_quantile(1.0, 5), "strictly between 0 and 1"),
        (lambda: t_quantile(0.9, 0), "degrees of freedom"),
        (lambda: normal_quantile(0.0), "strictly between 0 and 1"),
        (lambda: beta_quantile(1.5, 2, 2), r"in \[0, 1\]"),
        (lambda: regularized_beta(0.5, -1, 2), "shape parameters"),
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
