"""Survey definitions: parsing and validating what a clinic writes in JSON or YAML.

A definition is a mapping:

```yaml
slug: physio-followup
title: {en: "Physiotherapy follow-up"}
questions:
  - id: overall
    type: single_choice          # single_choice, scale, yes_no, number, free_text
    text: {en: "How was your visit?", pl: "Jak oceniasz wizytę?"}
    options:
      - {key: good, label: {en: "Good", pl: "Dobrze"}}
      - {key: poor, label: {en: "Poor", pl: "Źle"}}
    next:                        # skip logic: the first rule that matches wins
      - {when: {answer: [poor]}, goto: why_poor}
      - {goto: end}
  - id: why_poor
    type: free_text
    optional: true
    text: "What went wrong?"     # a plain string is English, translated by the catalogues
```

Text is either a string (English, looked up in the gettext catalogues so a built-in
survey is translated) or a mapping from locale to text. `scale` and `number` take
`min` and `max`. A rule's `when` may hold `answer` (a list of option keys, `yes`,
`no`, numbers, `skip`, `dont_know`), `at_least` or `at_most` (numbers); `goto` names a
later question or `end`. Without a rule that matches, the next question in order follows.
Skip logic can only jump forward, so every conversation ends.

Pure: no framework imports. Errors name the path of the offending field, e.g.
``questions[1].options[0].key: required``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from app.core.locales import SUPPORTED_LOCALES

QuestionType = Literal["single_choice", "scale", "yes_no", "number", "free_text"]
QUESTION_TYPES: tuple[str, ...] = ("single_choice", "scale", "yes_no", "number", "free_text")
END = "end"
#: Answer values that every question accepts besides its own.
SPECIAL_VALUES = ("skip", "dont_know")
MAX_QUESTIONS = 30
MAX_OPTIONS = 9  # answered with one digit, in SMS and on a telephone keypad
MAX_TEXT = 600

_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

#: Text in several languages: locale code → text. A plain string is stored as {"en": ...}
#: with `translatable` set, so the catalogues may translate it.
LocalText = Mapping[str, str]


class DefinitionError(ValueError):
    """A definition that cannot be used; `problems` lists (path, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        lines = "; ".join(f"{path}: {message}" for path, message in self.problems)
        super().__init__(f"{where}{lines}")


@dataclass(frozen=True)
class Text:
    """A patient-facing text in one or more languages."""

    by_locale: Mapping[str, str]
    #: True when written as a plain English string: the catalogues may translate it.
    translatable: bool = False

    @property
    def english(self) -> str:
        return self.by_locale.get("en") or next(iter(self.by_locale.values()))


@dataclass(frozen=True)
class Option:
    key: str
    label: Text


@dataclass(frozen=True)
class Rule:
    goto: str
    answers: frozenset[str] = frozenset()
    at_least: float | None = None
    at_most: float | None = None

    def matches(self, value: str | None) -> bool:
        """True when an answer `value` ("skip", "dont_know", a key or a number) fits."""
        if self.answers and (value is None or value not in self.answers):
            return False
        if self.at_least is None and self.at_most is None:
            return True
        number = _as_number(value)
        if number is None:
            return False
        if self.at_least is not None and number < self.at_least:
            return False
        return self.at_most is None or number <= self.at_most


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    text: Text
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    optional: bool = False
    hint: Text | None = None
    rules: tuple[Rule, ...] = ()
    #: Labels of the two ends of a scale, e.g. "not at all likely" / "extremely likely".
    low_label: Text | None = None
    high_label: Text | None = None

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)


@dataclass(frozen=True)
class SurveyDefinition:
    slug: str
    title: Text
    questions: tuple[Question, ...]
    intro: Text | None = None
    thanks: Text | None = None

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def index(self, question_id: str) -> int:
        return [q.id for q in self.questions].index(question_id)


