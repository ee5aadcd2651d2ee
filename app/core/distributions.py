"""Distributions the statistics need, in pure Python and numpy (no scipy).

- Normal tail probabilities come from `math.erfc`; normal quantiles are refined by
  Newton's method on the log tail, so they are accurate to a few units in the last place
  even far into the tail.
- Student t and beta quantiles reach the precision of R's `qt` and `qbeta`: the
  regularised incomplete beta function is evaluated by its continued fraction and
  inverted by Newton steps kept inside a bisection bracket.
- The conditional (Fisher) odds ratio uses the noncentral hypergeometric distribution of
  the first cell of a 2×2 table given its margins, as R's `fisher.test` does; its roots
  are found by bisection on the log odds ratio to full precision.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
# Abramowitz and Stegun 26.2.23: a starting point good to 4.5e-4 for the Newton steps.
_AS_NUM = (2.515517, 0.802853, 0.010328)
_AS_DEN = (1.432788, 0.189269, 0.001308)
_NEWTON_STEPS = 50
# Fisher's two-sided p-value counts tables as likely as the observed one within this
# relative tolerance, as R does, so that ties broken by rounding still count.
_FISHER_REL_ERR = 1.0 + 1e-7
_BISECTION_STEPS = 200
_LOG_MAX_FLOAT = math.log(sys.float_info.max)

_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_cdf(x: float) -> float:
    """P(Z ≤ x) for a standard normal Z."""
    return 0.5 * math.erfc(-x / _SQRT2)


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z, accurate in the far upper tail."""
    return 0.5 * math.erfc(x / _SQRT2)


def normal_sf_array(x: FloatArray) -> FloatArray:
    """`normal_sf` element by element."""
    return np.asarray(0.5 * _erfc(np.asarray(x, dtype=np.float64) / _SQRT2), dtype=np.float64)


def normal_pdf(x: float) -> float:
    """The standard normal density at x."""
    return math.exp(-0.5 * x * x - _LOG_SQRT_2PI)


def normal_upper_quantile(q: float) -> float:
    """The x with P(Z > x) = q, for 0 < q < 1 (so 0.025 gives 1.959963984540054)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"tail probability must be strictly between 0 and 1, got {q!r}")
    if q > 0.5:
        return -normal_upper_quantile(1.0 - q)
    t = math.sqrt(-2.0 * math.log(q))
    x = t - (_AS_NUM[0] + t * (_AS_NUM[1] + t * _AS_NUM[2])) / (
        1.0 + t * (_AS_DEN[0] + t * (_AS_DEN[1] + t * _AS_DEN[2]))
    )
    log_q = math.log(q)
    for _ in range(_NEWTON_STEPS):
        sf = normal_sf(x)
        # Newton on log P(Z > x) = log q; the derivative is -pdf/sf.
        step = (math.log(sf) - log_q) * sf / normal_pdf(x)
        x += step
        if abs(step) <= 4e-16 * max(1.0, abs(x)):
            break
    return x


def normal_quantile(p: float) -> float:
    """The x with P(Z ≤ x) = p, for 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {p!r}")
    return -normal_upper_quantile(p)


def chi2_1df_sf(statistic: float) -> float:
    """P(X > statistic) for a chi-square variable X with one degree of freedom."""
    if statistic < 0.0:
        raise ValueError(f"a chi-square statistic cannot be negative, got {statistic!r}")
    return math.erfc(math.sqrt(statistic / 2.0))


def _log_choose(n: int, k: NDArray[np.int64]) -> FloatArray:
    lgamma = np.frompyfunc(math.lgamma, 1, 1)
    return np.asarray(math.lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1), dtype=np.float64)


class ConditionalTable:
    """The first cell of a 2×2 table given its margins, as R's `fisher.test` models it.

    For the table [[x, row1 - x], [col1 - x, ...]] the cell follows a noncentral
    hypergeometric distribution whose parameter is the odds ratio. Methods take the log
    odds ratio `psi` so that any odds ratio in (0, ∞) is a finite number.
    """

    def __init__(self, x: int, row1: int, col1: int, total: int) -> None:
        if not 0 <= x <= min(row1, col1) or max(row1, col1) > total:
            raise ValueError("the cell and margins do not describe a 2×2 table")
        self.x = x
        self.low = max(0, row1 + col1 - total)
        self.high = min(row1, col1)
        self.support = np.arange(self.low, self.high + 1, dtype=np.int64)
        # Log of the central hypergeometric weights, up to a constant.
        self._log_weights = _log_choose(col1, self.support) + _log_choose(
            total - col1, row1 - self.support
        )

    def probabilities(self, psi: float) -> FloatArray:
        """P(X = u) for every u in the support, at log odds ratio psi."""
        logs = self._log_weights + psi * self.support
        weights = np.exp(logs - logs.max())
        return np.asarray(weights / weights.sum(), dtype=np.float64)

    def mean(self, psi: float) -> float:
        return float(np.dot(self.support, self.probabilities(psi)))

    def tail_at_least(self, psi: float) -> float:
        """P(X ≥ x) at log odds ratio psi."""
        return float(self.probabilities(psi)[self.x - self.low :].sum())

    def tail_at_most(self, psi: float) -> float:
        """P(X ≤ x) at log odds ratio psi."""
        return float(self.probabilities(psi)[: self.x - self.low + 1].sum())

    def two_sided_p(self) -> float:
        """Fisher's two-sided p-value: the probability of tables no likelier than x."""
        probs = self.probabilities(0.0)
        observed = probs[self.x - self.low]
        return min(1.0, float(probs[probs <= observed * _FISHER_REL_ERR].sum()))

    def conditional_mle(self) -> float:
        """The odds ratio whose conditional mean is x (0 or ∞ at the ends, as in R)."""
        if self.x == self.low:
            return 0.0
        if self.x == self.high:
            return math.inf
        return _odds(_increasing_root(self.mean, float(self.x)))

    def exact_interval(self, alpha: float) -> tuple[float, float]:
        """The exact conditional interval for the odds ratio, equal tails of alpha/2."""
        lower = 0.0
        upper = math.inf
        if self.x > self.low:
            lower = _odds(_increasing_root(self.tail_at_least, alpha / 2.0))
        if self.x < self.high:
            upper = _odds(_increasing_root(lambda psi: -self.tail_at_most(psi), -alpha / 2.0))
        return lower, upper


