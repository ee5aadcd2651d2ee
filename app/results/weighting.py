"""Weights that make the respondents add up to the cohort that was invited.

Pure numpy. Inputs are integer level codes per weighting variable (one array per variable,
one entry per respondent), optional base weights, and target margins: totals per level of
one variable, or per combination of levels of several ("age*sex"). All work happens on the
table of occupied cells (respondents sharing every code), so an iteration costs one pass
over the cells, not over the respondents. Convergence is judged relative to the cohort
total: the largest margin error must be at most `tol` times it.

- `rake` without bounds: iterative proportional fitting; with one margin this is
  post-stratification and takes one step.
- `rake` with `bounds=(L, U)`: the Newton iteration of R's `survey::grake` for
  `calibrate(..., calfun="raking", bounds=c(L, U))`, with the ratio of final to base weight
  kept in [L, U]. Base weights are first scaled to add up to the cohort total, so a ratio of
  1 means "no adjustment beyond the overall response rate"; with base weights that already
  add up to it (as in R's usual use) the numbers are R's.
- `trim_weights`: R's `trimWeights(design, upper, lower, strict=TRUE)`.

Empty levels (cohort members but no respondents) are an error unless `collapse="adjacent"`:
each empty level's target then moves to the nearest level in the margin's level order that
has respondents (the earlier one when two are equally near), and the move is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from app.results.margins import (
    Collapse,
    CollapseRule,
    Floats,
    Ints,
    Margin,
    WeightingError,
    check_base,
    check_codes,
    check_margins,
    check_ranges,
    encode_labels,
)

__all__ = [
    "Calibration",
    "Collapse",
    "Margin",
    "WeightingError",
    "WeightingResult",
    "encode_labels",
    "rake",
    "rake_labels",
    "trim_weights",
]

_GINV_TOL = 256 * np.finfo(float).eps  # MASS::ginv's tolerance, as grake uses it


@dataclass(frozen=True)
class Calibration:
    """What the variance of an estimate needs to know about how the weights were made."""

    cells: Ints  # occupied cell of each respondent
    cell_levels: Ints  # (cells, margins): level of each margin in each cell, flat index
    base_weights: Floats  # per respondent, as scaled for the calibration
    weights: Floats  # per respondent, as calibrated, before any trimming


@dataclass(frozen=True)
class WeightingResult:
    """Weights per respondent and how they were reached."""

    weights: Floats
    method: str  # "raking", "bounded_raking" or "poststratification"
    converged: bool
    iterations: int
    max_margin_error: float  # largest |weighted total - target| over all levels, after trimming
    calibration: Calibration
    cells: int  # occupied cells
    trimmed: int = 0  # weights left at a trimming bound
    collapsed: tuple[Collapse, ...] = field(default=())


@dataclass(frozen=True)
class _Table:
    """Respondents folded onto occupied cells, with each margin's level per cell."""

    cells: Ints
    cell_levels: Ints
    cell_base: Floats
    targets: list[Floats]


