"""Weighted estimates with standard errors that know how the weights were made.

Pure numpy. The design is R's `svydesign(ids=~1, weights=~w)` (respondents drawn with
replacement) followed by the calibration in `weighting.py`, and every number matches
R's `survey` package:

- Mean and proportion: the weighted mean. Its linearised variance uses the influence
  values of the mean, replaced by their residuals from a weighted least-squares fit on the
  calibration margins (base weights as the regression weights), as `svymean` does on a
  raked, calibrated or post-stratified design. After trimming, R keeps the calibration's
  weights in that fit and so does this module.
- A missing answer (NaN) leaves the respondent out of the estimate but in the design, as
  `svymean(..., na.rm=TRUE)`; the degrees of freedom are answers - 1.
- Intervals: "wald" (estimate ± t on df), "logit" (`svyciprop(method="logit")`), "beta"
  (Korn–Graubard, `svyciprop(method="beta")`) and "wilson" (below).
- `design_deff`: the variance over that of simple random sampling without replacement of
  n from the weighted total, as `svymean(..., deff=TRUE)`.

Effective sample size of a proportion p with variance v: n_eff = p(1 - p) / v (Kish's
(Σw)² / Σw² when v is 0). The Wilson interval puts n_eff in the binomial Wilson formula
with z the t quantile on df:

    centre = (p + z²/(2 n_eff)) / (1 + z²/n_eff)
    half   = z / (1 + z²/n_eff) · sqrt(p(1 - p)/n_eff + z²/(4 n_eff²))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.core.distributions import beta_quantile, t_quantile
from app.results.weighting import Calibration, WeightingResult

Floats = NDArray[np.float64]
CiMethod = Literal["wald", "logit", "wilson", "beta"]
CI_METHODS: tuple[CiMethod, ...] = ("wald", "logit", "wilson", "beta")

FFT_ANSWERS = ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")
_FFT_POSITIVE = {"very good", "good"}


@dataclass(frozen=True)
class Estimate:
    """A weighted estimate, its standard error and interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str  # the method used, which for a proportion of 0 or 1 under "logit" is "beta"
    level: float
    df: int  # answers - 1
    n: int  # respondents who answered
    design_deff: float  # nan when the weights add up to no more than n
    unweighted: float  # the plain mean of the answers


@dataclass(frozen=True)
class _Moments:
    mean: float
    variance: float
    answered: NDArray[np.bool_]
    weights: Floats
    srs_variance: float


def weighted_mean(
    values: ArrayLike, weighting: WeightingResult | ArrayLike, *, level: float = 0.95
) -> Estimate:
    """The weighted mean of `values` (NaN = not answered) with a t interval on answers - 1 df."""
    y = _values(values)
    moments = _moments(y, weighting)
    df = _df(moments)
    low, high = _wald(moments, df, level)
    return _estimate(moments, y, low, high, "wald", level)


def weighted_proportion(
    values: ArrayLike,
    weighting: WeightingResult | ArrayLike,
    *,
    ci: CiMethod = "logit",
    level: float = 0.95,
) -> Estimate:
    """The weighted share of 1s among 0/1 `values` (NaN = not answered), with an interval."""
    y = _values(values)
    bad = np.flatnonzero(~np.isnan(y) & (y != 0) & (y != 1))
    if bad.size:
        raise ValueError(f"row {int(bad[0])}: a proportion needs 0 or 1, got {y[bad[0]]:g}")
    moments = _moments(y, weighting)
    p = moments.mean
    if ci == "logit" and p in (0.0, 1.0):
        ci = "beta"  # the logit of 0 or 1 is infinite
    df = _df(moments)
    if ci == "wald":
        low, high = _wald(moments, df, level)
    elif ci == "logit":
        low, high = _logit(moments, df, level)
    elif ci == "wilson":
        low, high = _wilson(moments, df, level)
    elif ci == "beta":
        low, high = _korn_graubard(moments, level)
    else:
        raise ValueError(f"ci must be one of {', '.join(CI_METHODS)}, got {ci!r}")
    return _estimate(moments, y, low, high, ci, level)


def fft_positive(
    answers: Sequence[str | None],
    weighting: WeightingResult | ArrayLike,
    *,
    ci: CiMethod = "logit",
    level: float = 0.95,
) -> Estimate:
    """Friends and Family Test share positive, as NHS England defines it.

    Positive = "Very good" + "Good" over all answers, "Don't know" included. A missing or
    blank answer is left out. Answers are matched ignoring case and the apostrophe's form.
    """
    known = {_normalise(a) for a in FFT_ANSWERS}
    scored = np.empty(len(answers))
    for row, answer in enumerate(answers):
        key = _normalise(answer) if answer is not None else ""
        if not key:
            scored[row] = np.nan
        elif key in known:
            scored[row] = 1.0 if key in _FFT_POSITIVE else 0.0
        else:
            raise ValueError(f"row {row}: {answer!r} is not a Friends and Family Test answer")
    return weighted_proportion(scored, weighting, ci=ci, level=level)


def _normalise(answer: str) -> str:
    return " ".join(str(answer).lower().replace("’", "'").split())


