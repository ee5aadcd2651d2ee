"""The one Wilson interval, against R's prop.test without continuity correction."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.intervals import interval_text, percent, wilson_interval
from tests.attendance.reference import cases, close


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [  # R: prop.test(successes, trials, correct = FALSE)$conf.int
        (5, 10, 0.2365930905, 0.7634069095),
        (0, 10, 0.0, 0.2775327999),
        (10, 10, 0.7224672001, 1.0),
        (81, 263, 0.2552885199, 0.3662095770),
    ],
)
def test_wilson_interval(successes: int, trials: int, low: float, high: float) -> None:
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=1e-9)


@pytest.mark.parametrize(("events", "n"), [(-1, 10), (11, 10), (0, 0), (1.5, 10), (True, 10)])
def test_impossible_counts_are_refused(events: object, n: object) -> None:
    with pytest.raises(ValueError, match=r"events|n "):
        wilson_interval(events, n)  # type: ignore[arg-type]


def test_intervals_are_written_as_percentages() -> None:
    assert percent(0.0712) == "7.1%"
    assert interval_text(0.0712, 0.09) == "7.1%-9.0%"
    assert interval_text(None, 0.1) == "-"


@pytest.mark.parametrize("case", cases("wilson", key="n"))
def test_wilson_interval_matches_prop_test_without_correction(case: dict[str, Any]) -> None:
    low, high = wilson_interval(case["events"], case["n"], case["alpha"])
    assert close(low, case["conf_int"][0])
    assert close(high, case["conf_int"][1])
