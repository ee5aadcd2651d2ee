"""The survey as a web form: fields, submitted values and problems on the answered path."""

from __future__ import annotations

from typing import Any

import pytest

from app.surveys import texts, web_texts
from app.surveys.definitions import SurveyDefinition, Text, parse_definition
from app.surveys.web_form import (
    MAX_SHOWN_BACK,
    Problem,
    Words,
    build_fields,
    find_problems,
    html_lang,
    language_marks,
    submitted_values,
    text_dir,
)

CHECKUP: dict[str, Any] = {
    "slug": "checkup",
    "title": "Your visit",
    "questions": [
        {
            "id": "interpreter",
            "type": "yes_no",
            "text": "Did you need an interpreter?",
            "next": [{"when": {"answer": ["no", "skip", "dont_know"]}, "goto": "overall"}],
        },
        {
            "id": "interpreter_ok",
            "type": "scale",
            "min": 1,
            "max": 5,
            "text": "How good was the interpreter?",
            "low_label": "Very poor",
            "high_label": "Excellent",
        },
        {
            "id": "overall",
            "type": "single_choice",
            "text": "How was your visit?",
            "options": [{"key": "good", "label": "Good"}, {"key": "poor", "label": "Poor"}],
            "next": [{"when": {"answer": ["good"]}, "goto": "end"}],
        },
        {"id": "why_poor", "type": "free_text", "text": "What went wrong?", "optional": True},
        {
            "id": "visits",
            "type": "number",
            "min": 0,
            "max": 20,
            "text": "How many times have you visited us this year?",
        },
    ],
}
OPTIONAL_CHOICE: dict[str, Any] = {
    "slug": "parking",
    "questions": [
        {
            "id": "parking",
            "type": "single_choice",
            "optional": True,
            "text": "Was parking easy?",
            "options": [{"key": "easy", "label": "Easy"}, {"key": "hard", "label": "Hard"}],
        },
        {"id": "age", "type": "number", "min": 16, "text": "How old are you?"},
        {"id": "nights", "type": "number", "max": 9, "text": "Nights in hospital?"},
        {"id": "count", "type": "number", "text": "How many?"},
    ],
}
WORDS = Words(
    dont_know=web_texts.DONT_KNOW,
    skip=web_texts.SKIP,
    yes=web_texts.YES,
    no=web_texts.NO,
    scale_ends=web_texts.SCALE_ENDS,
    number_range=web_texts.NUMBER_RANGE,
    number_min=web_texts.NUMBER_MIN,
    number_max=web_texts.NUMBER_MAX,
    number_any=web_texts.NUMBER_ANY,
    error_choose=web_texts.ERROR_CHOOSE,
    error_write=web_texts.ERROR_WRITE,
    error_too_long=web_texts.ERROR_TOO_LONG,
)
REQ, BAD = Problem.REQUIRED, Problem.INVALID


def _definition(raw: dict[str, Any]) -> SurveyDefinition:
    return parse_definition(raw)


def _english(value: Text) -> tuple[str, str]:
    return value.english, "en"


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({}, {"interpreter": REQ, "overall": REQ, "visits": REQ}),
        ({"interpreter": "no", "overall": "good"}, {}),
        ({"interpreter": "yes", "overall": "good"}, {"interpreter_ok": REQ}),
        ({"interpreter": "yes", "interpreter_ok": "9", "overall": "good"}, {"interpreter_ok": BAD}),
        ({"interpreter": "yes", "interpreter_ok": "4", "overall": "good"}, {}),
        ({"interpreter": "no", "overall": "poor", "visits": "3"}, {}),
        ({"interpreter": "no", "overall": "poor", "visits": "21"}, {"visits": BAD}),
        ({"interpreter": "no", "overall": "poor", "visits": "٣"}, {}),
        ({"interpreter": "no", "overall": "poor", "visits": "three"}, {"visits": BAD}),
        ({"interpreter": "maybe", "overall": "good"}, {"interpreter": BAD}),
        ({"interpreter": "no", "overall": "excellent"}, {"overall": BAD, "visits": REQ}),
        ({"interpreter": "dont_know", "overall": "dont_know", "visits": "dont_know"}, {}),
        # The form offers no skip for a required question; a posted "skip" is empty.
        ({"interpreter": "skip", "overall": "good"}, {"interpreter": REQ}),
        ({"interpreter": "no", "overall": "good" + "d" * 60}, {"overall": BAD, "visits": REQ}),
        (
            {"interpreter": "no", "overall": "poor", "why_poor": "w" * 1601, "visits": "1"},
            {"why_poor": Problem.TOO_LONG},
        ),
        ({"interpreter": "no", "overall": "poor", "why_poor": "w" * 1600, "visits": "1"}, {}),
        # Answers off the path are not checked: they will not be stored.
        ({"interpreter": "no", "interpreter_ok": "99", "overall": "good", "visits": "-1"}, {}),
    ],
)
def test_problems_follow_the_answered_path(
    values: dict[str, str], problems: dict[str, Problem]
) -> None:
    assert find_problems(_definition(CHECKUP), values) == problems


