"""Every question estimated with the snapshot's weights: against R's survey package
(tests/reference/results/make_reference.R) and against numbers worked by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.results.questions import (
    Given,
    QuestionKind,
    QuestionSpec,
    Reading,
    estimate_questions,
    question_specs,
    read_answer,
)
from app.results.weighting import Margin, rake
from tests.results.conftest import load_reference, weighted_case

#: The survey the R script's answers belong to, as a clinic would write it.
DEFINITION: dict[str, Any] = {
    "slug": "reference",
    "questions": [
        {
            "id": "visit",
            "type": "single_choice",
            "text": "How was your visit?",
            "options": [
                {"key": key, "label": key.replace("_", " ").capitalize()}
                for key in ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
            ],
        },
        {"id": "recommend", "type": "yes_no", "text": {"en": "Would you come back?"}},
        {"id": "pain", "type": "scale", "text": "Pain today", "min": 0, "max": 10},
        {"id": "waited", "type": "number", "text": "Days waited"},
    ],
}
RELATIVE = 1e-6


def _reference_respondents() -> list[Given]:
    answers = load_reference()["questions"]["answers"]
    count = len(answers["visit"]["status"])
    given = []
    for row in range(count):
        stored = {
            question: {"status": column["status"][row], "value": column["value"][row]}
            for question, column in answers.items()
            if column["status"][row] != "missing"
        }
        given.append(Given(1, stored))
    return given


def _by_id(figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {figure["id"]: figure for figure in figures}


@pytest.mark.parametrize("case", ["rake3", "poststratify"])
def test_shares_and_means_match_r(case: str) -> None:
    expected = load_reference()["questions"]["cases"][case]
    specs = question_specs({1: DEFINITION})
    figures = _by_id(estimate_questions(specs, _reference_respondents(), weighted_case(case)))
    compared = 0
    for question in ("visit", "recommend", "pain"):
        options = {o["key"]: o for o in figures[question]["options"]}
        for key, want in expected[question].items():
            got = options[key]
            assert got["respondents"] == want["respondents"]
            assert got["count"] == want["count"]
            for name in ("estimate", "se", "lower", "upper"):
                assert got[name] == pytest.approx(want[name], rel=RELATIVE, abs=1e-12), (
                    question,
                    key,
                    name,
                )
            compared += 1
    for question in ("pain", "waited"):
        want = expected[f"{question}_mean"]
        got = figures[question]["mean"]
        assert got["respondents"] == want["respondents"]
        for name in ("estimate", "se", "lower", "upper"):
            assert got[name] == pytest.approx(want[name], rel=RELATIVE), (question, name)
        compared += 1
    assert compared == 6 + 2 + 11 + 2


def test_what_is_left_out_is_counted() -> None:
    answers = load_reference()["questions"]["answers"]
    figures = _by_id(
        estimate_questions(
            question_specs({1: DEFINITION}), _reference_respondents(), weighted_case("rake3")
        )
    )
    statuses = {q: answers[q]["status"] for q in answers}
    visit = figures["visit"]
    # "Don't know" is an option of this question: it counts as an answer.
    assert visit["respondents"] == sum(s in ("answered", "dont_know") for s in statuses["visit"])
    assert (visit["dont_know"], visit["skipped"]) == (0, statuses["visit"].count("skipped"))
    assert visit["unparsed"] == statuses["visit"].count("unparsed")
    recommend = figures["recommend"]
    assert recommend["dont_know"] == statuses["recommend"].count("dont_know")
    assert recommend["respondents"] == statuses["recommend"].count("answered")
    assert figures["pain"]["not_asked"] == statuses["pain"].count("missing")
    # Shares of one question add up to one: the same weights and the same base.
    assert sum(o["estimate"] for o in visit["options"]) == pytest.approx(1.0)


# -- worked by hand -------------------------------------------------------------------------
#
# Two groups: the cohort has 60 in A and 40 in B; 10 of A and 20 of B answered. Post-
# stratified weights: 6 for each of A, 2 for each of B. "Would you come back?": 8 of A
# and 5 of B said yes.
#   weighted share yes = (8·6 + 5·2) / (60 + 40) = 58 / 100 = 0.58 (unweighted 13/30).
# Linearised variance on the post-strata: z_i = w_i (y_i - ȳ_group) / N, z̄ = 0,
#   A: ȳ = 0.8, z = 0.012 (8 times) and -0.048 (twice): Σz² = 0.001152 + 0.004608 = 0.00576
#   B: ȳ = 0.25, z = 0.015 (5 times) and -0.005 (15 times): Σz² = 0.001125 + 0.000375
#      = 0.0015
#   var = n/(n-1) Σz² = 30/29 · 0.00726 = 0.0075103448…, SE = 0.0866622…
# Days waited: A answered 4 each, B 10 each (one of B skipped: 19 answers).
#   weighted mean = (10·6·4 + 19·2·10) / (60 + 38) = (240 + 380) / 98 = 6.3265306…


def _two_groups() -> tuple[list[Given], Any]:
    groups = np.array([0] * 10 + [1] * 20)
    weighting = rake({"group": groups}, [Margin(("group",), np.array([60.0, 40.0]))])
    given = []
    for i in range(30):
        in_a = i < 10
        yes = i < 8 if in_a else i < 15
        answers: dict[str, Any] = {"back": {"status": "answered", "value": "yes" if yes else "no"}}
        if i == 29:
            answers["waited"] = {"status": "skipped", "value": None}
        else:
            answers["waited"] = {"status": "answered", "value": "4" if in_a else "10"}
        given.append(Given(7, answers))
    return given, weighting


TWO_GROUPS = {
    "questions": [
        {"id": "back", "type": "yes_no", "text": "Would you come back?"},
        {"id": "waited", "type": "number", "text": "Days waited"},
        {"id": "words", "type": "free_text", "text": "Anything else?", "optional": True},
    ]
}


def test_known_answers_by_hand() -> None:
    given, weighting = _two_groups()
    assert list(weighting.weights[:10]) == pytest.approx([6.0] * 10)
    figures = _by_id(estimate_questions(question_specs({7: TWO_GROUPS}), given, weighting))
    yes, no = figures["back"]["options"]
    assert (yes["key"], yes["respondents"], yes["count"]) == ("yes", 30, 13)
    assert yes["estimate"] == pytest.approx(0.58)
    assert yes["unweighted"] == pytest.approx(13 / 30)
    assert yes["se"] == pytest.approx((30 / 29 * 0.00726) ** 0.5)
    assert yes["lower"] < 0.58 < yes["upper"]
    assert no["estimate"] == pytest.approx(0.42)
    waited = figures["waited"]
    assert (waited["respondents"], waited["skipped"]) == (29, 1)
    assert waited["mean"]["estimate"] == pytest.approx(620 / 98)
    assert "options" not in waited
    assert figures["words"] == {
        "id": "words",
        "kind": "free_text",
        "text": "Anything else?",
        "respondents": 0,
        "dont_know": 0,
        "skipped": 0,
        "unparsed": 0,
        "not_asked": 30,
    }


def test_weights_move_the_estimate() -> None:
    given, weighting = _two_groups()
    specs = question_specs({7: TWO_GROUPS})
    equal = rake(
        {"group": np.array([0] * 10 + [1] * 20)}, [Margin(("group",), np.array([10.0, 20.0]))]
    )
    weighted = _by_id(estimate_questions(specs, given, weighting))["back"]["options"][0]
    plain = _by_id(estimate_questions(specs, given, equal))["back"]["options"][0]
    assert plain["estimate"] == pytest.approx(13 / 30)
    assert weighted["estimate"] == pytest.approx(0.58)


def test_figures_on_fewer_than_ten_answers_are_suppressed() -> None:
    given, weighting = _two_groups()
    for row in given[9:]:
        row.answers["back"]["status"] = "skipped"  # type: ignore[index]
    figures = _by_id(estimate_questions(question_specs({7: TWO_GROUPS}), given, weighting))
    back = figures["back"]
    assert back["respondents"] == 9
    for option in back["options"]:
        assert option == {
            "key": option["key"],
            "label": option["label"],
            "respondents": 9,
            "suppressed": True,
            "reason": "fewer than 10 responses",
        }
    assert figures["waited"]["mean"]["suppressed"] is False


def test_no_weights_means_everything_is_suppressed() -> None:
    figures = estimate_questions(question_specs({7: TWO_GROUPS}), [], None)
    assert figures[0]["options"][0]["suppressed"] is True
    assert figures[1]["mean"] == {
        "respondents": 0,
        "suppressed": True,
        "reason": "fewer than 10 responses",
    }


CHOICE = QuestionSpec(
    "q",
    QuestionKind.SINGLE_CHOICE,
    "Q",
    (("a", "A"), ("b", "B")),
    versions=frozenset({1}),
)
WITH_DONT_KNOW = QuestionSpec(
    "q",
    QuestionKind.SINGLE_CHOICE,
    "Q",
    (("a", "A"), ("dont_know", "Don't know")),
    versions=frozenset({1}),
)
SCALE = QuestionSpec(
    "q", QuestionKind.SCALE, "Q", (("1", "1"), ("2", "2")), 1, 2, versions=frozenset({1})
)
NUMBER = QuestionSpec("q", QuestionKind.NUMBER, "Q", versions=frozenset({1}))
WORDS = QuestionSpec("q", QuestionKind.FREE_TEXT, "Q", versions=frozenset({1}))


@pytest.mark.parametrize(
    ("spec", "stored", "version", "expected"),
    [
        (CHOICE, {"status": "answered", "value": "b"}, 1, (Reading.ANSWER, "b")),
        (CHOICE, {"status": "answered", "value": "z"}, 1, (Reading.UNPARSED, None)),
        (CHOICE, {"status": "dont_know", "value": None}, 1, (Reading.DONT_KNOW, None)),
        (WITH_DONT_KNOW, {"status": "dont_know", "value": None}, 1, (Reading.ANSWER, "dont_know")),
        (CHOICE, {"status": "skipped", "value": None}, 1, (Reading.SKIPPED, None)),
        (CHOICE, {"status": "unparsed", "value": "soon"}, 1, (Reading.UNPARSED, None)),
        (CHOICE, None, 1, (Reading.NOT_ASKED, None)),
        (CHOICE, {"status": "answered", "value": "a"}, 2, (Reading.NOT_ASKED, None)),
        (SCALE, {"status": "answered", "value": "02"}, 1, (Reading.ANSWER, "2")),
        (SCALE, {"status": "answered", "value": "3"}, 1, (Reading.UNPARSED, None)),
        (NUMBER, {"status": "answered", "value": "12"}, 1, (Reading.ANSWER, 12.0)),
        (NUMBER, {"status": "answered", "value": "twelve"}, 1, (Reading.UNPARSED, None)),
        (WORDS, {"status": "answered", "value": None}, 1, (Reading.ANSWER, None)),
    ],
)
def test_reading_stored_answers(
    spec: QuestionSpec, stored: Any, version: int, expected: tuple[Reading, Any]
) -> None:
    answers = {} if stored is None else {"q": stored}
    assert read_answer(spec, Given(version, answers)) == expected


def test_versions_are_merged_by_question_id() -> None:
    old = {
        "questions": [
            {"id": "q", "type": "single_choice", "text": "Old", "options": [
                {"key": "a", "label": "A"}, {"key": "gone", "label": "Gone"}]},
            {"id": "n", "type": "number", "text": "A number"},
            {"id": "s", "type": "scale", "text": "S", "min": 0, "max": 3},
        ]
    }  # fmt: skip
    new = {
        "questions": [
            {"id": "s", "type": "scale", "text": "S", "min": 1, "max": 5},
            {"id": "q", "type": "single_choice", "text": {"cy": "Newydd", "en": "New"},
             "options": [{"key": "b", "label": {"en": "B"}}, {"key": "a", "label": "A"}]},
            {"id": "n", "type": "yes_no", "text": "Now yes or no"},
        ]
    }  # fmt: skip
    specs = {spec.id: spec for spec in question_specs({3: old, 9: new})}
    assert list(specs) == ["s", "q", "n"]
    assert specs["q"].text == "New"
    assert specs["q"].keys == ("b", "a", "gone")
    assert specs["q"].versions == {3, 9}
    assert specs["s"].keys == tuple(str(p) for p in range(0, 6))
    # A question whose kind changed is read from the newest kind's versions only.
    assert (specs["n"].kind, specs["n"].versions) == (QuestionKind.YES_NO, {9})
