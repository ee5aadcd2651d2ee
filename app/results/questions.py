"""Every question of a survey, estimated with the snapshot's weights (pure).

A snapshot weights its respondents once (`app.results.weighting`); every question is then
estimated with those same weights, so each figure represents the invited cohort as the
Friends and Family Test does. Standard errors are linearised on the calibration margins
exactly as for the FFT (`app.results.estimates`, R's `svymean` on a raked design), and an
answer that is not there leaves that respondent out of the question's figures but in the
design (R's `na.rm = TRUE`, a domain estimate), with answers - 1 degrees of freedom.

What counts as an answer, by how the conversation stored it:

| stored                                   | counted as                                   |
|------------------------------------------|----------------------------------------------|
| answered, a value the question takes     | an answer (in every figure's base)           |
| "don't know", question with that option  | an answer: the option "dont_know" (so the    |
|                                          | FFT's shares add up over all answers, as     |
|                                          | NHS England counts them)                     |
| "don't know", any other question         | `dont_know`: left out of the figures         |
| skipped                                  | `skipped`: left out                          |
| not understood, or a value the question  | `unparsed`: left out                         |
| cannot take                              |                                              |
| nothing stored (skip logic passed it, the| `not_asked`: left out                        |
| conversation ended, or the respondent's  |                                              |
| version of the survey lacked it)         |                                              |

Figures per question kind:
- single_choice, yes_no and scale: the weighted share choosing each option (scale: each
  point from min to max) with a logit interval (`svyciprop(method="logit")`; Korn–Graubard
  when a share is 0 or 1);
- scale and number: also the weighted mean with a t interval;
- free_text: only how many answered (words are never estimated here).

Any figure resting on fewer than `suppress_below` answers keeps its answer count and
`"suppressed": true` with the reason; its estimate and interval are left out.

Several versions of one survey may share a cohort: questions are matched by id, in the
newest version's order, then any found only in older versions. A question whose kind
changed between versions is estimated from the versions of the newest kind only; the
answers of the others count as `not_asked`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.results.estimates import Estimate, weighted_mean, weighted_proportion
from app.results.weighting import WeightingResult

#: Figures on fewer answers than this are not shown, and why.
SUPPRESS_BELOW = 10
SUPPRESSED_REASON = "fewer than {count} responses"
DONT_KNOW = "dont_know"


class QuestionKind(enum.StrEnum):
    SINGLE_CHOICE = "single_choice"  # one of a list of options
    SCALE = "scale"  # a whole number from min to max
    YES_NO = "yes_no"  # yes or no
    NUMBER = "number"  # any whole number (within optional bounds)
    FREE_TEXT = "free_text"  # the patient's own words


#: Kinds whose figures are shares of options, and kinds that also have a mean.
SHARE_KINDS = frozenset({QuestionKind.SINGLE_CHOICE, QuestionKind.YES_NO, QuestionKind.SCALE})
MEAN_KINDS = frozenset({QuestionKind.SCALE, QuestionKind.NUMBER})


class Reading(enum.StrEnum):
    ANSWER = "answer"  # counts in the question's figures
    DONT_KNOW = "dont_know"  # said they did not know (no such option): left out
    SKIPPED = "skipped"  # chose not to answer: left out
    UNPARSED = "unparsed"  # not understood, or not a value of this question: left out
    NOT_ASKED = "not_asked"  # nothing stored for this question: left out


#: The readings in a fixed order: `Readings` stores each as its index here.
READINGS = tuple(Reading)
_ANSWER = READINGS.index(Reading.ANSWER)


@dataclass(frozen=True)
class QuestionSpec:
    """A question as the snapshot estimates it, merged over the cohort's versions."""

    id: str
    kind: QuestionKind
    #: The question's text key: its English text, which the catalogues translate.
    text: str
    #: (key, English label) of each option: a choice's options, yes and no, or the points
    #: of a scale.
    options: tuple[tuple[str, str], ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    #: The survey versions whose answers to this question are estimated.
    versions: frozenset[int] = field(default_factory=frozenset)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _label in self.options)


@dataclass(frozen=True)
class Given:
    """One respondent's answers as the response row keeps them."""

    version_id: int
    answers: Mapping[str, Any]


def english(text: Any) -> str:
    """A definition's text (a string, or a mapping from locale to text) as its English key."""
    if isinstance(text, Mapping):
        return str(text.get("en") or next(iter(text.values()), ""))
    return "" if text is None else str(text)


def question_specs(definitions: Mapping[int, Mapping[str, Any]]) -> tuple[QuestionSpec, ...]:
    """The questions of the survey versions `definitions` (version id → stored definition),
    newest version (highest id) first."""
    merged: dict[str, QuestionSpec] = {}
    for version_id in sorted(definitions, reverse=True):
        for raw in definitions[version_id].get("questions") or ():
            spec = _spec(raw, version_id)
            if spec is None:
                continue
            known = merged.get(spec.id)
            merged[spec.id] = spec if known is None else _merge(known, spec)
    return tuple(merged.values())


