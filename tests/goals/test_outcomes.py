"""The service's goal outcomes on cohorts worked by hand: every goal counted, the
followed-up goals weighted to the cohort of goals, and figures by group."""

from __future__ import annotations

import pytest

from app.goals.change import Change
from app.goals.outcomes import GoalFacts, facts_of, shown_mean_change, summarise_goals


def _goal(number: int, scores: tuple[int, ...], age: str, language: str = "en") -> GoalFacts:
    groups = {"age_band": age, "sex": "unknown", "ethnic": "unknown", "imd": "unknown"}
    return GoalFacts(number, number, scores, {**groups, "language": language})


# Two young patients both followed up (+4 each); six older ones, two followed up (no
# change) and four with one score so far.
COHORT = [
    _goal(1, (2, 6), "25-39"),
    _goal(2, (3, 7), "25-39"),
    _goal(3, (5, 5), "65-74"),
    _goal(4, (4, 4), "65-74"),
    *[_goal(n, (5,), "65-74") for n in range(5, 9)],
]


def test_every_goal_is_counted_and_one_score_is_no_follow_up_yet() -> None:
    found = summarise_goals(COHORT, stopped_replying=3)
    assert found.tally.counts[Change.NO_FOLLOW_UP] == 4
    assert found.tally.counts[Change.IMPROVED] == 2
    assert found.tally.counts[Change.NO_RELIABLE_CHANGE] == 2
    assert (found.tally.goals, found.tally.followed_up, found.patients) == (8, 4, 8)
    assert found.stopped_replying == 3
    assert found.suppressed  # 4 followed up: too few to show as a figure


def test_followed_up_goals_are_weighted_to_the_cohort() -> None:
    # Raked on age band: the cohort has 2 young goals and 6 older ones; 2 of each were
    # followed up, so the young weigh 2 / 2 = 1 and the older 6 / 2 = 3 (every other
    # raking variable is "unknown" for all, one level that adds up already).
    # Weighted mean change = (4 + 4 + 0 + 0 weighted 1, 1, 3, 3) / 8 = 1; unweighted 2.
    # Weighted share improved = 2 / 8 = 0.25; unweighted 2 / 4 = 0.5.
    found = summarise_goals(COHORT)
    assert found.weighted
    assert found.mean_change is not None
    assert found.improved is not None
    assert found.unweighted_mean_change is not None
    assert found.unweighted_improved is not None
    assert found.mean_change.estimate == pytest.approx(1.0)
    assert found.improved.estimate == pytest.approx(0.25)
    assert found.unweighted_mean_change.estimate == pytest.approx(2.0)
    assert found.unweighted_improved.estimate == pytest.approx(0.5)
    assert shown_mean_change(found) is found.mean_change


def test_a_group_with_cohort_goals_but_no_follow_up_is_merged_into_its_neighbour() -> None:
    cohort = [*COHORT, _goal(9, (6,), "75+")]
    found = summarise_goals(cohort)
    assert found.weighted
    assert ("age_band", "75+", "65-74") in found.collapsed
    assert found.mean_change is not None
    # The 75+ goal's weight goes to the older followed-up goals: 7 / 2 each.
    assert found.mean_change.estimate == pytest.approx(8 / 9)


def test_nothing_followed_up_gives_counts_and_no_figure() -> None:
    found = summarise_goals([_goal(1, (4,), "25-39"), _goal(2, (), "25-39")])
    assert (found.weighted, found.unweighted_reason) == (False, "no_follow_up")
    assert found.improved is None
    assert found.unweighted_mean_change is None
    assert found.tally.counts[Change.NOT_SCORED] == 1


def test_figures_by_group_are_shown_from_ten_followed_up_goals() -> None:
    welsh = [_goal(n, (2, 6 if n % 2 else 3), "40-54", "cy") for n in range(1, 11)]
    polish = [_goal(n, (2, 9), "40-54", "pl") for n in range(11, 20)]
    found = summarise_goals(welsh + polish)
    by_language = {row.level: row for row in found.groups["language"]}
    assert (by_language["cy"].goals, by_language["cy"].followed_up) == (10, 10)
    assert by_language["cy"].improved is not None
    assert by_language["cy"].improved.estimate == pytest.approx(0.5)  # +4 five times, +1 five
    assert by_language["cy"].mean_change is not None
    assert by_language["cy"].mean_change.estimate == pytest.approx(2.5)
    assert by_language["pl"].suppressed
    assert by_language["pl"].improved is None
    assert [row.level for row in found.groups["age_band"]] == ["40-54"]


def test_a_patients_groups_are_taken_in_the_year_the_goal_opened() -> None:
    found = facts_of(
        7,
        3,
        [2, 5],
        year=2026,
        birth_year=1990,
        sex="F",
        ethnic_category="H",
        imd_quintile=1,
        locale="bn",
    )
    assert dict(found.groups) == {
        "age_band": "25-39",
        "sex": "F",
        "ethnic": "asian",
        "imd": "1",
        "language": "bn",
    }
    assert found.change == 3
