"""The conversation, as tables: skip logic, re-asks, skip and don't know at every step."""

from __future__ import annotations

import pytest

from app.surveys import texts
from app.surveys.definitions import load_text, parse_definition
from app.surveys.flow import (
    Answer,
    AnswerStatus,
    Prompts,
    answer_from_value,
    first_question,
    interpret,
    key_press,
    next_question,
    option_labels,
    render_question,
)
from tests.surveys.test_definitions import GOOD_YAML

PHYSIO = parse_definition(load_text(GOOD_YAML))
FFT = parse_definition(texts.FFT)
A = AnswerStatus


def _walk(definition, answers: list[tuple[AnswerStatus, str | None]]) -> list[str]:
    """Ask questions in order, answering from the list; returns the ids asked."""
    asked = []
    question = first_question(definition)
    for status, value in answers:
        asked.append(question.id)
        question = next_question(definition, Answer(question.id, status, value))
        if question is None:
            break
    return asked


@pytest.mark.parametrize(
    ("answers", "asked"),
    [
        # poor → why_poor → pain; pain below 7 → exercises → call_back
        (
            [
                (A.ANSWERED, "poor"),
                (A.ANSWERED, "rude"),
                (A.ANSWERED, "3"),
                (A.ANSWERED, "yes"),
                (A.SKIPPED, None),
            ],
            ["overall", "why_poor", "pain", "exercises", "call_back"],
        ),
        # good jumps over why_poor
        (
            [(A.ANSWERED, "good"), (A.ANSWERED, "2"), (A.ANSWERED, "no"), (A.ANSWERED, "no")],
            ["overall", "pain", "exercises", "call_back"],
        ),
        # pain 7 or more jumps to call_back
        (
            [(A.ANSWERED, "good"), (A.ANSWERED, "8"), (A.ANSWERED, "yes")],
            ["overall", "pain", "call_back"],
        ),
        # a skipped first question follows the default rule (goto pain)
        ([(A.SKIPPED, None), (A.DONT_KNOW, None), (A.ANSWERED, "yes")], ["overall", "pain"]),
    ],
)
def test_skip_logic_paths(answers: list[tuple[AnswerStatus, str | None]], asked: list[str]) -> None:
    assert _walk(PHYSIO, answers)[: len(asked)] == asked


def test_the_last_question_ends_the_survey() -> None:
    assert next_question(PHYSIO, Answer("call_back", A.ANSWERED, "no")) is None
    assert next_question(FFT, Answer("comment", A.SKIPPED)) is None
    assert next_question(FFT, Answer("fft", A.ANSWERED, "good")).id == "comment"


FFT_Q = FFT.question("fft")
ENGLISH_LABELS = [o.label.english for o in FFT_Q.options]


@pytest.mark.parametrize(
    ("reply", "locale", "reasks", "status", "value", "reask"),
    [
        ("1", "en", 0, A.ANSWERED, "very_good", False),
        ("  2 ", "en", 0, A.ANSWERED, "good", False),
        ("٣", "ar", 0, A.ANSWERED, "neither", False),  # Arabic-Indic three
        ("৪", "bn", 0, A.ANSWERED, "poor", False),  # Bengali four
        ("５", "zh_Hans", 0, A.ANSWERED, "very_poor", False),  # full-width five
        ("6", "en", 0, A.DONT_KNOW, "dont_know", False),
        ("very good", "en", 0, A.ANSWERED, "very_good", False),
        ("Very Poor!", "en", 0, A.ANSWERED, "very_poor", False),
        ("don't know", "en", 0, A.DONT_KNOW, "dont_know", False),
        ("7", "en", 0, None, None, True),  # out of range: asked again
        ("brilliant", "en", 0, None, None, True),
        ("brilliant", "en", 1, A.UNPARSED, "brilliant", False),  # kept after one re-ask
        ("skip", "en", 0, None, None, True),  # a required question: asked once more
        ("skip", "en", 1, A.SKIPPED, None, False),
    ],
)
def test_reading_fft_replies(
    reply: str,
    locale: str,
    reasks: int,
    status: AnswerStatus | None,
    value: str | None,
    reask: bool,
) -> None:
    step = interpret(FFT_Q, reply, locale, ENGLISH_LABELS, reasks=reasks)
    assert step.reask is reask
    if status is None:
        assert step.answer is None
    else:
        assert step.answer == Answer("fft", status, value)


def test_labels_in_the_patients_language_and_in_english_both_count() -> None:
    polish = {"very_good": "bardzo dobrze", "good": "dobrze", "neither": "ani dobrze, ani źle"}

    def resolve_all(text):
        key = next(o.key for o in FFT_Q.options if o.label is text)
        return [polish[key], text.english] if key in polish else [text.english]

    labels = option_labels(FFT_Q, resolve_all)
    assert labels[:6] == [
        "bardzo dobrze",
        "dobrze",
        "ani dobrze, ani źle",
        "Poor",
        "Very poor",
        "Don't know",
    ]
    for reply, key in [("Bardzo dobrze", "very_good"), ("dobrze", "good"), ("good", "good")]:
        assert interpret(FFT_Q, reply, "pl", labels).answer == Answer("fft", A.ANSWERED, key)
    # a digit past the option count is not an option, however many label blocks there are
    assert interpret(FFT_Q, "8", "pl", labels).reask


