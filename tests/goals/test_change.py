"""Change on a goal and the figures of many goals, on cases worked by hand."""

from __future__ import annotations

import math

import pytest

from app.goals.change import (
    RELIABLE_CHANGE,
    Change,
    classify,
    improvement_share,
    mean_change,
    progress,
    tally,
)

#: R: qt(0.975, 2), the t quantile the three-patient cases below use.
T_975_2DF = 4.302652729911275


@pytest.mark.parametrize(
    ("scores", "first", "latest", "change", "kind"),
    [
        ((), None, None, None, Change.NOT_SCORED),
        ((4,), 4, 4, None, Change.NO_FOLLOW_UP),  # one score: counted, not dropped
        ((2, 5), 2, 5, 3, Change.IMPROVED),  # 3 >= 2.45
        ((2, 4), 2, 4, 2, Change.NO_RELIABLE_CHANGE),  # 2 < 2.45
        ((2, 9, 4), 2, 4, 2, Change.NO_RELIABLE_CHANGE),  # first to latest, not the best
        ((7, 4), 7, 4, -3, Change.DETERIORATED),
        ((7, 5), 7, 5, -2, Change.NO_RELIABLE_CHANGE),
        ((0, 10), 0, 10, 10, Change.IMPROVED),
        ((5, 5, 5), 5, 5, 0, Change.NO_RELIABLE_CHANGE),
    ],
)
def test_progress_of_one_goal(
    scores: tuple[int, ...], first: int | None, latest: int | None, change: int | None, kind: Change
) -> None:
    found = progress(scores)
    assert (found.first, found.latest, found.change, found.kind) == (first, latest, change, kind)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (2.45, Change.IMPROVED),  # the index itself counts
        (2.44, Change.NO_RELIABLE_CHANGE),
        (-2.45, Change.DETERIORATED),
        (-2.44, Change.NO_RELIABLE_CHANGE),
    ],
)
def test_the_reliable_change_index_is_2_45(change: float, kind: Change) -> None:
    assert RELIABLE_CHANGE == 2.45
    assert classify(change) is kind


@pytest.mark.parametrize("bad", [-1, 11, 5.5, True, "7"])
def test_a_score_outside_0_to_10_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        progress([3, bad])  # type: ignore[list-item]


def test_every_goal_is_counted_once_in_the_tally() -> None:
    goals = [progress(s) for s in [(), (3,), (3,), (1, 6), (6, 6), (8, 2)]]
    found = tally(goals)
    assert found.counts == {
        Change.NOT_SCORED: 1,
        Change.NO_FOLLOW_UP: 2,
        Change.IMPROVED: 1,
        Change.NO_RELIABLE_CHANGE: 1,
        Change.DETERIORATED: 1,
    }
    assert (found.goals, found.followed_up) == (6, 3)


# Three patients, five goals with a follow-up: changes by patient
#   p1: +3, +1    p2: +5    p3: -3, +4
CHANGES = [3, 1, 5, -3, 4]
PATIENTS = ["p1", "p1", "p2", "p3", "p3"]


def test_mean_change_clustered_by_patient_worked_by_hand() -> None:
    # mean = 10 / 5 = 2. Influence of each goal (y - mean) / n, summed per patient:
    #   p1: (1 - 1) / 5 = 0    p2: 3 / 5 = 0.6    p3: (-5 + 2) / 5 = -0.6
    # variance = 3 / 2 * (0 + 0.36 + 0.36) = 1.08; on 3 - 1 = 2 degrees of freedom.
    found = mean_change(CHANGES, PATIENTS)
    assert found is not None
    assert found.estimate == pytest.approx(2.0)
    assert found.se == pytest.approx(math.sqrt(1.08))
    half = T_975_2DF * math.sqrt(1.08)
    assert (found.low, found.high) == pytest.approx((2.0 - half, 2.0 + half))
    assert (found.goals, found.patients) == (5, 3)


def test_share_improved_clustered_by_patient_worked_by_hand() -> None:
    # Improved (>= 2.45): +3, +5, +4, so 3 of 5 = 0.6. Influences (f - 0.6) / 5 per patient:
    #   p1: (0.4 - 0.6) / 5 = -0.04    p2: 0.4 / 5 = 0.08    p3: (-0.6 + 0.4) / 5 = -0.04
    # variance = 3 / 2 * (0.0016 + 0.0064 + 0.0016) = 0.0144, se = 0.12. Logit interval:
    #   log(0.6 / 0.4) ± t * 0.12 / (0.6 * 0.4), back through the logistic function.
    found = improvement_share(CHANGES, PATIENTS)
    assert found is not None
    assert found.estimate == pytest.approx(0.6)
    assert found.se == pytest.approx(0.12)
    centre, half = math.log(1.5), T_975_2DF * 0.12 / 0.24
    expected = (1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half))))
    assert (found.low, found.high) == pytest.approx(expected)


def test_weighted_mean_change_worked_by_hand() -> None:
    # Weights 2, 1, 1 on changes 4, 0, 1 (one goal each): mean = (8 + 0 + 1) / 4 = 2.25.
    # Influences w (y - mean) / 4: 0.875, -0.5625, -0.3125 (they add up to 0);
    # variance = 3 / 2 * (0.765625 + 0.31640625 + 0.09765625) = 1.76953125.
    found = mean_change([4, 0, 1], [1, 2, 3], [2.0, 1.0, 1.0])
    assert found is not None
    assert found.estimate == pytest.approx(2.25)
    assert found.se == pytest.approx(math.sqrt(1.76953125))


def test_no_goal_with_a_follow_up_gives_no_figure() -> None:
    assert mean_change([], []) is None
    assert improvement_share([], []) is None


def test_every_goal_improved_gives_the_wilson_interval_of_the_counts() -> None:
    # Share 1: the logit is infinite, so the interval is Wilson's for 4 of 4, which is
    # 4 / (4 + z^2) = 0.5103 (z = 1.96) to 1.
    found = improvement_share([3, 4, 5, 6], [1, 2, 3, 4])
    assert found is not None
    assert found.estimate == 1.0
    z2 = 1.959963984540054**2
    assert (found.low, found.high) == pytest.approx((4 / (4 + z2), 1.0))


def test_one_patient_has_no_interval_for_the_mean() -> None:
    found = mean_change([3, 1], ["p1", "p1"])
    assert found is not None
    assert found.estimate == 2.0
    assert math.isnan(found.se)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="as many patients"):
        mean_change([1, 2], [1])
