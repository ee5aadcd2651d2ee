"""The R reference numbers (tests/reference/results/reference.json) and helpers to use them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.results.weighting import Margin, WeightingResult, rake

REFERENCE = Path(__file__).parents[1] / "reference" / "results" / "reference.json"
VARIABLES = ("age", "sex", "imd")
CASES = ("rake3", "bounded", "trimmed", "joint", "poststratify")


@cache
def load_reference() -> dict[str, Any]:
    reference: dict[str, Any] = json.loads(REFERENCE.read_text())
    return reference


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    return load_reference()


def respondent_codes() -> dict[str, np.ndarray]:
    respondents = load_reference()["respondents"]
    return {v: np.asarray(respondents[v], dtype=np.int64) for v in VARIABLES}


def outcome(name: str) -> np.ndarray:
    values = load_reference()["respondents"][name]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def case_margins(case: str) -> list[Margin]:
    margins = load_reference()["cases"][case]["margins"]
    return [
        Margin(tuple(m["variables"]), np.asarray(m["totals"], dtype=np.float64)) for m in margins
    ]


def case_options(case: str) -> dict[str, Any]:
    spec = load_reference()["cases"][case]
    options: dict[str, Any] = {
        "base_weights": np.asarray(load_reference()["respondents"][spec["base_weights"]])
    }
    if "bounds" in spec:
        options["bounds"] = tuple(spec["bounds"])
    if "trim_upper" in spec:
        options["trim_upper"] = spec["trim_upper"]
    return options


@cache
def weighted_case(case: str) -> WeightingResult:
    return rake(respondent_codes(), case_margins(case), **case_options(case))
