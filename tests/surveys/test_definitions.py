"""Survey definitions: what a clinic writes, and the path-naming errors it gets back."""

from __future__ import annotations

from typing import Any

import pytest

from app.surveys import texts
from app.surveys.definitions import (
    DefinitionError,
    digest,
    load_text,
    parse_definition,
)

GOOD_YAML = """
slug: physio-followup
title: {en: "Physiotherapy follow-up", pl: "Fizjoterapia"}
questions:
  - id: overall
    type: single_choice
    text: {en: "How was your visit?", pl: "Jak oceniasz wizytę?"}
    options:
      - {key: good, label: {en: "Good", pl: "Dobrze"}}
      - {key: poor, label: {en: "Poor", pl: "Źle"}}
    next:
      - {when: {answer: [poor]}, goto: why_poor}
      - {goto: pain}
  - id: why_poor
    type: free_text
    optional: true
    text: "What went wrong?"
  - id: pain
    type: scale
    min: 0
    max: 9
    text: "How much pain are you in now?"
    next: [{when: {at_least: 7}, goto: call_back}]
  - id: exercises
    type: yes_no
    text: "Are you doing your exercises?"
  - id: call_back
    type: yes_no
    optional: true
    text: "Would you like us to phone you?"
"""


def _minimal(**question: Any) -> dict[str, Any]:
    base = {"id": "q1", "type": "yes_no", "text": "Did it help?"}
    return {"slug": "s", "questions": [base | question]}


def test_yaml_and_json_give_the_same_definition() -> None:
    raw = load_text(GOOD_YAML, "survey.yaml")
    definition = parse_definition(raw)
    assert [q.id for q in definition.questions] == [
        "overall",
        "why_poor",
        "pain",
        "exercises",
        "call_back",
    ]
    assert definition.question("overall").options[1].label.by_locale["pl"] == "Źle"
    assert definition.question("why_poor").text.translatable
    import json

    again = load_text(json.dumps(raw), "survey.json")
    assert digest(again) == digest(raw)


def test_the_friends_and_family_test_is_worded_exactly() -> None:
    fft = parse_definition(texts.FFT)
    first = fft.questions[0]
    assert first.text.english == "Overall, how was your experience of our service?"
    assert [o.label.english for o in first.options] == [
        "Very good",
        "Good",
        "Neither good nor poor",
        "Poor",
        "Very poor",
        "Don't know",
    ]
    assert fft.questions[1].type == "free_text"
    assert fft.questions[1].text.english == "What was good, and what could we do better?"


def test_a_changed_definition_has_a_new_digest() -> None:
    raw = load_text(GOOD_YAML)
    changed = load_text(GOOD_YAML.replace("How was your visit?", "How did it go?"))
    assert digest(raw) != digest(changed)


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({"questions": [{"id": "q", "type": "yes_no", "text": "x"}]}, "slug", "required"),
        ({"slug": "s", "questions": []}, "questions", "non-empty"),
        (_minimal(type="ranking"), "questions[0].type", "must be one of"),
        (_minimal(id="Bad Id"), "questions[0].id", "lower-case"),
        (_minimal(id="end"), "questions[0].id", "not 'end'"),
        (_minimal(text=""), "questions[0].text", "must not be empty"),
        (_minimal(text={"xx": "hi"}), "questions[0].text.xx", "unknown locale"),
        (_minimal(colour="red"), "questions[0].colour", "unknown field"),
        (_minimal(optional="yes"), "questions[0].optional", "true or false"),
        (_minimal(type="single_choice"), "questions[0].options", "at least 2"),
        (
            _minimal(type="single_choice", options=[{"key": "a", "label": "A"}, {"label": "B"}]),
            "questions[0].options[1].key",
            "required",
        ),
        (
            _minimal(
                type="single_choice",
                options=[{"key": "a", "label": "A"}, {"key": "a", "label": "B"}],
            ),
            "questions[0].options[1].key",
            "duplicate",
        ),
        (
            _minimal(
                type="single_choice",
                options=[{"key": "skip", "label": "A"}, {"key": "b", "label": "B"}],
            ),
            "questions[0].options[0].key",
            "required",
        ),
        (_minimal(options=[{"key": "a", "label": "A"}]), "questions[0].options", "only"),
        (_minimal(type="scale", min=5, max=3), "questions[0].max", "greater than min"),
        (_minimal(type="scale", min=0, max=10), "questions[0].max", "up to 9"),
        (_minimal(type="scale", max=5), "questions[0].min", "whole number"),
        (_minimal(min=1), "questions[0].min", "only scale and number"),
        (_minimal(next=[{"goto": "nowhere"}]), "questions[0].next[0].goto", "no question"),
        (_minimal(next=[{"when": {"answer": ["maybe"]}, "goto": "end"}]), "", "not an answer"),
        (_minimal(next=[{"when": {"at_least": 3}, "goto": "end"}]), "at_least", "only for scale"),
        (_minimal(next=[{"when": {"colour": 1}, "goto": "end"}]), "when.colour", "unknown"),
        (_minimal(next=5), "questions[0].next", "a list of rules"),
    ],
)
def test_every_problem_names_its_path(raw: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw, "clinic.yaml")
    assert any(path in p and message in m for p, m in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith("clinic.yaml: ")


def test_skip_logic_only_jumps_forward() -> None:
    raw = {
        "slug": "loop",
        "questions": [
            {"id": "a", "type": "yes_no", "text": "A?"},
            {"id": "b", "type": "yes_no", "text": "B?", "next": [{"goto": "a"}]},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw)
    assert caught.value.problems == [
        ("questions[1].next[0].goto", "'a' is not after this question (skips go forward)")
    ]


def test_duplicate_question_ids_are_reported() -> None:
    raw = {
        "slug": "dup",
        "questions": [
            {"id": "a", "type": "yes_no", "text": "A?"},
            {"id": "a", "type": "free_text", "text": "B?"},
        ],
    }
    with pytest.raises(DefinitionError, match=r"questions\[1\]\.id: duplicate id 'a'"):
        parse_definition(raw)


@pytest.mark.parametrize(
    ("text", "source", "where"),
    [
        ("{not json", "s.json", "line 1"),
        ("slug: [unclosed", "s.yaml", "line"),
        ("- just\n- a list\n", "s.yaml", "(document)"),
    ],
)
def test_unreadable_files_say_where(text: str, source: str, where: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_text(text, source)
    assert caught.value.problems[0][0].startswith(where)
    assert caught.value.source == source
