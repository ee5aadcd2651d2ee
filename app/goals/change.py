"""Change on a goal, and the service-level figures of many goals (pure).

A goal is scored from 0 (not at all) to 10 (reached). Its change is its latest score
minus its first. The change is *reliable* when it is at least the reliable change index
of the Goal Based Outcomes tool on a 0-10 scale, 2.45 points, as derived by
Edbrooke-Childs, Jacob, Law, Deighton and Wolpert (2015), "Interpreting standardized and
idiographic outcome measures in CAMHS: what does change mean and how does it relate to
functioning and experience?", Child and Adolescent Mental Health 20(3), 142-148,
doi:10.1111/camh.12107, and used by CORC (the Child Outcomes Research Consortium) in its
reports. Scores are whole numbers, so in practice a rise of 3 points or more is a
reliable improvement and a fall of 3 or more a reliable deterioration.

A goal with one score has "no follow-up yet": it is counted as such, never dropped
from the counts, and it takes no part in the share improved or the mean change (there
is no change to measure). A goal with no score at all is "not scored yet".

The estimates of many goals treat each patient as a cluster (a patient has up to three
goals, and their goals tend to move together): the variance is the with-replacement
linearisation over patients, as R's `survey::svymean` computes it for
`svydesign(ids = ~patient, weights = ~w)`, with the weights taken as fixed, and the
intervals use the t distribution on (patients - 1) degrees of freedom. The mean change
has a Wald interval; the share improved a logit interval (`svyciprop(method = "logit")`),
or the Wilson interval of the goals' counts when the share is 0 or 1 (where the logit is
infinite).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.core.distributions import t_quantile
from app.core.intervals import wilson_interval

#: The reliable change index of the Goal Based Outcomes tool on a 0-10 scale.
RELIABLE_CHANGE = 2.45
LOWEST, HIGHEST = 0, 10


class Change(enum.StrEnum):
    IMPROVED = "improved"  # rose by at least RELIABLE_CHANGE
    NO_RELIABLE_CHANGE = "no_reliable_change"  # moved by less than RELIABLE_CHANGE
    DETERIORATED = "deteriorated"  # fell by at least RELIABLE_CHANGE
    NO_FOLLOW_UP = "no_follow_up"  # one score so far: no change to measure yet
    NOT_SCORED = "not_scored"  # no score yet


@dataclass(frozen=True)
class Progress:
    """One goal's scores, oldest first, read as a change."""

    scores: tuple[int, ...]

    @property
    def first(self) -> int | None:
        return self.scores[0] if self.scores else None

    @property
    def latest(self) -> int | None:
        return self.scores[-1] if self.scores else None

    @property
    def change(self) -> int | None:
        """Latest minus first; None until there is a follow-up score."""
        if len(self.scores) < 2:
            return None
        return self.scores[-1] - self.scores[0]

    @property
    def kind(self) -> Change:
        if not self.scores:
            return Change.NOT_SCORED
        if self.change is None:
            return Change.NO_FOLLOW_UP
        return classify(self.change)


def check_score(score: int) -> int:
    """`score` if it is a whole number from 0 to 10; ValueError otherwise."""
    if isinstance(score, bool) or not isinstance(score, int) or not LOWEST <= score <= HIGHEST:
        raise ValueError(f"a goal score is a whole number from 0 to 10, got {score!r}")
    return score


def progress(scores: Sequence[int]) -> Progress:
    """The progress of a goal scored `scores`, oldest first. Refuses a score outside
    0-10 (ValueError)."""
    return Progress(tuple(check_score(s) for s in scores))


def classify(change: float) -> Change:
    """Improved, deteriorated or no reliable change, by the reliable change index."""
    if change >= RELIABLE_CHANGE:
        return Change.IMPROVED
    if change <= -RELIABLE_CHANGE:
        return Change.DETERIORATED
    return Change.NO_RELIABLE_CHANGE


@dataclass(frozen=True)
class Figure:
    """An estimate over goals with a follow-up, its standard error and 95% interval."""

    estimate: float
    se: float
    low: float
    high: float
    #: Goals in the estimate, and the patients they belong to.
    goals: int
    patients: int


@dataclass(frozen=True)
class Tally:
    """How many goals fall in each `Change`, every goal counted once."""

    counts: dict[Change, int]

    @property
    def goals(self) -> int:
        return sum(self.counts.values())

    @property
    def followed_up(self) -> int:
        """Goals with a first and a later score."""
        return sum(
            self.counts.get(kind, 0)
            for kind in (Change.IMPROVED, Change.NO_RELIABLE_CHANGE, Change.DETERIORATED)
        )


def tally(goals: Sequence[Progress]) -> Tally:
    """Every goal in its `Change`, none left out."""
    counts = dict.fromkeys(Change, 0)
    for goal in goals:
        counts[goal.kind] += 1
    return Tally(counts)


def mean_change(
    changes: ArrayLike, patients: ArrayLike, weights: ArrayLike | None = None
) -> Figure | None:
    """The (weighted) mean change from first to latest score, with a 95% t interval
    clustered by patient. `changes` and `patients` (any ids) have one entry per goal with
    a follow-up. None with no goal; with one patient the error and interval are NaN."""
    y = np.asarray(changes, dtype=np.float64)
    if not len(y):
        return None
    mean, se, clusters = _linearised(y, patients, weights)
    half = _critical(clusters) * se
    return Figure(mean, se, mean - half, mean + half, len(y), clusters)


def improvement_share(
    changes: ArrayLike, patients: ArrayLike, weights: ArrayLike | None = None
) -> Figure | None:
    """The (weighted) share of goals with a follow-up that improved reliably, with a 95%
    logit interval clustered by patient (Wilson at 0 and 1). None with no goal."""
    y = np.asarray(changes, dtype=np.float64)
    if not len(y):
        return None
    improved = (y >= RELIABLE_CHANGE).astype(np.float64)
    share, se, clusters = _linearised(improved, patients, weights)
    if 0.0 < share < 1.0 and se > 0 and clusters > 1:
        centre = math.log(share / (1 - share))
        half = _critical(clusters) * se / (share * (1 - share))
        low, high = _expit(centre - half), _expit(centre + half)
    else:
        low, high = wilson_interval(int(improved.sum()), len(improved))
    return Figure(share, se, low, high, len(y), clusters)


def _linearised(
    y: NDArray[np.float64], patients: ArrayLike, weights: ArrayLike | None
) -> tuple[float, float, int]:
    """The weighted mean of `y`, its standard error over patient clusters, and the
    number of clusters."""
    ids = np.asarray(patients)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    if ids.shape != y.shape or w.shape != y.shape:
        raise ValueError(f"{len(y)} changes need as many patients and weights")
    if (w < 0).any() or not w.sum() > 0:
        raise ValueError("weights must not be negative, and must not all be 0")
    total = float(w.sum())
    mean = float((w * y).sum() / total)
    _, cluster = np.unique(ids, return_inverse=True)
    clusters = int(cluster.max()) + 1
    totals = np.bincount(cluster, weights=w * (y - mean) / total, minlength=clusters)
    if clusters < 2:
        return mean, math.nan, clusters
    variance = clusters / (clusters - 1) * float(np.square(totals - totals.mean()).sum())
    return mean, math.sqrt(variance), clusters


def _critical(clusters: int) -> float:
    return t_quantile(0.975, clusters - 1) if clusters > 1 else math.inf


def _expit(x: float) -> float:
    if x < 0:
        small = math.exp(x)
        return small / (1.0 + small)
    return 1.0 / (1.0 + math.exp(-x))
