"""Raking any respondents file to cohort margins (`wesaid rake`).

Reads the two CSV files, calls `weighting.rake` and `estimates`, and shapes the summary.
Errors (`RakeInputError`) are one line naming the file, row (the header is row 1),
variable and level.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from app.results.estimates import (
    CiMethod,
    Estimate,
    effective_sample_size,
    kish_deff,
    weighted_mean,
    weighted_proportion,
)
from app.results.weighting import WeightingError, WeightingResult, encode_labels, rake

_MARGIN_COLUMNS = ("variable", "level", "count")


class RakeInputError(Exception):
    """Bad input, already phrased for the person running the command."""


def rake_files(
    respondents: Path,
    margins_path: Path,
    *,
    weight_col: str | None,
    trim_upper: float | None,
    bounds: tuple[float, float] | None,
    outcomes: tuple[str, ...],
    ci: CiMethod,
    collapse: str,
    unknown_level: str | None,
    weights_out: Path | None,
) -> dict[str, Any]:
    margins = _read_margins(margins_path)
    header, rows = _read_csv(respondents)
    variables = list(dict.fromkeys(v.strip() for name in margins for v in name.split("*")))
    for column in [*variables, *([weight_col] if weight_col else []), *outcomes]:
        if column not in header:
            raise RakeInputError(f"{respondents.name}: no column {column!r}")
    labels = {v: [row.get(v) for row in rows] for v in variables}
    base = _numbers(respondents, rows, weight_col, positive=True) if weight_col else None
    values = {name: _numbers(respondents, rows, name, positive=False) for name in outcomes}
    try:
        codes, parsed = encode_labels(labels, margins, unknown_level=unknown_level)
        result = rake(
            codes,
            parsed,
            base_weights=base,
            bounds=bounds,
            trim_upper=trim_upper,
            collapse="adjacent" if collapse == "adjacent" else "none",
        )
    except WeightingError as exc:
        raise RakeInputError(_explain(exc, respondents, margins_path)) from None
    if weights_out is not None:
        _write_weights(weights_out, result.weights)
    estimates = {}
    for name, y in values.items():
        try:
            estimates[name] = _estimate(y, result, ci)
        except ValueError as exc:
            raise RakeInputError(f"{respondents.name}: column {name!r}: {exc}") from None
    return _summary(result, estimates)


def parse_bounds(text: str | None) -> tuple[float, float] | None:
    """`--bounds L,U` as (L, U), with 0 <= L < 1 < U; None when not given."""
    if text is None:
        return None
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise RakeInputError(f"--bounds: expected L,U such as 0.5,2, got {text!r}") from None
    if not 0 <= low < 1 < high:
        raise RakeInputError(f"--bounds: need 0 <= L < 1 < U, got {text!r}")
    return low, high


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows: list[dict[str, str | None]] = list(reader)
            header = [name.strip() for name in reader.fieldnames or []]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RakeInputError(f"{path.name}: cannot read: {exc}") from None
    if not rows:
        raise RakeInputError(f"{path.name}: no rows after the header")
    stripped = [{(k or "").strip(): v for k, v in row.items()} for row in rows]
    return header, stripped


def _read_margins(path: Path) -> dict[str, dict[str, float]]:
    header, rows = _read_csv(path)
    missing = [c for c in _MARGIN_COLUMNS if c not in header]
    if missing:
        raise RakeInputError(f"{path.name}: no column {missing[0]!r} (need variable,level,count)")
    margins: dict[str, dict[str, float]] = {}
    for number, row in enumerate(rows, start=2):
        variable, level, count = ((row.get(c) or "").strip() for c in _MARGIN_COLUMNS)
        where = f"{path.name} row {number}: variable {variable!r} level {level!r}"
        if not variable or not level:
            raise RakeInputError(f"{path.name} row {number}: variable and level must not be blank")
        if level in margins.setdefault(variable, {}):
            raise RakeInputError(f"{where} appears twice")
        try:
            value = float(count)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise RakeInputError(f"{where}: count {count!r} is not a non-negative number")
        margins[variable][level] = value
    return margins


def _numbers(
    path: Path, rows: list[dict[str, str | None]], column: str, *, positive: bool
) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = np.empty(len(rows))
    for index, row in enumerate(rows):
        text = (row.get(column) or "").strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            value = math.inf  # reported below, without echoing the cell
        bad = math.isinf(value) or (positive and not value > 0)
        if bad:
            need = "a positive number" if positive else "a number or blank"
            raise RakeInputError(f"{path.name} row {index + 2}: column {column!r} must be {need}")
        values[index] = value
    return values


def _explain(exc: WeightingError, respondents: Path, margins_path: Path) -> str:
    if exc.row is None:
        return f"{margins_path.name}: {exc}" if exc.variable is not None else str(exc)
    what = "has no level" if exc.level == "missing" else f"level {exc.level!r} is not in"
    target = "" if exc.level == "missing" else f" {margins_path.name}"
    return f"{respondents.name} row {exc.row + 2}: variable {exc.variable!r} {what}{target}"


def _estimate(
    y: np.ndarray[Any, np.dtype[np.float64]], result: WeightingResult, ci: CiMethod
) -> Estimate:
    answered = y[~np.isnan(y)]
    if answered.size and np.isin(answered, (0.0, 1.0)).all():
        return weighted_proportion(y, result, ci=ci)
    return weighted_mean(y, result)


def _summary(result: WeightingResult, estimates: dict[str, Estimate]) -> dict[str, Any]:
    w = result.weights
    summary: dict[str, Any] = {
        "n": len(w),
        "weights_sum": float(w.sum()),
        "kish_deff": kish_deff(w),
        "ess": effective_sample_size(w),
        "method": result.method,
        "iterations": result.iterations,
        "converged": result.converged,
        "max_margin_error": result.max_margin_error,
        "weights_min": float(w.min()),
        "weights_max": float(w.max()),
        "trimmed": result.trimmed,
        "collapsed": [asdict(c) for c in result.collapsed],
        "estimates": {name: _estimate_json(e) for name, e in estimates.items()},
    }
    return summary


def _estimate_json(estimate: Estimate) -> dict[str, Any]:
    fields = ("estimate", "se", "ci_low", "ci_high", "ci_method", "design_deff", "unweighted")
    shaped = {name: getattr(estimate, name) for name in fields}
    shaped |= {"level": estimate.level, "n": estimate.n, "df": estimate.df}
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in shaped.items()}


def _write_weights(path: Path, weights: np.ndarray[Any, np.dtype[np.float64]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "weight"])
        writer.writerows((index + 2, repr(float(w))) for index, w in enumerate(weights))


def render_table(summary: dict[str, Any]) -> str:
    lines = [
        f"respondents {summary['n']}, weights add up to {summary['weights_sum']:.6g} "
        f"(min {summary['weights_min']:.4g}, max {summary['weights_max']:.4g})",
        f"Kish design effect {summary['kish_deff']:.4f}, effective sample size "
        f"{summary['ess']:.1f}",
        f"{summary['method']}: {'converged' if summary['converged'] else 'NOT converged'} in "
        f"{summary['iterations']} iterations, largest margin error "
        f"{summary['max_margin_error']:.3g}",
    ]
    if summary["trimmed"]:
        lines.append(f"{summary['trimmed']} weights trimmed")
    lines += [
        f"collapsed {c['variable']} {c['level']!r} into {c['into']!r}" for c in summary["collapsed"]
    ]
    if summary["estimates"]:
        lines.append("")
        lines.append(
            f"{'outcome':<16}{'estimate':>10}{'se':>10}{'ci_low':>10}{'ci_high':>10}  "
            f"{'ci':<7}{'deff':>7}{'unweighted':>12}{'n':>7}"
        )
        for name, e in summary["estimates"].items():
            deff = "-" if e["design_deff"] is None else f"{e['design_deff']:.3f}"
            lines.append(
                f"{name:<16}{e['estimate']:>10.4f}{e['se']:>10.4f}{e['ci_low']:>10.4f}"
                f"{e['ci_high']:>10.4f}  {e['ci_method']:<7}{deff:>7}{e['unweighted']:>12.4f}"
                f"{e['n']:>7}"
            )
    return "\n".join(lines)