def kish_deff(weights: ArrayLike) -> float:
    """Kish's design effect of unequal weights: 1 + CV², that is n Σw² / (Σw)²."""
    w = np.asarray(weights, dtype=np.float64)
    return float(len(w) * np.square(w).sum() / np.square(w.sum()))


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size: (Σw)² / Σw²."""
    w = np.asarray(weights, dtype=np.float64)
    return float(np.square(w.sum()) / np.square(w).sum())


def _values(values: ArrayLike) -> Floats:
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {y.shape}")
    if np.isinf(y).any():
        raise ValueError(f"row {int(np.flatnonzero(np.isinf(y))[0])}: value is infinite")
    return y


def _moments(y: Floats, weighting: WeightingResult | ArrayLike) -> _Moments:
    if isinstance(weighting, WeightingResult):
        w, calibration = weighting.weights, weighting.calibration
    else:
        w, calibration = np.asarray(weighting, dtype=np.float64), None
    if w.shape != y.shape:
        raise ValueError(f"{len(y)} values but {len(w)} weights")
    answered = ~np.isnan(y)
    if not answered.any():
        raise ValueError("no respondent answered")
    w_answered = np.where(answered, w, 0.0)
    total = w_answered.sum()
    mean = float((w_answered * np.where(answered, y, 0.0)).sum() / total)
    influence = np.where(answered, (y - mean) * w / total, 0.0)
    if calibration is not None:
        influence = _calibrated(influence, calibration)
    n = len(y)
    centred = influence - influence.mean()
    variance = float(n / (n - 1) * np.square(centred).sum()) if n > 1 else math.nan
    m = int(np.count_nonzero(answered & (w != 0)))
    spread = float((w_answered * np.square(np.where(answered, y - mean, 0.0))).sum() / total)
    srs = spread * m / (m - 1) * (total - m) / (total * m) if m > 1 and total > m else math.nan
    return _Moments(mean, variance, answered, w_answered, srs)


def _calibrated(influence: Floats, calibration: Calibration) -> Floats:
    """Residuals of the influence values from the calibration margins (R's svyrecvar)."""
    calibrated = calibration.weights
    u = np.divide(influence, calibrated, out=np.zeros_like(influence), where=calibrated > 0)
    cells = calibration.cells
    base = np.bincount(cells, weights=calibration.base_weights)
    sums = np.bincount(cells, weights=calibration.base_weights * u, minlength=len(base))
    design = _cell_design(calibration.cell_levels)
    root = np.sqrt(base)
    coef = np.linalg.lstsq(design * root[:, None], sums / root, rcond=None)[0]
    fitted: Floats = design @ coef
    return calibrated * (u - fitted[cells])


def _cell_design(cell_levels: NDArray[np.int64]) -> Floats:
    """An intercept and one indicator per level of each margin, one row per cell."""
    blocks = [np.ones((len(cell_levels), 1))]
    for j in range(cell_levels.shape[1]):
        levels = cell_levels[:, j]
        blocks.append((levels[:, None] == np.arange(levels.max() + 1)).astype(np.float64))
    return np.hstack(blocks)


def _df(moments: _Moments) -> int:
    return int(np.count_nonzero(moments.answered)) - 1


def _critical(df: int, level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    return t_quantile(0.5 + level / 2, df if df > 0 else math.inf)


def _wald(moments: _Moments, df: int, level: float) -> tuple[float, float]:
    half = _critical(df, level) * math.sqrt(moments.variance)
    return moments.mean - half, moments.mean + half


def _logit(moments: _Moments, df: int, level: float) -> tuple[float, float]:
    p = moments.mean
    centre = math.log(p / (1 - p))
    half = _critical(df, level) * math.sqrt(moments.variance) / (p * (1 - p))
    return _expit(centre - half), _expit(centre + half)


def _expit(x: float) -> float:
    if x < 0:  # exp(-x) would overflow far below 0
        small = math.exp(x)
        return small / (1.0 + small)
    return 1.0 / (1.0 + math.exp(-x))


def _n_eff(moments: _Moments) -> float:
    p = moments.mean
    # At p = 0 or 1 the linearised variance is zero but for rounding (1e-35, say), which
    # would make the effective size 0: fall back to Kish's size from the weights.
    if moments.variance > 0 and 0.0 < p < 1.0:
        return p * (1 - p) / moments.variance
    return effective_sample_size(moments.weights[moments.answered])


def _wilson(moments: _Moments, df: int, level: float) -> tuple[float, float]:
    p, n_eff, z = moments.mean, _n_eff(moments), _critical(df, level)
    shrink = 1 + z * z / n_eff
    centre = (p + z * z / (2 * n_eff)) / shrink
    half = z / shrink * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff))
    low = 0.0 if p == 0 else max(0.0, centre - half)  # exact at the ends, free of rounding
    high = 1.0 if p == 1 else min(1.0, centre + half)
    return low, high


def _korn_graubard(moments: _Moments, level: float) -> tuple[float, float]:
    p, n_eff, alpha = moments.mean, _n_eff(moments), 1 - level
    low = 0.0 if p == 0 else beta_quantile(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
    high = 1.0 if p == 1 else beta_quantile(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    return low, high


def _estimate(
    moments: _Moments, y: Floats, low: float, high: float, method: str, level: float
) -> Estimate:
    deff = moments.variance / moments.srs_variance if moments.srs_variance > 0 else math.nan
    return Estimate(
        estimate=moments.mean,
        se=math.sqrt(moments.variance),
        ci_low=low,
        ci_high=high,
        ci_method=method,
        level=level,
        df=_df(moments),
        n=int(np.count_nonzero(moments.answered)),
        design_deff=deff,
        unweighted=float(np.nanmean(y)),
    )