COMMENT = FFT.question("comment")
PAIN = PHYSIO.question("pain")
EXERCISES = PHYSIO.question("exercises")


@pytest.mark.parametrize(
    ("question", "reply", "locale", "expected"),
    [
        (COMMENT, "The nurse was kind", "en", Answer("comment", A.ANSWERED, "The nurse was kind")),
        (COMMENT, "skip", "en", Answer("comment", A.SKIPPED)),  # optional: no re-ask
        (COMMENT, "pomiń", "pl", Answer("comment", A.SKIPPED)),
        (COMMENT, "nie wiem", "pl", Answer("comment", A.DONT_KNOW)),
        (PAIN, "7", "en", Answer("pain", A.ANSWERED, "7")),
        (PAIN, "٠", "ur", Answer("pain", A.ANSWERED, "0")),
        (PAIN, "don't know", "en", Answer("pain", A.DONT_KNOW)),
        (EXERCISES, "yes", "en", Answer("exercises", A.ANSWERED, "yes")),
        (EXERCISES, "Tak", "pl", Answer("exercises", A.ANSWERED, "yes")),
        (EXERCISES, "2", "en", Answer("exercises", A.ANSWERED, "no")),
    ],
)
def test_reading_other_question_types(question, reply, locale, expected) -> None:
    assert interpret(question, reply, locale).answer == expected


@pytest.mark.parametrize(("reply", "reask"), [("10", True), ("-1", True), ("lots", True)])
def test_out_of_range_numbers_are_asked_again(reply: str, reask: bool) -> None:
    assert interpret(PAIN, reply, "en").reask is reask


@pytest.mark.parametrize(
    ("question", "digit", "expected"),
    [
        (FFT_Q, "1", Answer("fft", A.ANSWERED, "very_good")),
        (FFT_Q, "6", Answer("fft", A.DONT_KNOW, "dont_know")),
        (FFT_Q, "7", None),
        (FFT_Q, "*", Answer("fft", A.SKIPPED)),
        (FFT_Q, "#", None),
        (EXERCISES, "1", Answer("exercises", A.ANSWERED, "yes")),
        (EXERCISES, "2", Answer("exercises", A.ANSWERED, "no")),
        (EXERCISES, "3", None),
        (PAIN, "0", Answer("pain", A.ANSWERED, "0")),
    ],
)
def test_key_presses(question, digit: str, expected: Answer | None) -> None:
    assert key_press(question, digit) == expected


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        (FFT_Q, "good", Answer("fft", A.ANSWERED, "good")),
        (FFT_Q, "dont_know", Answer("fft", A.DONT_KNOW, "dont_know")),
        (FFT_Q, "", Answer("fft", A.SKIPPED)),
        (PAIN, "٥", Answer("pain", A.ANSWERED, "5")),
        (COMMENT, "  fine  ", Answer("comment", A.ANSWERED, "fine")),
        (EXERCISES, "no", Answer("exercises", A.ANSWERED, "no")),
    ],
)
def test_form_values(question, value: str, expected: Answer) -> None:
    assert answer_from_value(question, value) == expected


@pytest.mark.parametrize(
    ("question", "value"), [(FFT_Q, "great"), (PAIN, "12"), (EXERCISES, "maybe"), (PAIN, "x")]
)
def test_bad_form_values_are_refused(question, value: str) -> None:
    with pytest.raises(ValueError, match=question.id):
        answer_from_value(question, value)


PROMPTS = Prompts(
    choose="Reply with a number: %(options)s.",
    yes_no="Reply YES or NO.",
    scale="Reply with a number from %(min)d (%(low)s) to %(max)d (%(high)s).",
    scale_plain="Reply with a number from %(min)d to %(max)d.",
    number="Reply with a number.",
    free_text="Reply in your own words, or SKIP.",
    skip="Reply SKIP to skip this question.",
)


@pytest.mark.parametrize(
    ("question", "text"),
    [
        (
            FFT_Q,
            "Overall, how was your experience of our service? Reply with a number: 1 Very good, "
            "2 Good, 3 Neither good nor poor, 4 Poor, 5 Very poor, 6 Don't know.",
        ),
        (
            COMMENT,
            "What was good, and what could we do better? Reply in your own words, or SKIP.",
        ),
        (PAIN, "How much pain are you in now? Reply with a number from 0 to 9."),
        (EXERCISES, "Are you doing your exercises? Reply YES or NO."),
    ],
)
def test_rendering_a_question(question, text: str) -> None:
    assert render_question(question, lambda t: t.english, PROMPTS) == text
