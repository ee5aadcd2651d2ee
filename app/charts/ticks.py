"""Axis ticks at round numbers, and how their labels are written."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

#: Steps are one of these times a power of ten.
NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0, 20.0)

Formatter = Callable[[float], str]


def nice_step(span: float, count: int) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) that cuts `span` into the number
    of intervals nearest `count` (the larger step on a tie)."""
    if span <= 0 or not math.isfinite(span):
        raise ValueError(f"a span must be positive and finite, got {span!r}")
    wanted = max(1, count)
    power = 10.0 ** math.floor(math.log10(span / wanted))
    steps = [m * power for m in NICE_STEPS]
    return min(reversed(steps), key=lambda step: abs(span / step - wanted))


def step_decimals(step: float) -> int:
    """How many decimals a value on a grid of `step` needs (0 for whole steps)."""
    decimals = 0
    while decimals < 12 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return decimals


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from at or below `low` to at or above `high`, about `count`
    intervals apart; the first and last ticks are the axis ends.

    A range of one value is widened around it (to 0 and 1 for zero). Values are rounded
    to the step's decimals so that 0.30000000000000004 reads 0.3.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"ticks need finite ends, got {low!r} and {high!r}")
    low, high = min(low, high), max(low, high)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = (low - pad, high + pad) if low else (0.0, 1.0)
    step = nice_step(high - low, count)
    decimals = step_decimals(step)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [_clean(round(i * step, decimals)) for i in range(first, last + 1)]


def _clean(value: float) -> float:
    return 0.0 if value == 0 else value


def log_ticks(low: float, high: float) -> list[float]:
    """Ticks for a log axis (odds ratios): 1, 2 and 5 times powers of ten from at or
    below `low` to at or above `high`, thinned to powers of ten past eight ticks."""
    if not (low > 0 and math.isfinite(high) and low <= high):
        raise ValueError(f"log ticks need 0 < low <= high, got {low!r} and {high!r}")
    start = math.floor(math.log10(low) + 1e-9)
    stop = math.ceil(math.log10(high) - 1e-9)
    ticks = [
        round(m * 10.0**k, max(0, -k) + 1)
        for k in range(start - 1, stop + 1)
        for m in (1.0, 2.0, 5.0)
    ]
    below = max([t for t in ticks if t <= low * (1 + 1e-9)], default=ticks[0])
    above = min([t for t in ticks if t >= high * (1 - 1e-9)], default=ticks[-1])
    chosen = [t for t in ticks if below <= t <= above]
    if len(chosen) > 8:
        chosen = [t for t in chosen if math.log10(t).is_integer()]
        chosen = sorted({*chosen, _power_below(below), _power_above(above)})
    return chosen


def _power_below(value: float) -> float:
    return float(10.0 ** math.floor(math.log10(value) + 1e-9))


def _power_above(value: float) -> float:
    return float(10.0 ** math.ceil(math.log10(value) - 1e-9))


def number_formatter(ticks: list[float]) -> Formatter:
    """Writes values on these ticks with the decimals their step needs, grouped by
    thousands (1,500; 0.25)."""
    decimals = _tick_decimals(ticks)
    return lambda value: f"{value:,.{decimals}f}"


def percent_formatter(ticks: list[float]) -> Formatter:
    """Writes proportions on these ticks as percentages with the decimals their step
    needs (10%, 2.5%)."""
    decimals = _tick_decimals([100 * t for t in ticks])
    return lambda value: f"{100 * value:.{decimals}f}%"


def _tick_decimals(ticks: list[float]) -> int:
    if len(ticks) < 2:
        return 0 if not ticks else step_decimals(ticks[0])
    return max(step_decimals(abs(b - a)) for a, b in pairwise(ticks))


def ratio_formatter(value: float) -> str:
    """A ratio on a log axis: 0.25, 0.5, 1, 2, 10."""
    return f"{value:g}"


def plain_number(value: float) -> str:
    """A value for a label or table: up to three decimals, no trailing zeros."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def plain_percent(value: float) -> str:
    """A proportion as a percentage with one decimal: 7.1%."""
    return f"{100 * value:.1f}%"
