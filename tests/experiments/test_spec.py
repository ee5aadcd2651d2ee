"""Experiment definitions: what is accepted, and every problem named by its path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.experiments.spec import (
    DefinitionError,
    load_definition,
    parse_definition,
    planned_sample_size,
)

COST_EN = (
    "%(clinic)s: your appointment is on %(date)s at %(time)s. A missed appointment costs "
    "the NHS 160 pounds. Reply 1 to confirm, 2 to cancel or 3 to ask for a new time."
)
YAML = """
slug: cost-2026
title: Stating the cost
clinics: [north, south]
starts_at: 2026-03-01
baseline: 0.111
min_difference: 0.027
looks: 3
arms:
  - {name: A}
  - name: B
    weight: 1
    reminder:
      en: "%(clinic)s: your appointment is on %(date)s at %(time)s. Reply 1 to confirm."
"""


def raw(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": "cost-2026",
        "clinics": ["north"],
        "starts_at": "2026-03-01T00:00:00+00:00",
        "baseline": 0.111,
        "min_difference": 0.027,
        "arms": [{"name": "A"}, {"name": "B", "reminder": {"en": COST_EN}}],
    }
    data.update(changes)
    return data


def test_a_yaml_definition_is_read_with_its_defaults() -> None:
    spec = parse_definition(load_definition(YAML, "exp.yaml"))
    assert (spec.slug, spec.seed, spec.clinic_slugs) == (
        "cost-2026",
        "cost-2026",
        ("north", "south"),
    )
    assert spec.starts_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert (spec.alpha, spec.power, spec.looks) == (0.05, 0.8, 3)
    assert [(a.name, a.weight, sorted(a.reminder)) for a in spec.arms] == [
        ("A", 1, []),
        ("B", 1, ["en"]),
    ]
    # R: power.prop.test(p1 = 0.111, p2 = 0.084, power = 0.8)$n is 1893.6
    assert spec.planned_n_per_arm == 1894


def test_the_power_helper_plans_for_a_reduction() -> None:
    size = planned_sample_size(0.111, 0.027, 0.05, 0.8)
    assert size.n_control_exact == pytest.approx(1893.614, abs=1e-3)
    with pytest.raises(ValueError, match="positive reduction"):
        planned_sample_size(0.111, -0.027, 0.05, 0.8)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"slug": "Cost 2026"}, ("slug", "required: lower-case letters, digits and dashes")),
        ({"colour": "red"}, ("colour", "unknown field")),
        ({"clinics": []}, ("clinics", "required: a list of clinic slugs")),
        ({"clinics": ["north", "north"]}, ("clinics[1]", "listed twice")),
        ({"primary_outcome": "attended"}, ("primary_outcome", "only dna is supported")),
        (
            {"starts_at": "2026-03-01T09:00"},
            ("starts_at", "required: an ISO 8601 date, or a date and time with an offset"),
        ),
        ({"baseline": 1.2}, ("baseline", "must be strictly between 0 and 1")),
        (
            {"min_difference": 0.2},
            ("min_difference", "must be smaller than baseline (a reduction in the rate)"),
        ),
        ({"looks": 0}, ("looks", "must be a whole number from 1 to 10")),
        ({"arms": [{"name": "A"}]}, ("arms", "required: exactly two arms, the control first")),
        (
            {"arms": [{"name": "A"}, {"name": "A", "reminder": {"en": COST_EN}}]},
            ("arms[1].name", "repeats the name of arms[0]"),
        ),
        (
            {"arms": [{"name": "A"}, {"name": "B"}]},
            ("arms", "no arm has a reminder text: both would get the usual wording"),
        ),
        (
            {"arms": [{"name": "A", "weight": 0}, {"name": "B", "reminder": {"en": COST_EN}}]},
            ("arms[0].weight", "must be a whole number from 1 to 100"),
        ),
        (
            {"arms": [{"name": "A"}, {"name": "B", "reminder": {"xx": COST_EN}}]},
            ("arms[1].reminder.xx", "not a supported locale code (en, cy, pl, zh_Hans...)"),
        ),
        (
            {"arms": [{"name": "A"}, {"name": "B", "reminder": {"en": "%(clinic)s on %(date)s"}}]},
            ("arms[1].reminder.en", "%(time)s is missing"),
        ),
    ],
)
def test_each_problem_names_its_field(changes: dict[str, Any], problem: tuple[str, str]) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw(**changes))
    assert problem in caught.value.problems


def test_a_reply_instruction_with_an_opt_out_word_is_refused() -> None:
    text = "%(clinic)s on %(date)s at %(time)s. Reply CANCEL to cancel."
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw(arms=[{"name": "A"}, {"name": "B", "reminder": {"en": text}}]))
    paths = [path for path, _ in caught.value.problems]
    assert paths == ["arms[1].reminder.en"]


def test_a_planned_size_below_the_power_target_is_kept_with_a_warning() -> None:
    spec = parse_definition(raw(planned_n_per_arm=500))
    assert spec.planned_n_per_arm == 500
    assert spec.warnings == (
        "planned_n_per_arm: 500 is below the 1894 needed for power 0.8 at alpha 0.05",
    )


def test_unequal_weights_plan_the_smaller_arm() -> None:
    spec = parse_definition(
        raw(arms=[{"name": "A", "weight": 2}, {"name": "B", "reminder": {"en": COST_EN}}])
    )
    size = planned_sample_size(0.111, 0.027, 0.05, 0.8, ratio=0.5)
    assert spec.planned_n_per_arm == size.n_treatment < size.n_control


@pytest.mark.parametrize(
    ("text", "source", "where"),
    [("slug: [", "x.yaml", "line 1"), ("{", "x.json", "line 1"), ("- a", "x.yaml", "(document)")],
)
def test_unreadable_text_is_refused(text: str, source: str, where: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(text, source)
    assert caught.value.problems[0][0] == where
