"""The conversation of one survey: question order, skip logic and reading answers.

Pure: it knows nothing of databases or channels. A reply has already been checked for
STOP, START and HELP before it reaches `interpret`; what is left is an answer, a skip, a
"don't know", or something not understood, which is re-asked once with a hint and then
recorded as unparsed (with its original text) so the conversation moves on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.core import parsing
from app.core.parsing import Intent
from app.surveys.definitions import END, Question, SurveyDefinition, Text

#: How many times one question is asked again after a reply that was not understood.
MAX_REASKS = 1


class AnswerStatus(enum.StrEnum):
    ANSWERED = "answered"  # a valid answer: an option, yes or no, a number, words
    SKIPPED = "skipped"  # the patient chose not to answer
    DONT_KNOW = "dont_know"  # the patient said they do not know
    UNPARSED = "unparsed"  # not understood even after the re-ask; the words are kept


@dataclass(frozen=True)
class Answer:
    question_id: str
    status: AnswerStatus
    #: Option key, "yes"/"no", a number as text, or the free text; None otherwise.
    value: str | None = None

    @property
    def rule_value(self) -> str | None:
        """What skip-logic rules compare: the value, or "skip"/"dont_know"."""
        if self.status is AnswerStatus.SKIPPED:
            return "skip"
        if self.status is AnswerStatus.DONT_KNOW:
            return "dont_know"
        return self.value


@dataclass(frozen=True)
class Step:
    """What one reply does: record an answer, or ask the same question again."""

    answer: Answer | None
    reask: bool = False


def first_question(definition: SurveyDefinition) -> Question:
    return definition.questions[0]


def next_question(definition: SurveyDefinition, answer: Answer) -> Question | None:
    """The question after `answer`, by the first matching rule, else in order; None at the end."""
    current = definition.question(answer.question_id)
    for rule in current.rules:
        if rule.matches(answer.rule_value):
            return None if rule.goto == END else definition.question(rule.goto)
    index = definition.index(current.id) + 1
    return definition.questions[index] if index < len(definition.questions) else None


def interpret(
    question: Question,
    raw: str,
    locale: str,
    labels: Sequence[str] = (),
    *,
    reasks: int = 0,
) -> Step:
    """Read one reply to `question`.

    `labels` are the option labels in the patient's language (and English labels may
    follow them; a match on any gives that option, counted modulo the options). After
    `MAX_REASKS` re-asks a reply that is still not understood is recorded as UNPARSED,
    keeping its text; a required question's skip is re-asked once too.
    """
    answer = _read(question, raw, locale, labels)
    if answer is None:
        if reasks < MAX_REASKS:
            return Step(None, reask=True)
        return Step(Answer(question.id, AnswerStatus.UNPARSED, raw.strip()[:1600] or None))
    if answer.status is AnswerStatus.SKIPPED and not question.optional and reasks < MAX_REASKS:
        return Step(None, reask=True)
    return Step(answer)


def answer_from_value(question: Question, value: str | None) -> Answer:
    """An answer given by a form or a key press, already in canonical form.

    `value` is "skip", "dont_know", an option key, "yes"/"no", a number or free text.
    Raises ValueError for a value that is not an answer to `question`.
    """
    if value is None or value == "" or value == "skip":
        return Answer(question.id, AnswerStatus.SKIPPED)
    if value == "dont_know":
        key = "dont_know" if question.option("dont_know") is not None else None
        return Answer(question.id, AnswerStatus.DONT_KNOW, key)
    if question.type == "single_choice":
        if question.option(value) is None:
            raise ValueError(f"{question.id}: not an option")
        return Answer(question.id, AnswerStatus.ANSWERED, value)
    if question.type == "yes_no":
        if value not in ("yes", "no"):
            raise ValueError(f"{question.id}: expected yes or no")
        return Answer(question.id, AnswerStatus.ANSWERED, value)
    if question.type in ("scale", "number"):
        digits = parsing.to_ascii_digits(value.strip())
        if not digits.isdigit() or not _in_bounds(question, int(digits)):
            raise ValueError(f"{question.id}: expected a whole number in range")
        return Answer(question.id, AnswerStatus.ANSWERED, str(int(digits)))
    text = value.strip()[:1600]
    return Answer(question.id, AnswerStatus.ANSWERED if text else AnswerStatus.SKIPPED, text)


def key_press(question: Question, digit: str) -> Answer | None:
    """An answer from one telephone key: options and scales by number, 1 yes / 2 no.

    `*` skips; for a choice question the last option may be "don't know" like any
    other. Returns None for a key that means nothing here.
    """
    if digit == "*":
        return Answer(question.id, AnswerStatus.SKIPPED)
    if not digit.isdigit():
        return None
    number = int(digit)
    if question.type == "single_choice":
        if 1 <= number <= len(question.options):
            key = question.options[number - 1].key
            status = AnswerStatus.DONT_KNOW if key == "dont_know" else AnswerStatus.ANSWERED
            return Answer(question.id, status, key)
        return None
    if question.type == "yes_no":
        return {
            1: Answer(question.id, AnswerStatus.ANSWERED, "yes"),
            2: Answer(question.id, AnswerStatus.ANSWERED, "no"),
        }.get(number)
    if question.type in ("scale", "number") and _in_bounds(question, number):
        return Answer(question.id, AnswerStatus.ANSWERED, str(number))
    return None


def _in_bounds(question: Question, number: int) -> bool:
    lo, hi = question.minimum, question.maximum
    return (lo is None or number >= lo) and (hi is None or number <= hi)


def _read(question: Question, raw: str, locale: str, labels: Sequence[str]) -> Answer | None:
    qid = question.id
    if question.type == "single_choice":
        count = len(question.options)
        parsed = parsing.parse_number(raw, locale, 1, count)
        if parsed.number is None:  # not a number: try the labels, in any listed language
            parsed = parsing.parse_choice(raw, locale, list(labels) or ["\x00"] * count)
        if parsed.intent is Intent.NUMBER and parsed.number is not None:
            key = question.options[(parsed.number - 1) % count].key
            status = AnswerStatus.DONT_KNOW if key == "dont_know" else AnswerStatus.ANSWERED
            return Answer(qid, status, key)
    elif question.type == "yes_no":
        parsed = parsing.parse_yes_no(raw, locale)
        if parsed.intent in (Intent.YES, Intent.NO):
            return Answer(qid, AnswerStatus.ANSWERED, parsed.intent.value)
        if parsed.intent is Intent.TEXT and parsed.text in ("1", "2"):
            return Answer(qid, AnswerStatus.ANSWERED, "yes" if parsed.text == "1" else "no")
    elif question.type in ("scale", "number"):
        parsed = parsing.parse_number(raw, locale, question.minimum, question.maximum)
        if parsed.intent is Intent.NUMBER and parsed.number is not None:
            return Answer(qid, AnswerStatus.ANSWERED, str(parsed.number))
    else:
        parsed = parsing.parse_number(raw, locale)  # only for skip and don't know
        if parsed.intent not in (Intent.SKIP, Intent.DONT_KNOW):
            text = raw.strip()
            return Answer(qid, AnswerStatus.ANSWERED, text[:1600]) if text else None
    if parsed.intent is Intent.SKIP:
        return Answer(qid, AnswerStatus.SKIPPED)
    if parsed.intent is Intent.DONT_KNOW:
        return Answer(qid, AnswerStatus.DONT_KNOW)
    return None


Resolve = Callable[[Text], str]
Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Prompts:
    """The instruction texts a rendered question uses, already translated."""

    choose: str  # "Reply with a number: %(options)s."
    yes_no: str  # "Reply YES or NO."
    scale: str  # "Reply with a number from %(min)d (%(low)s) to %(max)d (%(high)s)."
    scale_plain: str  # "Reply with a number from %(min)d to %(max)d."
    number: str  # "Reply with a number."
    free_text: str  # "Reply in your own words."
    skip: str  # "Reply SKIP to skip this question."


def render_question(
    question: Question,
    resolve: Resolve,
    prompts: Prompts,
    *,
    with_skip: bool = True,
) -> str:
    """The text of one question for a text channel, with how to answer it."""
    parts = [resolve(question.text)]
    if question.type == "single_choice":
        options = ", ".join(f"{i} {resolve(o.label)}" for i, o in enumerate(question.options, 1))
        parts.append(prompts.choose % {"options": options})
    elif question.type == "yes_no":
        parts.append(prompts.yes_no)
    elif question.type == "scale" and question.low_label and question.high_label:
        parts.append(
            prompts.scale
            % {
                "min": question.minimum,
                "max": question.maximum,
                "low": resolve(question.low_label),
                "high": resolve(question.high_label),
            }
        )
    elif question.type == "scale":
        parts.append(prompts.scale_plain % {"min": question.minimum, "max": question.maximum})
    elif question.type == "number":
        parts.append(prompts.number)
    else:
        parts.append(prompts.free_text)
    if with_skip and question.optional and question.type != "free_text":  # it says so already
        parts.append(prompts.skip)
    return " ".join(part for part in parts if part)


def option_labels(question: Question, resolve_all: Callable[[Text], Sequence[str]]) -> list[str]:
    """Labels to match replies against: the patient's language first, then the others.

    `resolve_all` gives a text in each locale of the fallback chain. Labels are laid out
    in blocks of len(options), so a match at index i means option i mod len(options).
    """
    blocks: list[list[str]] = [[] for _ in question.options]
    for index, option in enumerate(question.options):
        blocks[index] = list(resolve_all(option.label))
    depth = max((len(block) for block in blocks), default=0)
    labels: list[str] = []
    for level in range(depth):
        for block in blocks:
            labels.append(block[level] if level < len(block) else "\x00")
    return labels


def summarise(answers: Mapping[str, Answer]) -> dict[str, str | None]:
    """Answers by question id as stored values, "skip" and "dont_know" included."""
    return {qid: answer.rule_value for qid, answer in answers.items()}
