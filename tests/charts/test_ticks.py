"""Ticks at round numbers, and their labels."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.charts.ticks import (
    log_ticks,
    nice_step,
    nice_ticks,
    number_formatter,
    percent_formatter,
    plain_number,
    plain_percent,
    ratio_formatter,
    step_decimals,
)


@pytest.mark.parametrize(
    ("low", "high", "count", "expected"),
    [
        (0, 100, 5, [0, 20, 40, 60, 80, 100]),
        (0, 1, 5, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.093, 0.125, 5, [0.09, 0.095, 0.1, 0.105, 0.11, 0.115, 0.12, 0.125]),
        (3, 97, 5, [0, 20, 40, 60, 80, 100]),
        (-3.2, 4.1, 5, [-4, -2, 0, 2, 4, 6]),
        (0, 0.3, 5, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]),
        (0, 10, 4, [0, 2.5, 5, 7.5, 10]),
        (1200, 1350, 5, [1200, 1225, 1250, 1275, 1300, 1325, 1350]),
        (0.02, 0.34, 5, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35]),
        (5, 5, 5, [4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6]),
        (0, 0, 5, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (10, 0, 5, [0, 2, 4, 6, 8, 10]),
    ],
)
def test_nice_ticks(low: float, high: float, count: int, expected: list[float]) -> None:
    assert nice_ticks(low, high, count) == pytest.approx(expected)


def test_ticks_are_rounded_to_their_step() -> None:
    ticks = nice_ticks(0.1, 0.7)
    assert ticks == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]  # exactly: no 0.30000000000000004


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-4, 1e3, allow_nan=False),
    st.integers(2, 10),
)
def test_ticks_cover_the_range_in_even_round_steps(low: float, ratio: float, count: int) -> None:
    high = low + ratio * max(1.0, abs(low))
    ticks = nice_ticks(low, high, count)
    step = (ticks[-1] - ticks[0]) / (len(ticks) - 1)
    # The ends may miss the data by float noise only: a billionth of a step.
    assert ticks[0] <= low + 1e-9 * (step + abs(low))
    assert ticks[-1] >= high - 1e-9 * (step + abs(high))
    assert 2 <= len(ticks) <= 2 * count + 2
    for a, b in pairwise(ticks):
        assert b - a == pytest.approx(step, rel=1e-6, abs=1e-9)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5, 10)) < 1e-4


@pytest.mark.parametrize(("span", "count", "step"), [(100, 5, 20), (1, 10, 0.1), (7, 3, 2.5)])
def test_nice_step(span: float, count: int, step: float) -> None:
    assert nice_step(span, count) == pytest.approx(step)


@pytest.mark.parametrize("bad", [(0, math.inf), (math.nan, 1)])
def test_infinite_ends_are_refused(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(*bad)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.6, 1.9, [0.5, 1, 2]),
        (0.91, 3.3, [0.5, 1, 2, 5]),
        (1, 1, [1]),
        (0.3, 40, [0.2, 0.5, 1, 2, 5, 10, 20, 50]),
        (0.01, 500, [0.01, 0.1, 1, 10, 100, 1000]),
    ],
)
def test_log_ticks(low: float, high: float, expected: list[float]) -> None:
    assert log_ticks(low, high) == pytest.approx(expected)


def test_log_ticks_need_positive_values() -> None:
    with pytest.raises(ValueError, match="0 < low"):
        log_ticks(0, 2)


def test_labels_carry_the_decimals_of_the_step() -> None:
    assert step_decimals(0.025) == 3
    assert step_decimals(20) == 0
    write = number_formatter([0, 2.5, 5, 7.5])
    assert [write(t) for t in (0, 2.5, 5)] == ["0.0", "2.5", "5.0"]
    assert number_formatter([0, 1000, 2000])(1500) == "1,500"
    percent = percent_formatter([0.09, 0.1, 0.11])
    assert [percent(t) for t in (0.09, 0.1)] == ["9%", "10%"]
    assert percent_formatter([0, 0.025, 0.05])(0.025) == "2.5%"
    assert ratio_formatter(0.5) == "0.5"
    assert ratio_formatter(10.0) == "10"


@pytest.mark.parametrize(
    ("value", "text"), [(12.0, "12"), (0.1234, "0.123"), (-0.0001, "0"), (2500.5, "2,500.5")]
)
def test_plain_number(value: float, text: str) -> None:
    assert plain_number(value) == text


def test_plain_percent() -> None:
    assert plain_percent(0.0712) == "7.1%"
