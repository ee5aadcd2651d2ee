"""The service's goal outcomes, from its goals' scores (pure: no database).

The cohort is every goal opened in the period: each was offered the questions. A goal
with a first and a later score ("followed up") has a change; the share of followed-up
goals with reliable improvement and their mean change are estimated with 95% intervals
(`app.goals.change`). Goals with one score are counted as "no follow-up yet", never
dropped.

Who gives a follow-up score is not random: the followed-up goals are weighted to the
whole cohort of goals, as the survey results are weighted to everyone invited
(`app.results`): raked on age band, sex, ethnic group and deprivation quintile of the
patient when the goal was opened, "unknown" a level like any other, a level with
cohort goals but none followed up merged into its neighbour. When no weights can be
made (too few followed-up goals) the figures are unweighted and say so.

Figures by group (age band, ethnic group, language, deprivation quintile) use the same
weights. A figure that rests on fewer than 10 followed-up goals is not shown, as for
survey results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.goals.change import Change, Figure, Tally, improvement_share, mean_change, progress, tally
from app.results import categories as cat
from app.results.weighting import Margin, WeightingError, rake

#: A figure resting on fewer followed-up goals than this is not shown.
SUPPRESS_BELOW = 10
#: The groups the figures are broken down by, in the order pages show them.
GROUPS: tuple[str, ...] = ("age_band", "ethnic", "language", "imd")
#: What the followed-up goals are raked on.
RAKING: tuple[str, ...] = cat.RAKING_VARIABLES


@dataclass(frozen=True)
class GoalFacts:
    """One goal of the cohort: its patient, its scores in order, the patient's groups."""

    goal_id: int
    patient_id: int
    scores: tuple[int, ...]
    #: age_band, sex, ethnic, imd and language, as `app.results.categories` writes them.
    groups: Mapping[str, str]

    @property
    def change(self) -> int | None:
        return progress(self.scores).change


def facts_of(
    goal_id: int,
    patient_id: int,
    scores: Sequence[int],
    *,
    year: int,
    birth_year: int | None,
    sex: str | None,
    ethnic_category: str | None,
    imd_quintile: int | None,
    locale: str,
) -> GoalFacts:
    """A goal's facts, its patient's groups taken as they were in `year`."""
    groups = {
        "age_band": cat.age_band(birth_year, year),
        "sex": cat.sex(sex),
        "ethnic": cat.ethnic_group(ethnic_category),
        "imd": cat.imd(imd_quintile),
        "language": locale,
    }
    return GoalFacts(goal_id, patient_id, tuple(scores), groups)


@dataclass(frozen=True)
class GroupFigures:
    """One level of one group: its goals, and its figures unless too few to show."""

    variable: str
    level: str
    goals: int
    followed_up: int
    improved: Figure | None
    mean_change: Figure | None

    @property
    def suppressed(self) -> bool:
        return self.followed_up < SUPPRESS_BELOW


@dataclass(frozen=True)
class Outcomes:
    """The service's goal outcomes over a cohort of goals."""

    tally: Tally
    patients: int
    #: The figures shown: weighted to the cohort when `weighted`.
    improved: Figure | None
    mean_change: Figure | None
    #: The same, unweighted, beside them.
    unweighted_improved: Figure | None
    unweighted_mean_change: Figure | None
    weighted: bool
    #: Why the figures are not weighted ("" when they are).
    unweighted_reason: str = ""
    #: Levels merged into a neighbour for the weights: (variable, from, into).
    collapsed: tuple[tuple[str, str, str], ...] = ()
    groups: dict[str, list[GroupFigures]] = field(default_factory=dict)
    #: Patients whose latest rounds of questions went unanswered.
    stopped_replying: int = 0

    @property
    def suppressed(self) -> bool:
        return self.tally.followed_up < SUPPRESS_BELOW


