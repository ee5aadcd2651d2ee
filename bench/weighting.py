"""Raking speed: WeSaid's weighting core against weightipy and ipfn on the same respondents.

A million respondents carry integer codes on five variables with 6, 2, 5, 5 and 8 levels
(drawn from a fixed seed, with the variables related so that raking needs several
passes). They are raked to population shares, each margin adding up to 1, until the
largest margin error is at most 1e-10 (so 1e-10 of the cohort; on counts of a million,
double precision cannot promise that in absolute terms).

    .venv/bin/python bench/weighting.py [--respondents 1000000] [--runs 5]

Prints one JSON line per library. `seconds` is the median over the runs; `peak_mb` is the
tracemalloc peak (Python and numpy allocations, so pandas too; not the interpreter or
code) during one further run, beyond the inputs that exist before it. Each peer's line
has `max_abs_diff`, the largest difference between its weights and WeSaid's with both
scaled to a mean of 1, and the margin error it reached. A peer that is not installed
(`pip install weightipy ipfn`) is skipped.

- weightipy: `weight(df, scheme)` on a pandas frame of the codes, targets in percent.
- ipfn: `ipfn(table, ...)` on the dense table of respondent counts per cell (its numpy
  mode); building the table from the codes and mapping the fitted cells back to rows are
  timed too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from app.results.weighting import Margin, rake

LEVELS = (6, 2, 5, 5, 8)
NAMES = tuple(f"v{i}" for i in range(len(LEVELS)))
TOLERANCE = 1e-10

Codes = dict[str, np.ndarray]
Targets = list[np.ndarray]


def make_data(n: int, seed: int = 20260302) -> tuple[Codes, Targets]:
    """Codes per variable (each after the first leaning on the one before) and target shares.

    Targets are the respondents' shares moved by up to about ±50%, as a cohort would differ
    from the people who replied.
    """
    rng = np.random.default_rng(seed)
    codes: Codes = {}
    previous = None
    for name, size in zip(NAMES, LEVELS, strict=True):
        drawn = rng.choice(size, size=n, p=rng.dirichlet(np.full(size, 2.0)))
        if previous is not None:
            lean = rng.random(n) < 0.35
            drawn = np.where(lean, previous % size, drawn)
        codes[name] = drawn.astype(np.int64)
        previous = codes[name]
    targets = []
    for name, size in zip(NAMES, LEVELS, strict=True):
        share = np.bincount(codes[name], minlength=size) / n
        moved = share * np.exp(rng.normal(0.0, 0.4, size))  # the cohort differs from replies
        targets.append(moved / moved.sum())
    return codes, targets


def margin_error(codes: Codes, targets: Targets, weights: np.ndarray) -> float:
    shares = weights / weights.sum()
    return max(
        float(np.abs(np.bincount(codes[name], weights=shares, minlength=len(t)) - t).max())
        for name, t in zip(NAMES, targets, strict=True)
    )


def run_wesaid(codes: Codes, targets: Targets) -> Callable[[], np.ndarray]:
    margins = [Margin((name,), t) for name, t in zip(NAMES, targets, strict=True)]

    def go() -> np.ndarray:
        result = rake(codes, margins, tol=TOLERANCE)
        if not result.converged:
            raise SystemExit("wesaid did not converge")
        return result.weights

    return go


def run_weightipy(codes: Codes, targets: Targets) -> Callable[[], np.ndarray] | None:
    try:
        import pandas as pd
        import weightipy
    except ImportError:
        return None
    frame = pd.DataFrame(codes)
    distributions = {
        name: {level: float(share) * 100 for level, share in enumerate(t)}
        for name, t in zip(NAMES, targets, strict=True)
    }
    scheme = weightipy.scheme_from_dict(distributions, name="bench")

    def go() -> np.ndarray:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
            weights = weightipy.weight(frame, scheme)
        return np.asarray(weights, dtype=np.float64)

    return go


def run_ipfn(codes: Codes, targets: Targets) -> Callable[[], np.ndarray] | None:
    try:
        from ipfn import ipfn
    except ImportError:
        return None
    n = len(codes[NAMES[0]])

    def go() -> np.ndarray:
        key = np.ravel_multi_index(tuple(codes[name] for name in NAMES), LEVELS)
        counts = np.bincount(key, minlength=int(np.prod(LEVELS))).astype(np.float64)
        aggregates = [t * n for t in targets]
        dimensions = [[axis] for axis in range(len(LEVELS))]
        fitter = ipfn.ipfn(
            counts.reshape(LEVELS).copy(),
            aggregates,
            dimensions,
            convergence_rate=TOLERANCE / 10,
            max_iteration=5000,
            rate_tolerance=0.0,
        )
        fitted = np.asarray(fitter.iteration()).ravel()
        return fitted[key] / counts[key]

    return go


def measure(go: Callable[[], np.ndarray], runs: int) -> tuple[np.ndarray, list[float], float]:
    seconds = []
    weights = np.empty(0)
    for _ in range(runs):
        started = time.perf_counter()
        weights = go()
        seconds.append(time.perf_counter() - started)
    tracemalloc.start()
    go()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return weights, seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    codes, targets = make_data(args.respondents)
    contenders = {
        "wesaid_rake": run_wesaid(codes, targets),
        "weightipy": run_weightipy(codes, targets),
        "ipfn_ndarray": run_ipfn(codes, targets),
    }
    lines: dict[str, dict[str, Any]] = {}
    reference = np.empty(0)
    for name, go in contenders.items():
        if go is None:
            print(json.dumps({"name": name, "skipped": "not installed"}))
            continue
        weights, seconds, peak_mb = measure(go, args.runs)
        line: dict[str, Any] = {
            "name": name,
            "n": args.respondents,
            "runs": args.runs,
            "seconds": round(statistics.median(seconds), 4),
            "peak_mb": round(peak_mb, 1),
            "max_margin_error": margin_error(codes, targets, weights),
        }
        if name == "wesaid_rake":
            reference = weights / weights.mean()
        else:
            line["max_abs_diff"] = float(np.abs(weights / weights.mean() - reference).max())
        lines[name] = line
    peers = [line["seconds"] for name, line in lines.items() if name != "wesaid_rake"]
    if peers:
        lines["wesaid_rake"]["ratio_vs_fastest_peer"] = round(
            lines["wesaid_rake"]["seconds"] / min(peers), 4
        )
    for line in lines.values():
        print(json.dumps(line))


if __name__ == "__main__":
    main()