def rake(
    codes: Mapping[str, ArrayLike],
    margins: Sequence[Margin],
    *,
    base_weights: ArrayLike | None = None,
    bounds: tuple[float, float] | None = None,
    trim_upper: float | None = None,
    trim_lower: float | None = None,
    collapse: CollapseRule = "none",
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> WeightingResult:
    """Weights whose totals match every margin to within `tol` times the cohort total.

    Raises WeightingError for a code outside a margin's levels (negative codes mean
    missing), margins whose grand totals disagree, a level with a target but no respondents
    (unless collapsed), a level with respondents but a zero target, and bounds that cannot
    be met within `max_iter` iterations. Unbounded raking that does not converge returns
    `converged=False`. Trimming, if asked, happens after calibration and is not re-raked.
    """
    if not margins:
        raise WeightingError("at least one margin is needed")
    columns, sizes = check_codes(codes, margins)
    n = len(next(iter(columns.values())))
    base = None if base_weights is None else check_base(base_weights, n)
    cells, cell_levels, cell_counts = _fold(columns, sizes, margins)
    respondents = [
        _sum_by(cell_levels[:, j], cell_counts, m.totals.size) for j, m in enumerate(margins)
    ]
    margins, collapsed = check_margins(margins, respondents, collapse)
    cell_base = cell_counts if base is None else _sum_by(cells, base, len(cell_counts))
    table = _Table(cells, cell_levels, cell_base, [m.totals.ravel() for m in margins])
    limit = tol * float(table.targets[0].sum())  # relative: the same for any scale of totals
    if bounds is None:
        factors, iterations, converged = _ipf(table, limit, max_iter)
        method = "poststratification" if len(margins) == 1 else "raking"
    else:
        scale = float(table.targets[0].sum() / table.cell_base.sum())
        base = np.full(n, scale) if base is None else base * scale
        table = _rescaled(table, scale)
        factors, iterations = _bounded(table, margins, bounds, limit, max_iter)
        converged, method = True, "bounded_raking"
    calibrated = factors.take(cells) if base is None else base * factors.take(cells)
    weights, trimmed = _trim(calibrated, trim_upper, trim_lower)
    return WeightingResult(
        weights=weights,
        method=method,
        converged=converged,
        iterations=iterations,
        max_margin_error=_row_error(weights, table)
        if weights is not calibrated
        else _cell_error(table, factors),
        calibration=Calibration(cells, cell_levels, _ones_if_none(base, n), calibrated),
        cells=len(table.cell_base),
        trimmed=trimmed,
        collapsed=collapsed,
    )


def _fold(
    columns: dict[str, Ints], sizes: dict[str, int], margins: Sequence[Margin]
) -> tuple[Ints, Ints, Floats]:
    """Occupied cell of each row, each margin's level in each cell, respondents per cell."""
    shape = tuple(sizes[v] for v in columns)
    if np.prod(shape, dtype=np.float64) < 2**62:
        try:
            key = np.ravel_multi_index(tuple(columns.values()), shape)
        except ValueError:
            check_ranges(columns, sizes)  # names the offending row
            raise
        cells, occupied, counts = _occupied(key.astype(np.int64, copy=False), int(np.prod(shape)))
        cell_codes = np.unravel_index(occupied, shape)
    else:  # too many combinations for one integer key
        check_ranges(columns, sizes)
        stacked = np.stack(list(columns.values()), axis=1)
        rows, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
        cells = inverse.ravel().astype(np.int64)
        cell_codes = tuple(rows.T)
    by_variable = dict(zip(columns, cell_codes, strict=True))
    cell_levels = np.stack(
        [
            np.ravel_multi_index(tuple(by_variable[v] for v in m.variables), m.totals.shape)
            for m in margins
        ],
        axis=1,
    ).astype(np.int64)
    return cells, cell_levels, counts.astype(np.float64)


def _sum_by(groups: Ints, values: Floats, size: int) -> Floats:
    return np.bincount(groups, weights=values, minlength=size).astype(np.float64, copy=False)


def _ones_if_none(base: Floats | None, n: int) -> Floats:
    return np.broadcast_to(np.float64(1.0), (n,)) if base is None else base  # read-only, no copy


def _trim(calibrated: Floats, upper: float | None, lower: float | None) -> tuple[Floats, int]:
    """Trimmed weights and how many were left at a bound."""
    if upper is None and lower is None:
        return calibrated, 0
    weights = trim_weights(calibrated, upper=upper, lower=lower)
    at_bound = np.zeros(len(weights), dtype=bool)
    for bound in (upper, lower):
        if bound is not None:
            at_bound |= weights == bound
    return weights, int(np.count_nonzero(at_bound))


def _occupied(key: Ints, size: int) -> tuple[Ints, Ints, Ints]:
    """Cell index of each row, the key of each cell and its row count, for keys in [0, size)."""
    if size <= max(4 * len(key), 1 << 20):  # a dense lookup is cheaper than sorting
        counts = np.bincount(key, minlength=size)
        occupied = np.flatnonzero(counts)
        lookup = np.zeros(size, dtype=np.int64)
        lookup[occupied] = np.arange(len(occupied))
        return lookup.take(key), occupied, counts[occupied]
    occupied, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return inverse.astype(np.int64), occupied, counts


def _rescaled(table: _Table, scale: float) -> _Table:
    return _Table(table.cells, table.cell_levels, table.cell_base * scale, table.targets)


def _ipf(table: _Table, limit: float, max_iter: int) -> tuple[Floats, int, bool]:
    """Iterative proportional fitting of cell factors; returns factors, iterations, converged."""
    factors = np.ones(len(table.cell_base))
    for iteration in range(1, max_iter + 1):
        for j, target in enumerate(table.targets):
            levels = table.cell_levels[:, j]
            current = np.bincount(levels, weights=table.cell_base * factors, minlength=len(target))
            ratio = np.divide(target, current, out=np.ones_like(target), where=current > 0)
            factors *= ratio[levels]
        if _cell_error(table, factors) <= limit:
            return factors, iteration, True
    return factors, max_iter, False


def _margin_gaps(table: _Table, weights: Floats, per_cell: bool) -> list[Floats]:
    gaps = []
    for j, target in enumerate(table.targets):
        levels = table.cell_levels[:, j] if per_cell else table.cell_levels[table.cells, j]
        gaps.append(np.bincount(levels, weights=weights, minlength=len(target)) - target)
    return gaps


def _cell_error(table: _Table, factors: Floats) -> float:
    gaps = _margin_gaps(table, table.cell_base * factors, per_cell=True)
    return float(max(np.abs(g).max() for g in gaps))


def _row_error(weights: Floats, table: _Table) -> float:
    return float(max(np.abs(g).max() for g in _margin_gaps(table, weights, per_cell=False)))


def _model_matrix(table: _Table) -> tuple[Floats, Floats]:
    """Intercept and treatment dummies per cell, and their population totals."""
    columns = [np.ones(len(table.cell_base))]
    population = [float(table.targets[0].sum())]
    for j, target in enumerate(table.targets):
        for level in range(1, len(target)):
            dummy = (table.cell_levels[:, j] == level).astype(np.float64)
            if target[level] == 0 and not dummy.any():
                continue  # a level nobody is in and nobody should be in
            columns.append(dummy)
            population.append(float(target[level]))
    return np.stack(columns, axis=1), np.asarray(population)


def _bounded(
    table: _Table, margins: list[Margin], bounds: tuple[float, float], limit: float, max_iter: int
) -> tuple[Floats, int]:
    """R's grake for calfun="raking" on the cells: Newton steps on the linear predictor."""
    lower, upper = (float(b) for b in bounds)
    if not (0 <= lower < 1 < upper):
        raise WeightingError(f"bounds must satisfy 0 <= L < 1 < U, got ({lower:g}, {upper:g})")
    x, population = _model_matrix(table)
    eta = np.zeros(x.shape[1])
    g, slope = _raking_g(x @ eta, lower, upper)
    for iteration in range(1, max_iter + 1):
        hessian = (x * (table.cell_base * slope)[:, None]).T @ x
        misfit = population - x.T @ (table.cell_base * g)
        step = np.linalg.pinv(hessian, rcond=_GINV_TOL) @ misfit
        eta = eta + step
        g, slope = _raking_g(x @ eta, lower, upper)
        while not (np.isfinite(g).all() and np.isfinite(slope).all()):
            step = step / 2  # step halving, as grake does
            eta = eta - step
            g, slope = _raking_g(x @ eta, lower, upper)
        if _cell_error(table, g) <= limit:
            return g, iteration
    raise _bounds_not_met(table, margins, g, (lower, upper), max_iter)


def _raking_g(linear: Floats, lower: float, upper: float) -> tuple[Floats, Floats]:
    with np.errstate(over="ignore"):
        grown = np.exp(linear)
    g = np.clip(grown, lower, upper)
    # grake's derivative is zero only once the linear predictor leaves (L - 1, U - 1);
    # keeping that rule keeps the iterates, and so the weights, equal to R's.
    slope = np.where((linear < upper - 1) & (linear > lower - 1), grown, 0.0)
    return g, slope


def _bounds_not_met(
    table: _Table, margins: list[Margin], g: Floats, bounds: tuple[float, float], max_iter: int
) -> WeightingError:
    gaps = _margin_gaps(table, table.cell_base * g, per_cell=True)
    j = int(np.argmax([np.abs(gap).max() for gap in gaps]))
    level = margins[j].level_name(int(np.argmax(np.abs(gaps[j]))))
    worst = float(np.abs(gaps[j]).max())
    return WeightingError(
        f"bounds ({bounds[0]:g}, {bounds[1]:g}) cannot be met: margin {margins[j].name!r} level "
        f"{level!r} is still {worst:.4g} from its target after {max_iter} iterations",
        variable=margins[j].name,
        level=level,
    )


def trim_weights(
    weights: ArrayLike,
    *,
    upper: float | None = None,
    lower: float | None = None,
    max_rounds: int = 100_000,
) -> Floats:
    """Weights moved into [lower, upper], as R's `trimWeights(..., strict=TRUE)`.

    Each round sets the weights outside the bounds to the bound and shares what that took
    away (or added) equally among the weights that were inside, then repeats until none is
    outside. The total is kept. Raises WeightingError when the bounds cannot hold the total.
    """
    w = np.array(weights, dtype=np.float64)
    high = np.inf if upper is None else float(upper)
    low = -np.inf if lower is None else float(lower)
    total = float(w.sum())
    span = _span(lower, upper)
    if high * len(w) < total or low * len(w) > total or low > high:
        raise WeightingError(
            f"cannot trim {len(w)} weights adding up to {total:g} {span}: the bounds "
            "cannot hold that total"
        )
    for _ in range(max_rounds):
        outside = (w < low) | (w > high)
        if not outside.any():
            return w
        inside = ~outside
        if not inside.any():
            raise WeightingError(f"no weight is left inside when trimming {span}")
        trimmed = np.clip(w, low, high)
        trimmed[inside] += (w - trimmed).sum() / np.count_nonzero(inside)
        w = trimmed
    raise WeightingError(f"trimming {span} did not settle in {max_rounds} rounds")


def rake_labels(
    labels: Mapping[str, Sequence[object]],
    margins: Mapping[str, Mapping[str, float]],
    *,
    unknown_level: str | Mapping[str, str] | None = None,
    base_weights: ArrayLike | None = None,
    bounds: tuple[float, float] | None = None,
    trim_upper: float | None = None,
    trim_lower: float | None = None,
    collapse: CollapseRule = "none",
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> WeightingResult:
    """`rake` on label arrays and `{variable: {level: count}}` margins (see `encode_labels`)."""
    codes, parsed = encode_labels(labels, margins, unknown_level=unknown_level)
    return rake(
        codes,
        parsed,
        base_weights=base_weights,
        bounds=bounds,
        trim_upper=trim_upper,
        trim_lower=trim_lower,
        collapse=collapse,
        tol=tol,
        max_iter=max_iter,
    )


def _span(lower: float | None, upper: float | None) -> str:
    if lower is None:
        return f"to at most {upper:g}"
    if upper is None:
        return f"to at least {lower:g}"
    return f"into [{lower:g}, {upper:g}]"
