"""Statistics for non-attendance (DNA) rates and reminder-wording experiments.

Pure functions over counts. An experiment compares arm B (a new wording) against a
control arm A, so every contrast is B against A: `risk_difference = risk_b - risk_a`,
`odds_ratio = odds_b / odds_a`, `relative_risk = risk_b / risk_a`. For a DNA outcome a
negative difference, or a ratio below 1, means the new wording did better.

The numbers match R (`prop.test(correct = FALSE)`, `fisher.test`, `glm`,
`power.prop.test`); `tests/reference/attendance/make_reference.R` records them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.distributions import (
    ConditionalTable,
    chi2_1df_sf,
    normal_upper_quantile,
)
from app.core.intervals import (
    Interval,
    check_count,
    two_sided_z,
    wilson,
    wilson_interval,
)
from app.experiments.sequential import obf_boundaries

__all__ = [
    "Comparison",
    "SampleSize",
    "compare_proportions",
    "obf_boundaries",
    "obf_boundary",
    "sample_size_per_arm",
    "wilson_interval",
]

#: Below this expected count in any cell (or with any empty cell) the exact
#: conditional methods replace the chi-square test and the Woolf interval.
SMALL_EXPECTED = 5.0


def _check_events(events: object, n: object, names: tuple[str, str]) -> tuple[int, int]:
    events_name, n_name = names
    events_count = check_count(events, events_name)
    total = check_count(n, n_name)
    if total == 0:
        raise ValueError(f"{n_name} must be at least 1")
    if events_count > total:
        raise ValueError(f"{events_name} ({events_count}) exceeds {n_name} ({total})")
    return events_count, total


@dataclass(frozen=True)
class Comparison:
    """Arm B against control arm A for a binary outcome (DNA).

    `exact` is True when some cell of the 2×2 table is empty or expects fewer than 5:
    then `p_value` is Fisher's two-sided exact p-value and `odds_ratio` and `or_ci` are
    the conditional MLE and exact conditional interval of R's `fisher.test`. Otherwise
    `p_value` is Pearson's chi-square without Yates' correction (R's
    `prop.test(correct = FALSE)`), and the odds ratio is the sample odds ratio with a
    Woolf (logit, Wald) interval. `method` names what was used.
    """

    events_a: int
    n_a: int
    events_b: int
    n_b: int
    alpha: float
    risk_a: float
    risk_b: float
    risk_difference: float
    rd_ci: Interval
    odds_ratio: float
    or_ci: Interval
    relative_risk: float
    rr_ci: Interval
    p_value: float
    exact: bool
    method: str


def compare_proportions(
    events_a: int, n_a: int, events_b: int, n_b: int, alpha: float = 0.05
) -> Comparison:
    """Compare the event rate of arm B with control arm A (B − A, B / A).

    Intervals: Newcombe's hybrid score interval for the difference (his method 10, built
    from two Wilson intervals, no continuity correction), Woolf or exact conditional for
    the odds ratio (see `Comparison`), and Katz's log interval for the relative risk.
    When either arm has no events, 0.5 is added to every cell for the relative risk and
    its interval only. Yates' correction is not used: small tables get Fisher's exact
    test instead, and the uncorrected statistic agrees with the score intervals.
    """
    a, na = _check_events(events_a, n_a, ("events_a", "n_a"))
    b, nb = _check_events(events_b, n_b, ("events_b", "n_b"))
    z = two_sided_z(alpha)
    exact = _needs_exact(a, na, b, nb)
    odds_ratio, or_ci, p_value = (
        _exact_odds(a, na, b, nb, alpha) if exact else _woolf(a, na, b, nb, z)
    )
    relative_risk, rr_ci, rr_note = _katz(a, na, b, nb, z)
    test = (
        "Fisher exact test (two-sided); conditional MLE odds ratio with exact interval"
        if exact
        else "Pearson chi-square without continuity correction; Woolf logit odds ratio interval"
    )
    return Comparison(
        events_a=a,
        n_a=na,
        events_b=b,
        n_b=nb,
        alpha=alpha,
        risk_a=a / na,
        risk_b=b / nb,
        risk_difference=b / nb - a / na,
        rd_ci=_newcombe(a, na, b, nb, z),
        odds_ratio=odds_ratio,
        or_ci=or_ci,
        relative_risk=relative_risk,
        rr_ci=rr_ci,
        p_value=p_value,
        exact=exact,
        method=f"{test}; Newcombe hybrid score risk difference interval; Katz log "
        f"relative risk interval{rr_note}",
    )


def _needs_exact(a: int, na: int, b: int, nb: int) -> bool:
    cells = (b, nb - b, a, na - a)
    if min(cells) == 0:
        return True
    total = na + nb
    events = a + b
    expected = (row * col / total for row in (nb, na) for col in (events, total - events))
    return min(expected) < SMALL_EXPECTED


def _woolf(a: int, na: int, b: int, nb: int, z: float) -> tuple[float, Interval, float]:
    log_or = math.log(b) - math.log(nb - b) - math.log(a) + math.log(na - a)
    se = math.sqrt(1 / a + 1 / (na - a) + 1 / b + 1 / (nb - b))
    interval = (math.exp(log_or - z * se), math.exp(log_or + z * se))
    total, events = na + nb, a + b
    statistic = total * (b * (na - a) - a * (nb - b)) ** 2 / (na * nb * events * (total - events))
    return math.exp(log_or), interval, chi2_1df_sf(statistic)


def _exact_odds(a: int, na: int, b: int, nb: int, alpha: float) -> tuple[float, Interval, float]:
    # Rows: arm B then arm A; first column: events. Its odds ratio is odds_b / odds_a.
    table = ConditionalTable(x=b, row1=nb, col1=a + b, total=na + nb)
    return table.conditional_mle(), table.exact_interval(alpha), table.two_sided_p()


def _katz(a: int, na: int, b: int, nb: int, z: float) -> tuple[float, Interval, str]:
    note = ""
    ea, eb, ta, tb = float(a), float(b), float(na), float(nb)
    if a == 0 or b == 0:
        ea, eb, ta, tb = ea + 0.5, eb + 0.5, ta + 1.0, tb + 1.0
        note = " (0.5 added to each cell: an arm has no events)"
    log_rr = math.log(eb / tb) - math.log(ea / ta)
    se = math.sqrt(1 / eb - 1 / tb + 1 / ea - 1 / ta)
    return math.exp(log_rr), (math.exp(log_rr - z * se), math.exp(log_rr + z * se)), note


def _newcombe(a: int, na: int, b: int, nb: int, z: float) -> Interval:
    pa, pb = a / na, b / nb
    low_a, high_a = wilson(a, na, z)
    low_b, high_b = wilson(b, nb, z)
    difference = pb - pa
    return (
        difference - math.hypot(pb - low_b, high_a - pa),
        difference + math.hypot(high_b - pb, pa - low_a),
    )


@dataclass(frozen=True)
class SampleSize:
    """Patients needed per arm; `n_control_exact` is the unrounded control-arm size."""

    n_control: int
    n_treatment: int
    n_control_exact: float


def sample_size_per_arm(
    baseline: float,
    difference: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Sample size to detect `baseline` → `baseline + difference` with a two-sided test.

    Normal approximation for two proportions without continuity correction; `ratio` is
    n_treatment / n_control. With ratio 1, `n_control_exact` is R's
    `power.prop.test(p1 = baseline, p2 = baseline + difference, ...)$n`.
    """
    p1, p2 = float(baseline), float(baseline) + float(difference)
    if not 0.0 < p1 < 1.0:
        raise ValueError(f"baseline must be strictly between 0 and 1, got {baseline!r}")
    if not 0.0 < p2 < 1.0 or difference == 0:
        raise ValueError(
            f"baseline + difference must differ from baseline and lie in (0, 1), got {p2!r}"
        )
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be strictly between 0 and 1, got {power!r}")
    if not ratio > 0.0 or math.isinf(ratio):
        raise ValueError(f"ratio must be a positive number, got {ratio!r}")
    pooled = (p1 + ratio * p2) / (1.0 + ratio)
    null_sd = math.sqrt(pooled * (1.0 - pooled) * (1.0 + 1.0 / ratio))
    alternative_sd = math.sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2) / ratio)
    z_power = normal_upper_quantile(1.0 - power)
    n = ((two_sided_z(alpha) * null_sd + z_power * alternative_sd) / (p2 - p1)) ** 2
    return SampleSize(
        n_control=math.ceil(n - 1e-9),
        n_treatment=math.ceil(n * ratio - 1e-9),
        n_control_exact=n,
    )


def obf_boundary(
    information_fraction: float, alpha: float = 0.05, previous_looks: Sequence[float] = ()
) -> float:
    """The two-sided |z| boundary at a look, O'Brien–Fleming-type Lan–DeMets spending.

    `previous_looks` are the information fractions of the looks already taken; the
    boundary accounts for them by numerical integration (see `obf_boundaries`). With
    no earlier looks it is the single-look boundary: the normal quantile of the alpha
    spent so far.
    """
    return obf_boundaries([*previous_looks, information_fraction], alpha)[-1]
