"""Analysing a reminder-wording experiment from its per-arm counts (pure).

By intention to treat: every appointment counts in the arm it was assigned to, whether
or not its reminder was delivered. The outcome is DNA among appointments attended or
not attended; cancelled appointments and those still without an outcome are shown but
not analysed. Arm B is compared with the control arm A (`stats.compare_proportions`),
and `experiments_core.decide` applies the O'Brien–Fleming boundary for this look.

Earlier looks are the information fractions of recorded decisions. Only those below
this look's fraction by at least `sequential.MIN_LOOK_GAP` count: re-running an analysis
at the same size is the same look, not a new one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from app.core.intervals import interval_text, percent, wilson_interval
from app.experiments.rules import Decision, decide
from app.experiments.sequential import MIN_LOOK_GAP
from app.experiments.stats import Comparison, compare_proportions


@dataclass(frozen=True)
class ArmCounts:
    """What became of the appointments assigned to one arm."""

    arm: str
    assigned: int
    attended: int
    dna: int
    cancelled: int
    booked: int


@dataclass(frozen=True)
class ArmResult:
    arm: str
    assigned: int
    n: int
    dna: int
    rate: float | None
    low: float | None
    high: float | None
    cancelled: int
    #: Still booked: no outcome recorded yet.
    pending: int


@dataclass(frozen=True)
class ExperimentAnalysis:
    slug: str
    alpha: float
    planned_n_per_arm: int
    arms: list[ArmResult]
    #: B against A; None until both arms have an outcome.
    comparison: Comparison | None
    #: "continue", "stop" or "ship"; None without a comparison.
    decision: Decision | None
    reasons: list[str]
    #: The smaller arm's analysed n, its share of the plan, and the earlier looks used.
    n_per_arm: int
    information_fraction: float
    earlier_looks: list[float]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: tuples as lists, an infinite odds ratio bound as None."""
        data: dict[str, Any] = json_safe(asdict(self))
        return data

    def render_text(self) -> str:
        return render_analysis(self)


def json_safe(value: Any) -> Any:
    """A copy with tuples as lists and non-finite floats as None."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def earlier_looks(recorded: Sequence[float], fraction: float) -> list[float]:
    """The recorded fractions that are earlier looks than `fraction`, spaced as required."""
    looks: list[float] = []
    for value in sorted(set(recorded)):
        if value <= fraction - MIN_LOOK_GAP and (not looks or value >= looks[-1] + MIN_LOOK_GAP):
            looks.append(value)
    return looks


def _arm_result(counts: ArmCounts, alpha: float) -> ArmResult:
    n = counts.attended + counts.dna
    low, high = wilson_interval(counts.dna, n, alpha) if n else (None, None)
    return ArmResult(
        arm=counts.arm,
        assigned=counts.assigned,
        n=n,
        dna=counts.dna,
        rate=counts.dna / n if n else None,
        low=low,
        high=high,
        cancelled=counts.cancelled,
        pending=counts.booked,
    )


def analyse(
    slug: str,
    arms: Sequence[ArmCounts],
    planned_n_per_arm: int,
    recorded_looks: Sequence[float] = (),
    alpha: float = 0.05,
) -> ExperimentAnalysis:
    """Per-arm rates, B against A, and the decision at this look; `arms` is [A, B]."""
    if len(arms) != 2:
        raise ValueError(f"arms must be the control and one other arm, got {len(arms)}")
    if planned_n_per_arm < 1:
        raise ValueError("planned_n_per_arm must be at least 1")
    results = [_arm_result(counts, alpha) for counts in arms]
    control, treatment = results
    n_per_arm = min(control.n, treatment.n)
    fraction = min(1.0, n_per_arm / planned_n_per_arm)
    looks = earlier_looks(recorded_looks, fraction)
    empty = [result.arm for result in results if result.n == 0]
    if empty:
        reasons = [f"no attended or DNA appointments yet in arm {', '.join(empty)}"]
        return ExperimentAnalysis(
            slug, alpha, planned_n_per_arm, results, None, None, reasons, 0, 0.0, []
        )
    comparison = compare_proportions(
        control.dna, control.n, treatment.dna, treatment.n, alpha=alpha
    )
    decision, reasons = decide(comparison, planned_n_per_arm, n_per_arm, looks, alpha=alpha)
    return ExperimentAnalysis(
        slug=slug,
        alpha=alpha,
        planned_n_per_arm=planned_n_per_arm,
        arms=results,
        comparison=comparison,
        decision=decision,
        reasons=reasons,
        n_per_arm=n_per_arm,
        information_fraction=fraction,
        earlier_looks=looks,
    )


def _ci(low: float, high: float, digits: int = 3) -> str:
    return f"{low:.{digits}f} to {high:.{digits}f}"


def render_analysis(analysis: ExperimentAnalysis) -> str:
    """The analysis as plain text."""
    lines = [
        f"Experiment {analysis.slug}: DNA by arm (intention to treat; "
        f"planned {analysis.planned_n_per_arm} per arm)",
        f"  {'arm':<10} {'assigned':>9} {'n':>8} {'DNA':>7} {'rate':>7}  "
        f"{'95% CI':<15} {'cancelled':>9} {'pending':>8}",
    ]
    for arm in analysis.arms:
        interval = interval_text(arm.low, arm.high)
        lines.append(
            f"  {arm.arm:<10} {arm.assigned:>9} {arm.n:>8} {arm.dna:>7} {percent(arm.rate):>7}  "
            f"{interval:<15} {arm.cancelled:>9} {arm.pending:>8}"
        )
    c = analysis.comparison
    if c is not None:
        names = f"{analysis.arms[1].arm} vs {analysis.arms[0].arm}"
        lines += [
            "",
            f"{names}: risk difference {c.risk_difference:+.4f} ({_ci(*c.rd_ci, 4)}), "
            f"odds ratio {c.odds_ratio:.3f} ({_ci(*c.or_ci)}), "
            f"relative risk {c.relative_risk:.3f} ({_ci(*c.rr_ci)}), p = {c.p_value:.3g}",
            f"  method: {c.method}",
        ]
    lines += ["", f"Decision: {analysis.decision or 'none yet'}"]
    lines += [f"  - {reason}" for reason in analysis.reasons]
    return "\n".join(lines) + "\n"
