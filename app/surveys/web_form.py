"""The survey as one web form: the fields to show, and the problems of a submission.

Pure: the caller passes functions that translate. Every question of the survey is shown
in order; skip logic is applied when the answers are stored, so `find_problems` only
checks the questions on the path the submitted answers take.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from app.core.inputs import storable_text
from app.core.locales import RTL_LOCALES
from app.surveys import flow
from app.surveys.definitions import Question, SurveyDefinition, Text
from app.surveys.flow import Answer, AnswerStatus

#: The longest free-text answer kept, as `flow.answer_from_value` keeps it.
MAX_FREE_TEXT = 1600
#: A longer answer is refused (shown back to be shortened) up to this size; the form's
#: body limit refuses much more than this before it is read.
MAX_SHOWN_BACK = 4 * MAX_FREE_TEXT
#: Values of a choice, scale or yes/no field beyond this are not answers.
MAX_VALUE = 40
#: Values every choice field may take besides its options.
DONT_KNOW, SKIP = "dont_know", "skip"

Widget = Literal["radio", "number", "text"]
#: A definition text as shown, and the locale it is in.
Resolve = Callable[[Text], tuple[str, str]]
#: A web-page message id as shown in the page's language (see `web_texts`).
Say = Callable[[str], str]


class Problem(enum.StrEnum):
    REQUIRED = "required"  # a required question on the path was left empty
    INVALID = "invalid"  # not one of the choices, or a number out of range
    TOO_LONG = "too_long"  # free text longer than MAX_FREE_TEXT: shown back, not cut


@dataclass(frozen=True)
class Words:
    """The page's own words that fields use, already in the page's language."""

    dont_know: str
    skip: str
    yes: str
    no: str
    scale_ends: str  # "%(min)d means %(low)s and %(max)d means %(high)s."
    number_range: str  # "Enter a whole number from %(min)d to %(max)d."
    number_min: str
    number_max: str
    number_any: str
    error_choose: str
    error_write: str
    error_too_long: str  # "Your answer can be up to %(max)d characters long."


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    #: BCP 47 tag and direction when the label's language is not the page's.
    lang: str | None = None
    dir: str | None = None
    #: "Don't know" and "Skip": shown apart from the real answers.
    special: bool = False


@dataclass(frozen=True)
class Field:
    """One question as the form shows it."""

    name: str  # the question id, used as the form field name
    number: int  # 1-based position in the survey
    widget: Widget
    text: str
    optional: bool
    choices: tuple[Choice, ...] = ()
    hint: str = ""
    minimum: int | None = None
    maximum: int | None = None
    #: What the patient entered last time (kept when the form comes back with errors).
    value: str = ""
    error: str = ""
    lang: str | None = None
    dir: str | None = None
    #: A scale: options laid out in a row.
    scale: bool = False

    @property
    def anchor(self) -> str:
        """The element id of the question; its first input is `anchor` + "-1"."""
        return f"q-{self.name}"

    @property
    def first_input(self) -> str:
        return f"{self.anchor}-1"


def html_lang(locale: str) -> str:
    """The BCP 47 tag of a project locale: "zh_Hans" → "zh-Hans"."""
    return locale.replace("_", "-")


def text_dir(locale: str) -> str:
    return "rtl" if locale in RTL_LOCALES else "ltr"


def submitted_values(definition: SurveyDefinition, form: Mapping[str, str]) -> dict[str, str]:
    """The answers in a posted form, by question id; other fields are ignored.

    Free text is kept whole, with any NUL character replaced (a database cannot store
    one), so that an answer too long is shown back to be shortened rather than cut; the
    form refuses more than MAX_SHOWN_BACK characters. Other values are trimmed, and a
    value too long to be an answer is kept short so that it reads as invalid.
    """
    values: dict[str, str] = {}
    for question in definition.questions:
        raw = form.get(question.id)
        if raw is None:
            continue
        if question.type == "free_text":
            values[question.id] = storable_text(raw[:MAX_SHOWN_BACK])
        else:
            values[question.id] = raw.strip()[: MAX_VALUE + 1]
    return values


def find_problems(definition: SurveyDefinition, values: Mapping[str, str]) -> dict[str, Problem]:
    """Problems of the questions on the path `values` take, by question id.

    A question with a problem counts as skipped for finding the rest of the path, so
    every problem is reported at once. A required question may not be skipped here:
    the form offers no skip for it.
    """
    problems: dict[str, Problem] = {}
    question: Question | None = flow.first_question(definition)
    while question is not None:
        answer, problem = _check(question, values.get(question.id, ""))
        if problem is not None:
            problems[question.id] = problem
        question = flow.next_question(definition, answer)
    return problems


def _check(question: Question, value: str) -> tuple[Answer, Problem | None]:
    skipped = Answer(question.id, AnswerStatus.SKIPPED)
    if not value.strip() or value == SKIP:
        return skipped, None if question.optional else Problem.REQUIRED
    if question.type == "free_text" and len(value.strip()) > MAX_FREE_TEXT:
        return skipped, Problem.TOO_LONG
    if len(value) > MAX_VALUE and question.type != "free_text":
        return skipped, Problem.INVALID
    try:
        return flow.answer_from_value(question, value), None
    except ValueError:
        return skipped, Problem.INVALID


def build_fields(
    definition: SurveyDefinition,
    page_locale: str,
    resolve: Resolve,
    words: Words,
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, Problem] | None = None,
) -> list[Field]:
    """Every question of the survey as a form field, in order."""
    values = values or {}
    problems = problems or {}
    fields = []
    for number, question in enumerate(definition.questions, 1):
        field = _field(question, number, page_locale, resolve, words)
        value = values.get(question.id, "")
        problem = problems.get(question.id)
        error = _error(field, words, problem) if problem is not None else ""
        fields.append(_with(field, value, error))
    return fields


def _with(field: Field, value: str, error: str) -> Field:
    return replace(field, value=value, error=error)


def _field(
    question: Question, number: int, page_locale: str, resolve: Resolve, words: Words
) -> Field:
    text, locale = resolve(question.text)
    lang, direction = language_marks(locale, page_locale)
    hints = [resolve(question.hint)[0]] if question.hint is not None else []
    widget: Widget = "radio"
    choices: tuple[Choice, ...] = ()
    if question.type == "free_text":
        widget = "text"
    elif question.type == "number":
        widget = "number"
        hints.append(_number_rule(question.minimum, question.maximum, words))
    else:
        choices = _choices(question, page_locale, resolve, words)
        if question.type == "scale" and question.low_label and question.high_label:
            ends = {"low": resolve(question.low_label)[0], "high": resolve(question.high_label)[0]}
            hints.append(
                words.scale_ends % {"min": question.minimum, "max": question.maximum, **ends}
            )
    return Field(
        name=question.id,
        number=number,
        widget=widget,
        text=text,
        optional=question.optional,
        choices=choices,
        hint=" ".join(hints),
        minimum=question.minimum,
        maximum=question.maximum,
        lang=lang,
        dir=direction,
        scale=question.type == "scale",
    )


def _choices(
    question: Question, page_locale: str, resolve: Resolve, words: Words
) -> tuple[Choice, ...]:
    choices: list[Choice] = []
    if question.type == "single_choice":
        for option in question.options:
            label, locale = resolve(option.label)
            lang, direction = language_marks(locale, page_locale)
            special = option.key == DONT_KNOW
            choices.append(Choice(option.key, label, lang, direction, special))
    elif question.type == "yes_no":
        choices = [Choice("yes", words.yes), Choice("no", words.no)]
    else:
        low, high = question.minimum or 0, question.maximum or 0
        choices = [Choice(str(n), str(n)) for n in range(low, high + 1)]
    if question.option(DONT_KNOW) is None:
        choices.append(Choice(DONT_KNOW, words.dont_know, special=True))
    if question.optional:
        choices.append(Choice(SKIP, words.skip, special=True))
    return tuple(choices)


def language_marks(locale: str, page_locale: str) -> tuple[str | None, str | None]:
    """The lang and dir attributes a text needs when its language is not the page's."""
    if locale == page_locale:
        return None, None
    direction = text_dir(locale)
    return html_lang(locale), direction if direction != text_dir(page_locale) else None


def _number_rule(minimum: int | None, maximum: int | None, words: Words) -> str:
    if minimum is not None and maximum is not None:
        return words.number_range % {"min": minimum, "max": maximum}
    if minimum is not None:
        return words.number_min % {"min": minimum}
    if maximum is not None:
        return words.number_max % {"max": maximum}
    return words.number_any


def _error(field: Field, words: Words, problem: Problem) -> str:
    if problem is Problem.TOO_LONG:
        return words.error_too_long % {"max": MAX_FREE_TEXT}
    if field.widget == "number":
        return _number_rule(field.minimum, field.maximum, words)
    if field.widget == "text":
        return words.error_write
    return words.error_choose