def _odds(psi: float) -> float:
    """The odds ratio of a log odds ratio, infinite beyond the float range."""
    return math.exp(psi) if psi < _LOG_MAX_FLOAT else math.inf


def _increasing_root(function: Callable[[float], float], target: float) -> float:
    """The psi where an increasing function reaches target, by bracketing and bisection."""
    low, high = -1.0, 1.0
    while function(low) > target:
        low *= 2.0
        if low < -1e4:
            raise ArithmeticError("no root: the function stays above the target")
    while function(high) < target:
        high *= 2.0
        if high > 1e4:
            raise ArithmeticError("no root: the function stays below the target")
    for _ in range(_BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if function(middle) < target:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def binomial_cdf_window(n: int, rate: float) -> tuple[NDArray[np.int64], FloatArray]:
    """Counts r and P(R ≤ r) for R ~ Binomial(n, rate), over the range that matters.

    Counts more than 40 standard deviations (and 40 counts) from the mean carry less
    than 1e-300 of probability and are left out, so the cost stays small for large n.
    Probabilities are built outwards from the mode by their ratios and then normalised,
    which keeps full precision for large n (log-gamma differences would not).
    """
    if not 0.0 < rate < 1.0 or n < 1:
        raise ValueError("a binomial needs n ≥ 1 and a rate strictly between 0 and 1")
    mean = n * rate
    spread = 40.0 * math.sqrt(n * rate * (1.0 - rate)) + 40.0
    first = max(0, math.floor(mean - spread))
    last = min(n, math.ceil(mean + spread))
    mode = min(max(math.floor((n + 1) * rate), first), last)
    counts = np.arange(first, last + 1, dtype=np.int64)
    # log P(r + 1) / P(r) for r = first .. last - 1
    steps = np.log((n - counts[:-1]) / (counts[:-1] + 1.0)) + math.log(rate / (1.0 - rate))
    logs = np.zeros(len(counts))
    centre = mode - first
    logs[centre + 1 :] = np.cumsum(steps[centre:])
    logs[:centre] = -np.cumsum(steps[:centre][::-1])[::-1]
    probs = np.exp(logs)
    return counts, np.asarray(np.cumsum(probs) / probs.sum(), dtype=np.float64)


# The incomplete beta function's continued fraction and its inversion.
_EPS = 1e-15
_TINY = 1e-300
_MAX_TERMS = 200_000
_MAX_STEPS = 400


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_fraction(x: float, a: float, b: float) -> float:
    """Continued fraction of I_x(a, b), evaluated by the modified Lentz method."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    value = d
    for m in range(1, _MAX_TERMS):
        two_m = 2.0 * m
        even = m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m))
        odd = -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0))
        for term in (even, odd):
            d = 1.0 + term * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + term / c
            c = c if abs(c) > _TINY else _TINY
            value *= c * d
        if abs(c * d - 1.0) < _EPS:
            return value
    raise ArithmeticError(f"incomplete beta fraction did not converge for a={a}, b={b}")


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b): the beta(a, b) distribution function at x."""
    if a <= 0 or b <= 0:
        raise ValueError(f"beta shape parameters must be positive, got a={a}, b={b}")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_density(x: float, a: float, b: float) -> float:
    return math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - _log_beta(a, b))


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = p, like R's `qbeta(p, a, b)`."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability must be in [0, 1], got {p}")
    if p == 0.0 or p == 1.0:
        return p
    low, high = 0.0, 1.0
    x = a / (a + b)
    for _ in range(_MAX_STEPS):
        gap = regularized_beta(x, a, b) - p
        if gap > 0:
            high = x
        else:
            low = x
        density = _beta_density(x, a, b)
        step = gap / density if density > 0 else math.inf
        candidate = x - step
        if not low < candidate < high:
            candidate = 0.5 * (low + high)
        if abs(candidate - x) <= 4e-16 * max(x, 1e-300) or high - low <= 1e-300:
            return candidate
        x = candidate
    return x


def t_quantile(p: float, df: float) -> float:
    """The Student t quantile on `df` degrees of freedom, like R's `qt(p, df)`.

    An infinite `df` gives the normal quantile.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {p}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(df):
        return normal_quantile(p)
    if p == 0.5:
        return 0.0
    tail = 2.0 * min(p, 1.0 - p)  # P(|T| > t)
    # |T| = t  <=>  df / (df + t^2) = x with I_x(df/2, 1/2) = tail; use whichever of x and
    # 1 - x is small to keep the precision of t.
    x = beta_quantile(tail, df / 2.0, 0.5)
    if x < 0.5:
        magnitude = math.sqrt(df * (1.0 - x) / x)
    else:
        y = beta_quantile(1.0 - tail, 0.5, df / 2.0)
        magnitude = math.sqrt(df * y / (1.0 - y))
    return magnitude if p > 0.5 else -magnitude