@pytest.mark.parametrize(
    ("form", "values"),
    [
        ({"_form": "t", "other": "x", "overall": " good "}, {"overall": "good"}),
        ({"why_poor": "  Waited long.  "}, {"why_poor": "  Waited long.  "}),
        ({"why_poor": "w" * 5000}, {"why_poor": "w" * 5000}),
        ({"why_poor": "w" * 9000}, {"why_poor": "w" * MAX_SHOWN_BACK}),
        ({"why_poor": "late\x00again"}, {"why_poor": "late\ufffdagain"}),
        ({"overall": "g" * 500}, {"overall": "g" * 41}),
        ({"visits": "", "interpreter": "yes"}, {"visits": "", "interpreter": "yes"}),
    ],
)
def test_submitted_values_keep_only_the_survey_fields(
    form: dict[str, str], values: dict[str, str]
) -> None:
    assert submitted_values(_definition(CHECKUP), form) == values


def test_every_question_becomes_a_field_in_order() -> None:
    fields = build_fields(_definition(CHECKUP), "en", _english, WORDS)
    assert [(f.number, f.name, f.widget, f.optional) for f in fields] == [
        (1, "interpreter", "radio", False),
        (2, "interpreter_ok", "radio", False),
        (3, "overall", "radio", False),
        (4, "why_poor", "text", True),
        (5, "visits", "number", False),
    ]
    by_name = {f.name: f for f in fields}
    assert [c.value for c in by_name["interpreter"].choices] == ["yes", "no", "dont_know"]
    assert [c.label for c in by_name["interpreter"].choices] == ["Yes", "No", "Don't know"]
    scale = by_name["interpreter_ok"]
    assert scale.scale
    assert [c.value for c in scale.choices] == ["1", "2", "3", "4", "5", "dont_know"]
    assert scale.hint == "1 means Very poor and 5 means Excellent."
    assert [(c.value, c.special) for c in by_name["overall"].choices] == [
        ("good", False),
        ("poor", False),
        ("dont_know", True),
    ]
    visits = by_name["visits"]
    assert (visits.minimum, visits.maximum) == (0, 20)
    assert visits.hint == "Enter a whole number from 0 to 20."
    assert (visits.anchor, visits.first_input) == ("q-visits", "q-visits-1")


def test_the_friends_and_family_test_keeps_its_own_dont_know() -> None:
    [fft, comment] = build_fields(_definition(texts.FFT), "en", _english, WORDS)
    assert [c.value for c in fft.choices] == [
        "very_good",
        "good",
        "neither",
        "poor",
        "very_poor",
        "dont_know",
    ]
    assert [c.special for c in fft.choices] == [False] * 5 + [True]
    assert (comment.widget, comment.optional, comment.choices) == ("text", True, ())


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("age", "Enter a whole number of 16 or more."),
        ("nights", "Enter a whole number up to 9."),
        ("count", "Enter a whole number."),
    ],
)
def test_number_hints_say_the_bounds(name: str, hint: str) -> None:
    fields = {f.name: f for f in build_fields(_definition(OPTIONAL_CHOICE), "en", _english, WORDS)}
    assert fields[name].hint == hint


def test_an_optional_choice_offers_skip_after_dont_know() -> None:
    [parking, *_] = build_fields(_definition(OPTIONAL_CHOICE), "en", _english, WORDS)
    assert [(c.value, c.label, c.special) for c in parking.choices] == [
        ("easy", "Easy", False),
        ("hard", "Hard", False),
        ("dont_know", "Don't know", True),
        ("skip", "Skip this question", True),
    ]


@pytest.mark.parametrize(
    ("name", "problem", "error"),
    [
        ("interpreter", REQ, "Choose one answer."),
        ("overall", BAD, "Choose one answer."),
        ("why_poor", REQ, "Write your answer."),
        ("visits", BAD, "Enter a whole number from 0 to 20."),
    ],
)
def test_a_problem_becomes_the_message_of_its_field(
    name: str, problem: Problem, error: str
) -> None:
    values = {"visits": "25", "why_poor": "Too long a wait", "overall": "poor"}
    fields = build_fields(_definition(CHECKUP), "en", _english, WORDS, values, {name: problem})
    by_name = {f.name: f for f in fields}
    assert by_name[name].error == error
    assert [f.name for f in fields if f.error] == [name]
    # What the patient entered is kept.
    assert (by_name["visits"].value, by_name["why_poor"].value) == ("25", "Too long a wait")
    assert by_name["overall"].value == "poor"


@pytest.mark.parametrize(
    ("text_locale", "page_locale", "marks"),
    [
        ("en", "en", (None, None)),
        ("ar", "ar", (None, None)),
        ("ar", "en", ("ar", "rtl")),
        ("en", "ar", ("en", "ltr")),
        ("ar", "ur", ("ar", None)),
        ("pl", "en", ("pl", None)),
        ("zh_Hans", "en", ("zh-Hans", None)),
    ],
)
def test_text_in_another_language_is_marked(
    text_locale: str, page_locale: str, marks: tuple[str | None, str | None]
) -> None:
    assert language_marks(text_locale, page_locale) == marks

    def resolve(value: Text) -> tuple[str, str]:
        return f"[{text_locale}] {value.english}", text_locale

    [fft, _comment] = build_fields(_definition(texts.FFT), page_locale, resolve, WORDS)
    assert (fft.lang, fft.dir) == marks
    assert fft.text == f"[{text_locale}] {texts.FFT_QUESTION}"
    assert (fft.choices[0].lang, fft.choices[0].dir) == marks


@pytest.mark.parametrize(
    ("locale", "tag", "direction"),
    [("en", "en", "ltr"), ("ar", "ar", "rtl"), ("ur", "ur", "rtl"), ("zh_Hans", "zh-Hans", "ltr")],
)
def test_locales_become_html_attributes(locale: str, tag: str, direction: str) -> None:
    assert (html_lang(locale), text_dir(locale)) == (tag, direction)