def summarise_goals(goals: Sequence[GoalFacts], stopped_replying: int = 0) -> Outcomes:
    """Tally, weighted and unweighted figures, and figures by group, for a cohort."""
    followed = [g for g in goals if g.change is not None]
    changes = np.array([g.change for g in followed], dtype=np.float64)
    patients = np.array([g.patient_id for g in followed])
    weights, reason, collapsed = _weights(goals, followed)
    plain_improved = improvement_share(changes, patients)
    plain_mean = mean_change(changes, patients)
    return Outcomes(
        tally=tally([progress(g.scores) for g in goals]),
        patients=len({g.patient_id for g in goals}),
        improved=improvement_share(changes, patients, weights) if weights is not None else None,
        mean_change=mean_change(changes, patients, weights) if weights is not None else None,
        unweighted_improved=plain_improved,
        unweighted_mean_change=plain_mean,
        weighted=weights is not None,
        unweighted_reason=reason,
        collapsed=collapsed,
        groups={v: _by_group(v, goals, followed, weights) for v in GROUPS},
        stopped_replying=stopped_replying,
    )


def shown_improved(outcomes: Outcomes) -> Figure | None:
    """The share improved the page leads with: weighted when possible."""
    return outcomes.improved if outcomes.weighted else outcomes.unweighted_improved


def shown_mean_change(outcomes: Outcomes) -> Figure | None:
    """The mean change the page leads with: weighted when possible."""
    return outcomes.mean_change if outcomes.weighted else outcomes.unweighted_mean_change


def _weights(
    cohort: Sequence[GoalFacts], followed: Sequence[GoalFacts]
) -> tuple[np.ndarray | None, str, tuple[tuple[str, str, str], ...]]:
    """Weights of the followed-up goals that make them add up to the cohort on the
    raking variables; None with the reason when none can be made."""
    if not followed:
        return None, "no_follow_up", ()
    levels = {v: cat.LEVELS[v] for v in RAKING}
    index = {v: {name: i for i, name in enumerate(levels[v])} for v in RAKING}
    columns = {v: np.array([index[v][g.groups[v]] for g in cohort], dtype=np.int64) for v in RAKING}
    margins = [
        Margin(
            (v,), np.bincount(columns[v], minlength=len(levels[v])).astype(np.float64), (levels[v],)
        )
        for v in RAKING
    ]
    chosen = np.array([g.change is not None for g in cohort], dtype=bool)
    try:
        found = rake({v: c[chosen] for v, c in columns.items()}, margins, collapse="adjacent")
    except WeightingError:
        return None, "cannot_weight", ()
    if not found.converged:
        return None, "cannot_weight", ()
    merged = tuple((c.variable, c.level, c.into) for c in found.collapsed)
    return found.weights, "", merged


def _by_group(
    variable: str,
    cohort: Sequence[GoalFacts],
    followed: Sequence[GoalFacts],
    weights: np.ndarray | None,
) -> list[GroupFigures]:
    """Figures for each level of `variable` that has goals, with the cohort's weights."""
    levels = sorted({g.groups[variable] for g in cohort}, key=lambda level: _order(variable, level))
    rows = []
    for level in levels:
        members = [i for i, g in enumerate(followed) if g.groups[variable] == level]
        goals = sum(1 for g in cohort if g.groups[variable] == level)
        improved = mean = None
        if len(members) >= SUPPRESS_BELOW:
            changes = np.array([followed[i].change for i in members], dtype=np.float64)
            patients = np.array([followed[i].patient_id for i in members])
            chosen = weights[members] if weights is not None else None
            improved = improvement_share(changes, patients, chosen)
            mean = mean_change(changes, patients, chosen)
        rows.append(GroupFigures(variable, level, goals, len(members), improved, mean))
    return rows


def _order(variable: str, level: str) -> tuple[int, str]:
    """Levels in their natural order ("unknown" last), languages by code."""
    known = cat.LEVELS.get(variable, ())
    if level in known:
        return known.index(level), level
    return (len(known) + (1 if level == cat.UNKNOWN else 0), level)


#: Kinds of change in the order a page lists them.
CHANGE_ORDER: tuple[Change, ...] = (
    Change.IMPROVED,
    Change.NO_RELIABLE_CHANGE,
    Change.DETERIORATED,
    Change.NO_FOLLOW_UP,
    Change.NOT_SCORED,
)
