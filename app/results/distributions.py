"""Quantiles of the normal, Student t and beta distributions, in plain Python.

The estimates need t and beta quantiles to the precision R's `qt` and `qbeta` give; numpy
has no quantile functions and the project does not depend on scipy. The regularised
incomplete beta function is evaluated by its continued fraction and inverted by Newton
steps kept inside a bisection bracket.
"""

from __future__ import annotations

import math

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


def normal_quantile(p: float) -> float:
    """The standard normal quantile, like R's `qnorm(p)`."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {p}")
    low, high = -40.0, 40.0
    x = 0.0
    for _ in range(_MAX_STEPS):
        gap = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
        if gap > 0:
            high = x
        else:
            low = x
        density = math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        candidate = x - gap / density if density > 0 else 0.5 * (low + high)
        if not low < candidate < high:
            candidate = 0.5 * (low + high)
        if abs(candidate - x) <= 1e-15 * max(abs(x), 1e-300):
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
