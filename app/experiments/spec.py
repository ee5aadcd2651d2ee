"""Experiment definitions: reading and checking what a team writes in YAML or JSON (pure).

```yaml
slug: cost-wording-2026
title: Stating the cost of a missed appointment
clinics: [north-street, riverside]   # clinic slugs; each clinic is a stratum
seed: cost-2026                       # optional: the slug when absent
starts_at: 2026-04-01T00:00:00Z       # appointments starting from then; a date is 00:00 UTC
baseline: 0.111                       # DNA rate expected with the control wording
min_difference: 0.027                 # smallest reduction worth detecting (11.1% → 8.4%)
alpha: 0.05                           # optional, two-sided
power: 0.8                            # optional
planned_n_per_arm: 2000               # optional: computed from the four above
looks: 3                              # optional: analyses planned, the final one included
arms:                                 # exactly two; the first is the control
  - {name: A, weight: 1}              # no reminder: the usual wording
  - name: B
    weight: 1
    reminder:
      en: "%(clinic)s: your appointment is on %(date)s at %(time)s. ..."
```

The primary outcome is DNA (`primary_outcome: dna` may be written; nothing else is
accepted). Reminder texts are linted as templates are (opt-out words as reply
instructions, placeholders, length); errors refuse the definition, warnings are kept.
With unequal weights `planned_n_per_arm` is the planned size of the smaller arm.
Every problem names the path of its field, e.g. ``arms[1].reminder.pl: ...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import yaml

from app.core.locales import canonical
from app.experiments.stats import SampleSize, sample_size_per_arm
from app.messaging.lint import lint

REMINDER_PLACEHOLDERS: frozenset[str] = frozenset({"clinic", "date", "time"})
MAX_LOOKS = 10
MAX_WEIGHT = 100
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_ARM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_KEYS = frozenset(
    {
        "slug",
        "title",
        "clinics",
        "seed",
        "starts_at",
        "primary_outcome",
        "baseline",
        "min_difference",
        "alpha",
        "power",
        "planned_n_per_arm",
        "looks",
        "arms",
    }
)


class DefinitionError(ValueError):
    """A definition that cannot be used; `problems` lists (path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{len(problems)} problem(s): " + "; ".join(_lines(problems)))


def _lines(problems: list[tuple[str, str]]) -> list[str]:
    return [f"{path}: {message}" for path, message in problems]


@dataclass(frozen=True)
class ArmSpec:
    name: str
    weight: int
    #: Locale → reminder text with %(clinic)s, %(date)s and %(time)s.
    reminder: dict[str, str]


@dataclass(frozen=True)
class ExperimentSpec:
    """A checked definition. `warnings` are lint warnings, as "path: message"."""

    slug: str
    title: str
    clinic_slugs: tuple[str, ...]
    seed: str
    starts_at: datetime
    baseline: float
    min_difference: float
    alpha: float
    power: float
    planned_n_per_arm: int
    looks: int
    arms: tuple[ArmSpec, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Design:
    baseline: float
    min_difference: float
    alpha: float
    power: float
    planned_n_per_arm: int
    looks: int


def load_definition(text: str, source: str = "") -> dict[str, Any]:
    """Read a definition written as YAML or JSON into a mapping (not yet checked)."""
    try:
        data = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError([(f"line {exc.lineno}", "not valid JSON")], source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise DefinitionError([(where, "not valid YAML")], source) from None
    if not isinstance(data, dict):
        raise DefinitionError([("(document)", "must be a mapping with slug and arms")], source)
    return data


def planned_sample_size(
    baseline: float, min_difference: float, alpha: float, power: float, ratio: float = 1.0
) -> SampleSize:
    """Patients per arm to detect a fall from `baseline` by `min_difference` (two-sided)."""
    if not min_difference > 0:
        raise ValueError(f"min_difference must be a positive reduction, got {min_difference!r}")
    return sample_size_per_arm(baseline, -min_difference, alpha=alpha, power=power, ratio=ratio)


def parse_definition(raw: Mapping[str, Any], source: str = "") -> ExperimentSpec:
    """Check a definition mapping; raises DefinitionError listing every problem."""
    checker = _Checker()
    spec = checker.experiment(raw)
    if checker.problems or spec is None:
        raise DefinitionError(checker.problems, source)
    return spec


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def experiment(self, raw: Mapping[str, Any]) -> ExperimentSpec | None:
        for key in sorted(set(raw) - _KEYS, key=str):
            self.fail(str(key), "unknown field")
        slug = self.slug(raw.get("slug"))
        # Title and seed default to the slug (whose own problem is reported already).
        title = self.text(raw["title"], "title", 200) if "title" in raw else slug
        clinics = self.clinics(raw.get("clinics"))
        seed = self.text(raw["seed"], "seed", 64) if "seed" in raw else slug
        starts_at = self.instant(raw.get("starts_at"))
        if raw.get("primary_outcome", "dna") != "dna":
            self.fail("primary_outcome", "only dna is supported")
        arms = self.arms(raw.get("arms"))
        design = self.design(raw, arms)
        if (
            self.problems
            or slug is None
            or title is None
            or clinics is None
            or seed is None
            or starts_at is None
            or arms is None
            or design is None
        ):
            return None
        return ExperimentSpec(
            slug=slug,
            title=title,
            clinic_slugs=clinics,
            seed=seed,
            starts_at=starts_at,
            baseline=design.baseline,
            min_difference=design.min_difference,
            alpha=design.alpha,
            power=design.power,
            planned_n_per_arm=design.planned_n_per_arm,
            looks=design.looks,
            arms=arms,
            warnings=tuple(self.warnings),
        )

    def slug(self, value: object) -> str | None:
        if not isinstance(value, str) or not _SLUG.match(value):
            self.fail("slug", "required: lower-case letters, digits and dashes")
            return None
        return value

    def text(self, value: object, path: str, limit: int) -> str | None:
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            self.fail(path, f"must be text of 1 to {limit} characters")
            return None
        return value.strip()

    def clinics(self, value: object) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            self.fail("clinics", "required: a list of clinic slugs")
            return None
        found: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not _SLUG.match(item):
                self.fail(f"clinics[{index}]", "not a clinic slug")
            elif item in found:
                self.fail(f"clinics[{index}]", "listed twice")
            else:
                found.append(item)
        return tuple(found)

    def instant(self, value: object) -> datetime | None:
        if isinstance(value, datetime):
            parsed: datetime | None = value
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and len(value) <= len("2026-04-01"):
                parsed = parsed.replace(tzinfo=UTC)
        else:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail("starts_at", "required: an ISO 8601 date, or a date and time with an offset")
            return None
        return parsed.astimezone(UTC)

    def rate(self, value: object, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, "required: a number strictly between 0 and 1")
            return None
        if not 0.0 < float(value) < 1.0:
            self.fail(path, "must be strictly between 0 and 1")
            return None
        return float(value)

    def whole(self, value: object, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(path, f"must be a whole number from {low} to {high}")
            return None
        return value

    def arms(self, value: object) -> tuple[ArmSpec, ...] | None:
        if not isinstance(value, list) or len(value) != 2:
            self.fail("arms", "required: exactly two arms, the control first")
            return None
        arms = [self.arm(index, item) for index, item in enumerate(value)]
        named = [arm for arm in arms if arm is not None]
        if len(named) == 2 and named[0].name == named[1].name:
            self.fail("arms[1].name", "repeats the name of arms[0]")
        if len(named) == 2 and not any(arm.reminder for arm in named):
            self.fail("arms", "no arm has a reminder text: both would get the usual wording")
        return tuple(named) if len(named) == 2 else None

    def arm(self, index: int, item: object) -> ArmSpec | None:
        path = f"arms[{index}]"
        if not isinstance(item, dict):
            self.fail(path, "must be a mapping with name, weight and reminder")
            return None
        for key in sorted(set(item) - {"name", "weight", "reminder"}, key=str):
            self.fail(f"{path}.{key}", "unknown field")
        name = item.get("name")
        if not isinstance(name, str) or not _ARM.match(name):
            self.fail(f"{path}.name", "required: 1 to 32 letters, digits, '-' or '_'")
        weight = self.whole(item.get("weight", 1), f"{path}.weight", 1, MAX_WEIGHT)
        reminder = self.reminder(item.get("reminder", {}), f"{path}.reminder")
        if not isinstance(name, str) or not _ARM.match(name) or weight is None:
            return None
        return ArmSpec(name, weight, reminder)

    def reminder(self, value: object, path: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail(path, "must map locale codes to reminder texts")
            return {}
        texts: dict[str, str] = {}
        for code, text in value.items():
            locale = canonical(code) if isinstance(code, str) else None
            if locale is None or locale != code:
                self.fail(f"{path}.{code}", "not a supported locale code (en, cy, pl, zh_Hans...)")
            elif not isinstance(text, str) or not text.strip():
                self.fail(f"{path}.{code}", "must be the reminder text")
            else:
                self.lint(f"{path}.{code}", text, locale)
                texts[locale] = text
        return texts

    def lint(self, path: str, text: str, locale: str) -> None:
        for problem in lint(text, locale=locale, expected_placeholders=set(REMINDER_PLACEHOLDERS)):
            if problem.level == "error":
                self.fail(path, problem.message)
            else:
                self.warnings.append(f"{path}: {problem.message}")

    def design(self, raw: Mapping[str, Any], arms: tuple[ArmSpec, ...] | None) -> _Design | None:
        baseline = self.rate(raw.get("baseline"), "baseline")
        difference = self.rate(raw.get("min_difference"), "min_difference")
        alpha = self.rate(raw.get("alpha", 0.05), "alpha")
        power = self.rate(raw.get("power", 0.8), "power")
        looks = self.whole(raw.get("looks", 1), "looks", 1, MAX_LOOKS)
        value = raw.get("planned_n_per_arm")
        given = None if value is None else self.whole(value, "planned_n_per_arm", 2, 10**8)
        if baseline is None or difference is None or alpha is None or power is None:
            return None
        if difference >= baseline:
            self.fail("min_difference", "must be smaller than baseline (a reduction in the rate)")
            return None
        ratio = arms[1].weight / arms[0].weight if arms else 1.0
        size = planned_sample_size(baseline, difference, alpha, power, ratio=ratio)
        needed = min(size.n_control, size.n_treatment)
        if given is not None and given < needed:
            self.warnings.append(
                f"planned_n_per_arm: {given} is below the {needed} needed for power "
                f"{power:g} at alpha {alpha:g}"
            )
        if looks is None:
            return None
        planned = given if given is not None else needed
        return _Design(baseline, difference, alpha, power, planned, looks)
