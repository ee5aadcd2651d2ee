"""Who is not being heard: response by weighting category, and how representative replies are.

Pure numpy. Input is the cohort (everyone invited): level codes per weighting variable, a
flag for who responded, and optionally the respondents' weights.

- Response rate per level with a Wilson score interval (normal quantile, binomial counts).
- R-indicator (Schouten, Cobben and Bethlehem 2009): R = 1 - 2·S(ρ̂), where ρ̂ are response
  propensities from a logistic regression of responding on the main effects of every
  weighting variable (fitted by iteratively reweighted least squares on the occupied cells)
  and S is their standard deviation over the cohort (divisor N - 1). 1 means replies are
  representative on these variables; the maximal absolute standardised bias of a mean is
  (1 - R) / (2·mean ρ̂).
- Standardised difference of a level's share, respondents against cohort:
  (p_r - p_c) / sqrt((p_r(1 - p_r) + p_c(1 - p_c)) / 2), before weighting (respondents
  counted) and after (respondents weighted).
- A level is flagged when the upper end of its interval is below `flag_ratio` (default 0.5)
  times the response rate of the rest of the cohort (every other level of that variable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.core.intervals import wilson_interval

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class LevelResponse:
    """Response in one level of one weighting variable."""

    variable: str
    level: str
    invited: int
    responded: int
    rate: float  # nan for a level nobody was invited in
    ci_low: float
    ci_high: float
    rate_rest: float  # response rate of everyone invited in other levels of the variable
    std_diff_before: float
    std_diff_after: float | None  # None without weights
    flagged: bool


@dataclass(frozen=True)
class PropensityFit:
    """Response propensity of every cohort member from a main-effects logistic model."""

    propensities: Floats
    iterations: int
    converged: bool


@dataclass(frozen=True)
class NonresponseReport:
    """Response rates, representativeness and flags for one cohort."""

    invited: int
    responded: int
    overall_rate: float
    levels: tuple[LevelResponse, ...]
    r_indicator: float
    propensity_sd: float
    mean_propensity: float
    max_bias: float  # (1 - R) / (2 · mean propensity)
    propensity_converged: bool


def nonresponse_report(
    codes: Mapping[str, ArrayLike],
    responded: ArrayLike,
    *,
    levels: Mapping[str, Sequence[str]] | None = None,
    weights: ArrayLike | None = None,
    flag_ratio: float = 0.5,
    confidence: float = 0.95,
) -> NonresponseReport:
    """The report for a cohort: codes per variable and responded flags, one per person.

    `levels` names each variable's levels (code i is levels[i]); without it the codes are
    named by number. `weights` (one per cohort member; non-respondents' are ignored) gives
    the standardised differences after weighting.
    """
    columns, names = _check(codes, levels)
    flags = _responded(responded, _length(columns))
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and w.shape != flags.shape:
        raise ValueError(f"{len(flags)} cohort members but {len(w)} weights")
    fit = response_propensities(columns, flags)
    sd = float(np.std(fit.propensities, ddof=1)) if len(flags) > 1 else 0.0
    mean_rho = float(fit.propensities.mean())
    rows = [
        row
        for variable, column in columns.items()
        for row in _levels(variable, column, names[variable], flags, w, flag_ratio, confidence)
    ]
    return NonresponseReport(
        invited=len(flags),
        responded=int(flags.sum()),
        overall_rate=float(flags.mean()),
        levels=tuple(rows),
        r_indicator=r_indicator(fit.propensities),
        propensity_sd=sd,
        mean_propensity=mean_rho,
        max_bias=sd / mean_rho if mean_rho > 0 else math.nan,
        propensity_converged=fit.converged,
    )


def r_indicator(propensities: ArrayLike) -> float:
    """R = 1 - 2·S(ρ), S the standard deviation with divisor N - 1."""
    rho = np.asarray(propensities, dtype=np.float64)
    return 1.0 - 2.0 * float(np.std(rho, ddof=1)) if len(rho) > 1 else 1.0


def response_interval(replied: int, invited: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson interval of a response rate; NaN for a group nobody was invited from."""
    if invited <= 0:
        return math.nan, math.nan
    return wilson_interval(replied, invited, 1.0 - confidence)


def standardised_difference(share: float, reference: float) -> float:
    """(p - q) / sqrt((p(1 - p) + q(1 - q)) / 2); 0 when both are 0 or both are 1.

    Shares are clamped to [0, 1] first: a weighted share summed in floating point may
    land a hair outside it (1.0000000000000002), which would make the root undefined."""
    share, reference = min(max(share, 0.0), 1.0), min(max(reference, 0.0), 1.0)
    spread = math.sqrt((share * (1 - share) + reference * (1 - reference)) / 2)
    if spread == 0:
        return 0.0 if share == reference else math.copysign(math.inf, share - reference)
    return (share - reference) / spread


def response_propensities(
    codes: Mapping[str, Ints], responded: NDArray[np.bool_], *, max_iter: int = 50
) -> PropensityFit:
    """Logistic regression of responding on main effects, by IRLS on the occupied cells.

    Converges like R's `glm` (relative change in deviance below 1e-10). A level where
    nobody responded drives its propensity towards 0 and the fit stops at `max_iter`.
    """
    columns = list(codes.values())
    shape = tuple(int(c.max()) + 1 for c in columns)
    key = np.ravel_multi_index(tuple(columns), shape)
    occupied, cells = np.unique(key, return_inverse=True)
    cell_codes = np.unravel_index(occupied, shape)
    design = np.hstack(
        [np.ones((len(occupied), 1))]
        + [
            (c[:, None] == np.arange(1, size)).astype(np.float64)
            for c, size in zip(cell_codes, shape, strict=True)
        ]
    )
    trials = np.bincount(cells).astype(np.float64)
    successes = np.bincount(cells, weights=responded.astype(np.float64)).astype(np.float64)
    mu = (successes + 0.5) / (trials + 1.0)
    eta = np.log(mu / (1 - mu))
    deviance = math.inf
    for iteration in range(1, max_iter + 1):
        weight = trials * mu * (1 - mu)
        working = eta + (successes - trials * mu) / np.maximum(weight, 1e-300)
        root = np.sqrt(weight)
        coef = np.linalg.lstsq(design * root[:, None], working * root, rcond=None)[0]
        eta = np.clip(design @ coef, -30.0, 30.0)
        mu = 1.0 / (1.0 + np.exp(-eta))
        previous, deviance = deviance, _deviance(successes, trials, mu)
        if abs(deviance - previous) / (abs(deviance) + 0.1) < 1e-10:
            return PropensityFit(mu[cells], iteration, True)
    return PropensityFit(mu[cells], max_iter, False)


def _deviance(successes: Floats, trials: Floats, mu: Floats) -> float:
    failures = trials - successes
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(successes > 0, successes * np.log(successes / (trials * mu)), 0.0)
        part += np.where(failures > 0, failures * np.log(failures / (trials * (1 - mu))), 0.0)
    return float(2 * part.sum())


def _check(
    codes: Mapping[str, ArrayLike], levels: Mapping[str, Sequence[str]] | None
) -> tuple[dict[str, Ints], dict[str, tuple[str, ...]]]:
    if not codes:
        raise ValueError("at least one weighting variable is needed")
    columns: dict[str, Ints] = {}
    names: dict[str, tuple[str, ...]] = {}
    for variable, raw in codes.items():
        column = np.asarray(raw)
        if column.ndim != 1 or not np.issubdtype(column.dtype, np.integer):
            raise ValueError(f"variable {variable!r}: codes must be a 1-D integer array")
        column = column.astype(np.int64)
        given = None if levels is None else levels.get(variable)
        size = len(given) if given is not None else int(column.max(initial=-1)) + 1
        bad = np.flatnonzero((column < 0) | (column >= size))
        if bad.size:
            code = int(column[bad[0]])
            raise ValueError(
                f"variable {variable!r}: row {int(bad[0])} has level code {code}, not one of "
                f"the {size} levels"
            )
        columns[variable] = column
        names[variable] = tuple(given) if given is not None else tuple(map(str, range(size)))
    return columns, names


def _length(columns: dict[str, Ints]) -> int:
    lengths = {len(c) for c in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"code arrays differ in length: {sorted(lengths)}")
    n = lengths.pop()
    if n == 0:
        raise ValueError("the cohort is empty")
    return n


def _responded(responded: ArrayLike, n: int) -> NDArray[np.bool_]:
    flags = np.asarray(responded)
    if flags.shape != (n,):
        raise ValueError(f"responded has shape {flags.shape}, expected ({n},)")
    bad = np.flatnonzero((flags != 0) & (flags != 1))
    if bad.size:
        raise ValueError(f"responded: row {int(bad[0])} is neither true nor false")
    return flags.astype(bool)


def _levels(
    variable: str,
    column: Ints,
    names: tuple[str, ...],
    flags: NDArray[np.bool_],
    weights: Floats | None,
    flag_ratio: float,
    confidence: float,
) -> list[LevelResponse]:
    size = len(names)
    invited = np.bincount(column, minlength=size)
    replied = np.bincount(column[flags], minlength=size)
    share_cohort = invited / len(column)
    share_before = replied / max(int(flags.sum()), 1)
    share_after = None
    if weights is not None:
        w = np.where(flags, weights, 0.0)
        share_after = np.bincount(column, weights=w, minlength=size) / w.sum()
    rows = []
    for i, name in enumerate(names):
        low, high = response_interval(int(replied[i]), int(invited[i]), confidence)
        rest_invited = len(column) - invited[i]
        rest = (flags.sum() - replied[i]) / rest_invited if rest_invited else math.nan
        rows.append(
            LevelResponse(
                variable=variable,
                level=name,
                invited=int(invited[i]),
                responded=int(replied[i]),
                rate=float(replied[i] / invited[i]) if invited[i] else math.nan,
                ci_low=low,
                ci_high=high,
                rate_rest=float(rest),
                std_diff_before=standardised_difference(
                    float(share_before[i]), float(share_cohort[i])
                ),
                std_diff_after=None
                if share_after is None
                else standardised_difference(float(share_after[i]), float(share_cohort[i])),
                flagged=bool(invited[i] and high < flag_ratio * rest),
            )
        )
    return rows
