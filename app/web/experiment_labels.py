"""How an experiment's pages put things into words, in the staff member's language: its
state, a decision, rates and ratios, each look's name, where the analysis stands now
(the look it would be, its |z| against the boundary, and what recording it would
decide), and the decisions recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.charts.ticks import plain_percent
from app.experiments.models import ExperimentStatus
from app.experiments.monitoring import Look, observed_z
from app.experiments.queries import ExperimentView
from app.experiments.rules import Decision
from app.experiments.sequential import obf_boundaries
from app.web import formats

#: Each state as staff read it, with its tag's colour.
STATES: dict[ExperimentStatus, tuple[Any, str]] = {
    ExperimentStatus.DRAFT: (_l("Draft"), "grey"),
    ExperimentStatus.RUNNING: (_l("Running"), "blue"),
    ExperimentStatus.STOPPED: (_l("Stopped"), "orange"),
    ExperimentStatus.SHIPPED: (_l("New wording adopted"), "green"),
}
DECISIONS: dict[Decision, Any] = {
    Decision.CONTINUE: _l("Carry on"),
    Decision.STOP: _l("Stop"),
    Decision.SHIP: _l("Adopt the new wording"),
}


def state_label(status: ExperimentStatus) -> str:
    return str(STATES[status][0])


def state_colour(status: ExperimentStatus) -> str:
    return STATES[status][1]


def decision_label(decision: Decision | None) -> str:
    return "" if decision is None else str(DECISIONS[decision])


def level(alpha: float) -> str:
    """The confidence level that goes with `alpha`, as a number of percent: "95"."""
    return f"{100 * (1 - alpha):g}"


def percent(value: float | None) -> str:
    """A proportion as the page writes it ("8.4%"), or "" for none."""
    return "" if value is None else plain_percent(value)


def ratio_text(value: float) -> str:
    """An odds ratio or relative risk as the page writes it ("0.74"), or says it cannot
    be estimated (0 or infinite, with no DNA in an arm)."""
    if math.isfinite(value) and value > 0:
        return f"{value:.2f}"
    return str(_("not estimable"))


def look_label(look: Look, number: int) -> str:
    """A look's name: recorded looks in turn ("Look 2"), then the analysis now ("Now")."""
    return str(_("Look %(number)d", number=number) if look.recorded else _("Now"))


def look_labels(looks: list[Look]) -> dict[float, str]:
    """Each look's name by its information fraction."""
    return {look.fraction: look_label(look, n) for n, look in enumerate(looks, start=1)}


@dataclass(frozen=True)
class Standing:
    """The analysis as it stands, as the page explains it: the look it would be, its |z|
    against the boundary, and what recording it would decide, and why."""

    look: int
    fraction: float
    z: float
    p_value: float
    boundary: float
    decision: Decision
    why: str

    @property
    def boundary_text(self) -> str:
        return f"{self.boundary:.2f}" if math.isfinite(self.boundary) else _("none possible yet")


def standing(view: ExperimentView) -> Standing | None:
    """Where the analysis stands now; None before both arms have an outcome."""
    found = view.analysis
    if found.comparison is None or found.decision is None:
        return None
    boundary = obf_boundaries([*found.earlier_looks, found.information_fraction], found.alpha)[-1]
    z = observed_z(found.comparison.p_value)
    treatment = arm_names(view)[1]
    if found.decision is Decision.SHIP:
        why = _("%(arm)s has fewer DNAs, and the difference reaches the boundary.", arm=treatment)
    elif found.decision is Decision.STOP and z >= boundary:
        why = _("%(arm)s has more DNAs, and the difference reaches the boundary.", arm=treatment)
    elif found.decision is Decision.STOP:
        why = _(
            "The planned size is reached without a clear fall in DNAs with %(arm)s.", arm=treatment
        )
    else:
        why = _("The planned size is not reached, and the difference does not reach the boundary.")
    return Standing(
        look=len(found.earlier_looks) + 1,
        fraction=found.information_fraction,
        z=z,
        p_value=found.comparison.p_value,
        boundary=boundary,
        decision=found.decision,
        why=why,
    )


@dataclass(frozen=True)
class DecisionRow:
    """A recorded decision as the page lists it."""

    decided: str
    decision: str
    share: str
    n_per_arm: int
    p_value: str
    reasons: list[str]


def decision_rows(view: ExperimentView) -> list[DecisionRow]:
    """The recorded decisions, oldest first, with the reasons recorded with each."""
    rows = []
    for decision in view.decisions:
        p_value = (decision.analysis.get("comparison") or {}).get("p_value")
        rows.append(
            DecisionRow(
                decided=formats.when_text(decision.decided_at),
                decision=decision_label(decision.decision),
                share=percent(decision.information_fraction),
                n_per_arm=decision.n_per_arm,
                p_value="" if p_value is None else f"{p_value:.3g}",
                reasons=list(decision.reasons),
            )
        )
    return rows


def arm_names(view: ExperimentView) -> tuple[str, str]:
    """The control arm's name and the new arm's."""
    control, treatment = (arm.arm for arm in view.analysis.arms)
    return control, treatment