def canonical_json(raw: Mapping[str, Any]) -> str:
    """The definition as canonical JSON: the same survey always gives the same text."""
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(raw: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON; a changed definition has a new digest (and version)."""
    return hashlib.sha256(canonical_json(raw).encode("utf-8")).hexdigest()


def load_text(text: str, source: str = "") -> dict[str, Any]:
    """Read a definition written as JSON or YAML into a mapping (not yet validated)."""
    import yaml

    try:
        if source.endswith(".json") or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")], source
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise DefinitionError([(where, "not valid YAML")], source) from None
    if not isinstance(data, dict):
        raise DefinitionError([("(document)", "must be a mapping with slug and questions")], source)
    return data


def parse_definition(raw: Mapping[str, Any], source: str = "") -> SurveyDefinition:
    """Validate a definition mapping; raises DefinitionError listing every problem."""
    checker = _Checker()
    definition = checker.survey(raw)
    if checker.problems or definition is None:
        raise DefinitionError(checker.problems, source)
    return definition


def _as_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class _Checker:
    """Collects every problem, with its path, rather than stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def survey(self, raw: Mapping[str, Any]) -> SurveyDefinition | None:
        known = {"slug", "title", "intro", "thanks", "questions"}
        for key in sorted(set(raw) - known):
            self.fail(key, "unknown field")
        slug = raw.get("slug")
        if not isinstance(slug, str) or not _SLUG.match(slug):
            self.fail("slug", "required: lower-case letters, digits and hyphens")
        title = self.text(raw.get("title", slug or "survey"), "title")
        intro = self.text(raw["intro"], "intro") if "intro" in raw else None
        thanks = self.text(raw["thanks"], "thanks") if "thanks" in raw else None
        items = raw.get("questions")
        if not isinstance(items, list) or not items:
            self.fail("questions", "required: a non-empty list")
            return None
        if len(items) > MAX_QUESTIONS:
            self.fail("questions", f"at most {MAX_QUESTIONS} questions")
        questions = [self.question(item, f"questions[{i}]") for i, item in enumerate(items)]
        ids = [q.id for q in questions if q is not None]
        for i, question_id in enumerate(ids):
            if question_id in ids[:i]:
                self.fail(f"questions[{i}].id", f"duplicate id {question_id!r}")
        for i, question in enumerate(questions):
            if question is not None:
                self.targets(question, i, ids)
        if any(q is None for q in questions) or title is None or not isinstance(slug, str):
            return None
        return SurveyDefinition(
            slug=slug,
            title=title,
            questions=tuple(q for q in questions if q is not None),
            intro=intro,
            thanks=thanks,
        )

    def text(self, value: Any, path: str) -> Text | None:
        if isinstance(value, str):
            if not value.strip():
                self.fail(path, "must not be empty")
                return None
            if len(value) > MAX_TEXT:
                self.fail(path, f"longer than {MAX_TEXT} characters")
            return Text({"en": value}, translatable=True)
        if isinstance(value, Mapping) and value:
            ok = True
            for locale, text in value.items():
                if locale not in SUPPORTED_LOCALES:
                    self.fail(f"{path}.{locale}", "unknown locale")
                    ok = False
                elif not isinstance(text, str) or not text.strip():
                    self.fail(f"{path}.{locale}", "must be non-empty text")
                    ok = False
                elif len(text) > MAX_TEXT:
                    self.fail(f"{path}.{locale}", f"longer than {MAX_TEXT} characters")
            return Text(dict(value)) if ok else None
        self.fail(path, "required: text, or a mapping from locale to text")
        return None

    def question(self, raw: Any, path: str) -> Question | None:
        if not isinstance(raw, Mapping):
            self.fail(path, "must be a mapping")
            return None
        known = {
            "id",
            "type",
            "text",
            "options",
            "min",
            "max",
            "optional",
            "hint",
            "next",
            "low_label",
            "high_label",
        }
        for key in sorted(set(raw) - known):
            self.fail(f"{path}.{key}", "unknown field")
        before = len(self.problems)
        question_id = raw.get("id")
        if not isinstance(question_id, str) or not _ID.match(question_id) or question_id == END:
            self.fail(f"{path}.id", "required: lower-case letters, digits and _, not 'end'")
        kind = raw.get("type")
        if kind not in QUESTION_TYPES:
            self.fail(f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
        text = self.text(raw.get("text"), f"{path}.text")
        optional = raw.get("optional", False)
        if not isinstance(optional, bool):
            self.fail(f"{path}.optional", "must be true or false")
        hint = self.text(raw["hint"], f"{path}.hint") if "hint" in raw else None
        options = self.options(raw, kind, path)
        minimum, maximum = self.bounds(raw, kind, path)
        low = self.text(raw["low_label"], f"{path}.low_label") if "low_label" in raw else None
        high = self.text(raw["high_label"], f"{path}.high_label") if "high_label" in raw else None
        rules = self.rules(raw.get("next"), f"{path}.next", kind, options)
        if len(self.problems) > before or text is None:
            return None
        return Question(
            id=str(question_id),
            type=cast(QuestionType, kind),
            text=text,
            options=options,
            minimum=minimum,
            maximum=maximum,
            optional=bool(optional),
            hint=hint,
            rules=rules,
            low_label=low,
            high_label=high,
        )

    def options(self, raw: Mapping[str, Any], kind: Any, path: str) -> tuple[Option, ...]:
        items = raw.get("options")
        if kind != "single_choice":
            if items is not None:
                self.fail(f"{path}.options", "only single_choice questions have options")
            return ()
        if not isinstance(items, list) or len(items) < 2:
            self.fail(f"{path}.options", "required: a list of at least 2 options")
            return ()
        if len(items) > MAX_OPTIONS:
            self.fail(f"{path}.options", f"at most {MAX_OPTIONS} options (one key press each)")
        options: list[Option] = []
        for i, item in enumerate(items):
            where = f"{path}.options[{i}]"
            if not isinstance(item, Mapping):
                self.fail(where, "must be a mapping with key and label")
                continue
            key = item.get("key")
            # "dont_know" may be an option (it is then recorded as a don't-know answer).
            if not isinstance(key, str) or not _ID.match(key) or key == "skip":
                self.fail(f"{where}.key", "required: lower-case letters, digits and _")
                continue
            if any(o.key == key for o in options):
                self.fail(f"{where}.key", f"duplicate key {key!r}")
            label = self.text(item.get("label"), f"{where}.label")
            if label is not None:
                options.append(Option(key, label))
        return tuple(options)

    def bounds(self, raw: Mapping[str, Any], kind: Any, path: str) -> tuple[int | None, int | None]:
        if kind not in ("scale", "number"):
            for key in ("min", "max"):
                if key in raw:
                    self.fail(f"{path}.{key}", "only scale and number questions have bounds")
            return None, None
        values: dict[str, int | None] = {}
        for key in ("min", "max"):
            value = raw.get(key)
            if value is None and kind == "number":
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.fail(f"{path}.{key}", "required: a whole number, 0 or more")
                values[key] = None
            else:
                values[key] = value
        lo, hi = values["min"], values["max"]
        if lo is not None and hi is not None and lo >= hi:
            self.fail(f"{path}.max", "must be greater than min")
        if kind == "scale" and lo is not None and hi is not None and hi > 9:
            self.fail(f"{path}.max", "a scale goes up to 9 at most (one key press)")
        return lo, hi

    def rules(
        self, raw: Any, path: str, kind: Any, options: tuple[Option, ...]
    ) -> tuple[Rule, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            raw = [{"goto": raw}]
        if not isinstance(raw, list):
            self.fail(path, "must be a question id, 'end', or a list of rules")
            return ()
        rules: list[Rule] = []
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("goto"), str):
                self.fail(where, "a rule needs goto (a later question id or 'end')")
                continue
            when = item.get("when", {})
            if not isinstance(when, Mapping):
                self.fail(f"{where}.when", "must be a mapping")
                continue
            for key in sorted(set(when) - {"answer", "at_least", "at_most"}):
                self.fail(f"{where}.when.{key}", "unknown condition")
            answers = self.answers(when.get("answer"), f"{where}.when.answer", kind, options)
            bounds = []
            for key in ("at_least", "at_most"):
                value = when.get(key)
                if value is not None and (
                    kind not in ("scale", "number") or isinstance(value, bool)
                ):
                    self.fail(f"{where}.when.{key}", "only for scale and number questions")
                    value = None
                elif value is not None and not isinstance(value, int | float):
                    self.fail(f"{where}.when.{key}", "must be a number")
                    value = None
                bounds.append(value)
            rules.append(Rule(item["goto"], answers, bounds[0], bounds[1]))
        return tuple(rules)

    def answers(
        self, raw: Any, path: str, kind: Any, options: tuple[Option, ...]
    ) -> frozenset[str]:
        if raw is None:
            return frozenset()
        values = raw if isinstance(raw, list) else [raw]
        allowed: set[str] = set(SPECIAL_VALUES)
        if kind == "single_choice":
            allowed |= {o.key for o in options}
        elif kind == "yes_no":
            allowed |= {"yes", "no"}
        result: set[str] = set()
        for value in values:
            text = str(value) if isinstance(value, int | str) else None
            numeric = kind in ("scale", "number") and text is not None and text.isdigit()
            if text is not None and (numeric or text in allowed):
                result.add(text)
            else:
                self.fail(path, f"{value!r} is not an answer to this question")
        return frozenset(result)

    def targets(self, question: Question, index: int, ids: list[str]) -> None:
        for i, rule in enumerate(question.rules):
            where = f"questions[{index}].next[{i}].goto"
            if rule.goto == END:
                continue
            if rule.goto not in ids:
                self.fail(where, f"no question {rule.goto!r}")
            elif ids.index(rule.goto) <= index:
                self.fail(where, f"{rule.goto!r} is not after this question (skips go forward)")