def _spec(raw: Any, version_id: int) -> QuestionSpec | None:
    if not isinstance(raw, Mapping) or raw.get("type") not in set(QuestionKind):
        return None
    kind = QuestionKind(raw["type"])
    minimum, maximum = _bound(raw.get("min")), _bound(raw.get("max"))
    options: tuple[tuple[str, str], ...] = ()
    if kind is QuestionKind.SINGLE_CHOICE:
        options = tuple(
            (str(o["key"]), english(o.get("label")))
            for o in raw.get("options") or ()
            if isinstance(o, Mapping) and "key" in o
        )
    elif kind is QuestionKind.YES_NO:
        options = (("yes", "Yes"), ("no", "No"))
    elif kind is QuestionKind.SCALE and minimum is not None and maximum is not None:
        options = tuple((str(point), str(point)) for point in range(minimum, maximum + 1))
    return QuestionSpec(
        id=str(raw.get("id")),
        kind=kind,
        text=english(raw.get("text")),
        options=options,
        minimum=minimum,
        maximum=maximum,
        versions=frozenset({version_id}),
    )


def _bound(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _merge(newer: QuestionSpec, older: QuestionSpec) -> QuestionSpec:
    """`newer` widened by an older version of the same question (same kind only)."""
    if older.kind is not newer.kind:
        return newer
    options = list(newer.options)
    options += [o for o in older.options if o[0] not in newer.keys]
    if newer.kind is QuestionKind.SCALE:
        options.sort(key=lambda option: int(option[0]))
    return QuestionSpec(
        id=newer.id,
        kind=newer.kind,
        text=newer.text,
        options=tuple(options),
        minimum=_lowest(newer.minimum, older.minimum),
        maximum=_highest(newer.maximum, older.maximum),
        versions=newer.versions | older.versions,
    )


def _lowest(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else min(a, b)


def _highest(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else max(a, b)


def read_answer(spec: QuestionSpec, given: Given) -> tuple[Reading, str | float | None]:
    """How one respondent's stored answer to `spec` counts, and its value when it is an
    answer (an option key, or a number for a number question)."""
    stored = given.answers.get(spec.id)
    if given.version_id not in spec.versions or not isinstance(stored, Mapping):
        return Reading.NOT_ASKED, None
    status, value = stored.get("status"), stored.get("value")
    if status == "skipped":
        return Reading.SKIPPED, None
    if status == "dont_know":
        if DONT_KNOW in spec.keys:
            return Reading.ANSWER, DONT_KNOW
        return Reading.DONT_KNOW, None
    if status != "answered":
        return Reading.UNPARSED, None
    if spec.kind is QuestionKind.FREE_TEXT:
        return Reading.ANSWER, None  # words may have been erased since; the answer counts
    return _value(spec, value)


def _value(spec: QuestionSpec, value: Any) -> tuple[Reading, str | float | None]:
    text = "" if value is None else str(value).strip()
    if spec.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.YES_NO, QuestionKind.SCALE):
        if spec.kind is QuestionKind.SCALE and text.isdigit():
            text = str(int(text))
        return (Reading.ANSWER, text) if text in spec.keys else (Reading.UNPARSED, None)
    try:
        number = float(text)
    except ValueError:
        return Reading.UNPARSED, None
    return (Reading.ANSWER, number) if math.isfinite(number) else (Reading.UNPARSED, None)


def read_stored(
    spec: QuestionSpec, version_id: int, status: str | None, value: Any
) -> tuple[Reading, str | float | None]:
    """`read_answer` of an answer stored as `{"status": status, "value": value}`; a
    status of None stands for no answer stored (the app never stores one without)."""
    if status is None:
        return Reading.NOT_ASKED, None
    return read_answer(spec, Given(version_id, {spec.id: {"status": status, "value": value}}))


@dataclass(frozen=True)
class Readings:
    """How each respondent's answer to one question counts, in the respondents' order:
    what `read_answer` gives, as arrays."""

    #: The reading's index in READINGS.
    reading: NDArray[np.int8]
    #: The chosen option's (first) index in the question's options; -1 for none.
    choice: NDArray[np.int64]
    #: The number answered (a scale's point, a number question's value); NaN for none.
    number: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.reading)


def readings_of(spec: QuestionSpec, read: Iterable[tuple[Reading, str | float | None]]) -> Readings:
    """The arrays of readings `read` (as `read_answer` gives them) of question `spec`."""
    options: dict[str, int] = {}
    for index, key in enumerate(spec.keys):
        options.setdefault(key, index)
    numeric = spec.kind in MEAN_KINDS
    reading: list[int] = []
    choice: list[int] = []
    number: list[float] = []
    for found, value in read:
        reading.append(READINGS.index(found))
        choice.append(options.get(value, -1) if isinstance(value, str) else -1)
        answered = numeric and found is Reading.ANSWER and value is not None
        number.append(float(value) if answered and value is not None else math.nan)
    return Readings(
        np.array(reading, dtype=np.int8),
        np.array(choice, dtype=np.int64),
        np.array(number, dtype=np.float64),
    )


def estimate_questions(
    specs: Sequence[QuestionSpec],
    respondents: Sequence[Given],
    weighting: WeightingResult | None,
    *,
    suppress_below: int = SUPPRESS_BELOW,
) -> list[dict[str, Any]]:
    """Each question's figures over `respondents`, the people `weighting` weighted (in
    its order). Without weighting (nobody responded) every figure is suppressed."""
    readings = {
        spec.id: readings_of(spec, (read_answer(spec, given) for given in respondents))
        for spec in specs
    }
    return estimate_readings(
        specs, readings, len(respondents), weighting, suppress_below=suppress_below
    )


def estimate_readings(
    specs: Sequence[QuestionSpec],
    readings: Mapping[str, Readings],
    respondents: int,
    weighting: WeightingResult | None,
    *,
    suppress_below: int = SUPPRESS_BELOW,
) -> list[dict[str, Any]]:
    """`estimate_questions` from each question's readings (by question id) over the
    same `respondents` people."""
    if weighting is not None and len(weighting.weights) != respondents:
        raise ValueError(f"{respondents} respondents but {len(weighting.weights)} weights")
    for spec in specs:
        if len(readings[spec.id]) != respondents:
            raise ValueError(f"{spec.id}: {len(readings[spec.id])} readings for {respondents}")
    return [_question(spec, readings[spec.id], weighting, suppress_below) for spec in specs]


def _question(
    spec: QuestionSpec,
    readings: Readings,
    weighting: WeightingResult | None,
    suppress_below: int,
) -> dict[str, Any]:
    tally = np.bincount(readings.reading, minlength=len(READINGS))
    counts = {reading: int(tally[index]) for index, reading in enumerate(READINGS)}
    answered = counts[Reading.ANSWER]
    result: dict[str, Any] = {
        "id": spec.id,
        "kind": spec.kind.value,
        "text": spec.text,
        "respondents": answered,
        "dont_know": counts[Reading.DONT_KNOW],
        "skipped": counts[Reading.SKIPPED],
        "unparsed": counts[Reading.UNPARSED],
        "not_asked": counts[Reading.NOT_ASKED],
    }
    if spec.minimum is not None or spec.maximum is not None:
        result |= {"min": spec.minimum, "max": spec.maximum}
    small = weighting is None or answered < suppress_below
    hidden = _suppressed(suppress_below)
    if spec.kind in SHARE_KINDS:
        result["options"] = [
            _option(
                spec.keys.index(key),
                key,
                label,
                readings,
                weighting,
                answered,
                hidden if small else None,
            )
            for key, label in spec.options
        ]
    if spec.kind in MEAN_KINDS:
        result["mean"] = _mean(readings, weighting, answered, hidden if small else None)
    return result


def _option(
    index: int,
    key: str,
    label: str,
    readings: Readings,
    weighting: WeightingResult | None,
    answered: int,
    hidden: dict[str, Any] | None,
) -> dict[str, Any]:
    figure: dict[str, Any] = {"key": key, "label": label, "respondents": answered}
    if hidden is not None or weighting is None:
        return figure | (hidden or {})
    chose = np.where(
        readings.reading == _ANSWER, (readings.choice == index).astype(np.float64), np.nan
    )
    estimate = weighted_proportion(chose, weighting, ci="logit")
    return figure | _figure(estimate) | {"count": int(np.nansum(chose))}


def _mean(
    readings: Readings,
    weighting: WeightingResult | None,
    answered: int,
    hidden: dict[str, Any] | None,
) -> dict[str, Any]:
    if hidden is not None or weighting is None:
        return {"respondents": answered} | (hidden or {})
    values = np.where(readings.reading == _ANSWER, readings.number, np.nan)
    estimate = weighted_mean(values, weighting)
    return {"respondents": answered} | _figure(estimate)


def _figure(estimate: Estimate) -> dict[str, Any]:
    return {
        "estimate": estimate.estimate,
        "lower": estimate.ci_low,
        "upper": estimate.ci_high,
        "se": estimate.se,
        "ci_method": "t" if estimate.ci_method == "wald" else estimate.ci_method,
        "unweighted": estimate.unweighted,
        "suppressed": False,
    }


def _suppressed(suppress_below: int) -> dict[str, Any]:
    return {"suppressed": True, "reason": SUPPRESSED_REASON.format(count=suppress_below)}
