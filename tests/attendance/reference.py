"""The R reference numbers in tests/reference/attendance/reference.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

REFERENCE_FILE = Path(__file__).parents[1] / "reference" / "attendance" / "reference.json"
#: The agreement asked of every number that R computes the same way.
REL = 1e-6


def _finite(value: Any) -> Any:
    """JSON has no infinity: the R script writes it as the string "Inf"."""
    if value == "Inf":
        return math.inf
    if value == "-Inf":
        return -math.inf
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


REFERENCE: dict[str, Any] = _finite(json.loads(REFERENCE_FILE.read_text(encoding="utf-8")))


def cases(section: str, key: str = "name") -> Any:
    """The cases of one section as pytest params, with readable ids."""
    return [
        pytest.param(case, id=str(case.get(key, index)))
        for index, case in enumerate(REFERENCE[section])
    ]


def close(actual: float, expected: float, rel: float = REL) -> bool:
    """Equal within `rel` relatively; zeros and infinities must match exactly."""
    if math.isinf(expected) or expected == 0:
        return actual == expected or abs(actual - expected) <= 1e-12
    return math.isclose(actual, expected, rel_tol=rel)
