"""What a snapshot holds, computed from its cohort's rows (no database reads or writes).

The respondents are raked to the invited cohort on age band, sex, ethnic group and
deprivation quintile (app.results.categories), with "unknown" an explicit level; a level
with cohort members but no respondents is merged into its nearest neighbour (the
`adjacent` rule in app.results.weighting) and the merge is recorded in the diagnostics.

Who is a respondent: for a survey with the Friends and Family Test question, whoever
answered it ("don't know" included, as NHS England counts it); for any other survey,
whoever answered at least one question. Every question is then estimated with the same
weights (app.results.questions).

The non-response report gives response rates for every level of the raking variables and
of language and channel (reported, not raked); the R-indicator's propensity model uses
the raking variables only. It also keeps, for every level of every other variable, how
many were invited and answered by each channel (`by_channel`): what a suggestion for a
group that is not heard is drawn from (app.results.suggestions).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.core.channels import Channel
from app.core.errors import Invalid
from app.results import categories as cat
from app.results.estimates import Estimate, effective_sample_size, kish_deff, weighted_proportion
from app.results.models import SurveyInvitation, SurveyResponse
from app.results.nonresponse import nonresponse_report
from app.results.questions import (
    SUPPRESS_BELOW,
    SUPPRESSED_REASON,
    Given,
    QuestionSpec,
    Readings,
    estimate_readings,
    question_specs,
    read_answer,
    readings_of,
)
from app.results.weighting import Margin, WeightingError, WeightingResult, rake

#: The Friends and Family Test's question id, and its answers counted as positive and
#: negative (NHS England's definition: of all responses, "don't know" included).
FFT_QUESTION = "fft"
FFT_POSITIVE = frozenset({"very_good", "good"})
FFT_NEGATIVE = frozenset({"poor", "very_poor"})
#: Variables whose response rates are reported beside the raking variables.
REPORTED_VARIABLES: tuple[str, ...] = ("language", "channel")

Cohort = Sequence[tuple[SurveyInvitation, SurveyResponse | None]]


def uses_fft(definitions: Mapping[int, Mapping[str, Any]] | None) -> bool:
    """Whether respondents are those who answered the FFT question: yes for a survey
    that has it, and when the definitions are not known."""
    if definitions is None:
        return True
    return any(
        isinstance(q, Mapping) and q.get("id") == FFT_QUESTION
        for definition in definitions.values()
        for q in definition.get("questions") or ()
    )


@dataclass(frozen=True)
class Columns:
    """A cohort as arrays, what a summary is computed from: one entry per invitation in
    the cohort's order, and one per respondent (the invited who responded, in the same
    order) for the answers. `columns_of` builds it from (invitation, response) pairs;
    `app.results.cohort` reads it from the database without an object per row."""

    #: The invitations' ids.
    ids: NDArray[np.int64]
    #: Whether each invitation counts as a response (see `uses_fft`).
    responded: NDArray[np.bool_]
    #: Each invitation's level (an index into `levels`) of every variable of
    #: `categories.VARIABLES`.
    codes: Mapping[str, NDArray[np.int64]]
    levels: Mapping[str, tuple[str, ...]]
    #: Whether each respondent's Friends and Family Test answer is positive (very good,
    #: good), and whether it is negative (poor, very poor).
    fft_positive: NDArray[np.bool_]
    fft_negative: NDArray[np.bool_]
    #: Each question's readings over the respondents, by question id.
    readings: Mapping[str, Readings]


def level_names(variable: str, seen: Iterable[str]) -> tuple[str, ...]:
    """The levels of `variable` in a cohort whose values are `seen`: the fixed levels
    of a raking variable or of the channel, else those seen, sorted, then unknown."""
    if variable in cat.LEVELS:
        return cat.LEVELS[variable]
    if variable == "channel":
        return (*(c.value for c in Channel), cat.UNKNOWN)
    return (*sorted(set(seen) - {cat.UNKNOWN}), cat.UNKNOWN)


def columns_of(cohort: Cohort, specs: Sequence[QuestionSpec], fft_rule: bool) -> Columns:
    """The columns of a cohort of (invitation, response) pairs."""
    responded = np.array([_responded(inv, resp, fft_rule) for inv, resp in cohort], dtype=bool)
    invitations = [inv for inv, _ in cohort]
    answers = [resp for (_, resp), r in zip(cohort, responded, strict=True) if r and resp]
    given = [Given(resp.survey_version_id, resp.answers or {}) for resp in answers]
    codes, levels = _codes(invitations, cat.VARIABLES)
    return Columns(
        ids=np.array([inv.id for inv in invitations], dtype=np.int64),
        responded=responded,
        codes=codes,
        levels=levels,
        fft_positive=np.array([resp.fft in FFT_POSITIVE for resp in answers], dtype=bool),
        fft_negative=np.array([resp.fft in FFT_NEGATIVE for resp in answers], dtype=bool),
        readings={
            spec.id: readings_of(spec, (read_answer(spec, one) for one in given)) for spec in specs
        },
    )


def summarise(
    cohort: Cohort, definitions: Mapping[int, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Weights, estimates, every question's figures and the non-response report for a
    cohort. `definitions` (survey version id → definition) names the questions; without
    them only the Friends and Family Test is estimated and `questions` is empty."""
    fft_rule = uses_fft(definitions)
    specs = question_specs(definitions or {})
    return summarise_columns(columns_of(cohort, specs, fft_rule), specs, fft_rule)


def summarise_columns(
    columns: Columns, specs: Sequence[QuestionSpec], fft_rule: bool
) -> dict[str, Any]:
    """`summarise` of a cohort's columns, its questions `specs` and its rule for who
    responded (`uses_fft`)."""
    responded = columns.responded
    invited = len(columns.ids)
    respondents = int(responded.sum())
    diagnostics: dict[str, Any] = {
        "invited": invited,
        "responses": respondents,
        "response_rate": (respondents / invited) if invited else None,
        "variables": list(cat.RAKING_VARIABLES),
        "respondents": "fft_answer" if fft_rule else "any_answer",
    }
    codes = {variable: columns.codes[variable] for variable in cat.RAKING_VARIABLES}
    levels = {variable: columns.levels[variable] for variable in cat.RAKING_VARIABLES}
    if not respondents:
        return {
            "method": "none",
            "diagnostics": diagnostics | {"reason": "no responses"},
            "estimates": {},
            "nonresponse": (
                _nonresponse(columns, codes, levels, responded, None) if invited else {}
            ),
            "questions": estimate_readings(specs, columns.readings, 0, None),
            "weights": {},
        }
    weighting = weigh(codes, levels, responded)
    weights = weighting.weights
    diagnostics |= {
        "converged": weighting.converged,
        "iterations": weighting.iterations,
        "max_margin_error": weighting.max_margin_error,
        "cells": weighting.cells,
        "collapsed": [asdict(c) for c in weighting.collapsed],
        "kish_deff": kish_deff(weights),
        "ess": effective_sample_size(weights),
        "weights_min": float(weights.min()),
        "weights_max": float(weights.max()),
    }
    estimates = {}
    if fft_rule:
        estimates = {
            "fft_positive": _proportion(columns.fft_positive, weighting),
            "fft_negative": _proportion(columns.fft_negative, weighting),
        }
    full_weights = np.zeros(invited)
    full_weights[responded] = weights
    respondent_ids = columns.ids[responded].tolist()
    return {
        "method": weighting.method,
        "diagnostics": diagnostics,
        "estimates": estimates,
        "nonresponse": _nonresponse(columns, codes, levels, responded, full_weights),
        "questions": estimate_readings(specs, columns.readings, respondents, weighting),
        # Two lists rather than an object keyed by invitation: a month of a million
        # invitations has hundreds of thousands of respondents, and the lists are
        # written as JSON in half the time.
        "weights": {"invitations": respondent_ids, "weights": weights.tolist()},
    }


def _responded(inv: SurveyInvitation, resp: SurveyResponse | None, fft_rule: bool) -> bool:
    if resp is None:
        return False
    return bool(resp.fft) if fft_rule else bool(inv.responded)


def _codes(
    invitations: Sequence[SurveyInvitation], variables: Sequence[str]
) -> tuple[dict[str, NDArray[np.int64]], dict[str, tuple[str, ...]]]:
    codes: dict[str, NDArray[np.int64]] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for variable in variables:
        values = [str(getattr(inv, variable)) for inv in invitations]
        names = level_names(variable, values)
        index = {name: i for i, name in enumerate(names)}
        codes[variable] = np.array(
            [index.get(value, index[cat.UNKNOWN]) for value in values], dtype=np.int64
        )
        levels[variable] = names
    return codes, levels


def weigh(
    codes: Mapping[str, np.ndarray], levels: Mapping[str, tuple[str, ...]], responded: np.ndarray
) -> WeightingResult:
    """The respondents (`responded`) raked to the whole cohort's margins of each variable
    (`codes` of every invitation, `levels` their names); Invalid when it cannot be done."""
    margins = [
        Margin(
            (variable,),
            np.bincount(column, minlength=len(levels[variable])).astype(np.float64),
            (levels[variable],),
        )
        for variable, column in codes.items()
    ]
    respondent_codes = {variable: column[responded] for variable, column in codes.items()}
    try:
        return rake(respondent_codes, margins, collapse="adjacent")
    except WeightingError as exc:
        raise Invalid(f"cannot weight: {exc}") from None


def _proportion(flags: NDArray[np.bool_], weighting: WeightingResult) -> dict[str, Any]:
    values = np.array(flags, dtype=np.float64)
    weighted = weighted_proportion(values, weighting, ci="logit")
    unweighted = weighted_proportion(values, np.ones(len(values)), ci="wilson")
    suppressed = weighted.n < SUPPRESS_BELOW
    return {
        "weighted": _estimate(weighted),
        "unweighted": _estimate(unweighted),
        "n": weighted.n,
        "ess": effective_sample_size(weighting.weights),
        "suppressed": suppressed,
        **({"reason": SUPPRESSED_REASON.format(count=SUPPRESS_BELOW)} if suppressed else {}),
    }


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {
        "estimate": estimate.estimate,
        "se": estimate.se,
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "ci_method": estimate.ci_method,
        "design_deff": None if math.isnan(estimate.design_deff) else estimate.design_deff,
    }


def _nonresponse(
    columns: Columns,
    codes: Mapping[str, np.ndarray],
    levels: Mapping[str, tuple[str, ...]],
    responded: np.ndarray,
    weights: np.ndarray | None,
) -> dict[str, Any]:
    report = nonresponse_report(codes, responded, levels=levels, weights=weights)
    # Language and channel get their own report: their rates and differences, while the
    # R-indicator stays that of the raking variables.
    reported_codes = {variable: columns.codes[variable] for variable in REPORTED_VARIABLES}
    reported_levels = {variable: columns.levels[variable] for variable in REPORTED_VARIABLES}
    reported = nonresponse_report(
        reported_codes, responded, levels=reported_levels, weights=weights
    )
    return {
        "invited": report.invited,
        "responded": report.responded,
        "overall_rate": report.overall_rate,
        "r_indicator": _finite(report.r_indicator),
        "max_bias": _finite(report.max_bias),
        "levels": [_level_row(row) for row in (*report.levels, *reported.levels) if row.invited],
        "by_channel": _by_channel(
            {**codes, "language": reported_codes["language"]},
            {**levels, "language": reported_levels["language"]},
            reported_codes["channel"],
            reported_levels["channel"],
            responded,
        ),
    }


def _by_channel(
    codes: Mapping[str, np.ndarray],
    levels: Mapping[str, tuple[str, ...]],
    channel: np.ndarray,
    channels: tuple[str, ...],
    responded: np.ndarray,
) -> list[dict[str, Any]]:
    """Invited and answered per channel within each level of each variable (cells
    nobody was invited in are left out)."""
    rows: list[dict[str, Any]] = []
    width = len(channels)
    for variable, column in codes.items():
        cell = column * width + channel
        size = len(levels[variable]) * width
        invited = np.bincount(cell, minlength=size)
        answered = np.bincount(cell[responded], minlength=size)
        for index in np.flatnonzero(invited):
            level, used = divmod(int(index), width)
            rows.append(
                {
                    "variable": variable,
                    "level": levels[variable][level],
                    "channel": channels[used],
                    "invited": int(invited[index]),
                    "responded": int(answered[index]),
                }
            )
    return rows


def _level_row(row: Any) -> dict[str, Any]:
    return {
        "variable": row.variable,
        "level": row.level,
        "invited": row.invited,
        "responded": row.responded,
        "rate": _finite(row.rate),
        "ci_low": _finite(row.ci_low),
        "ci_high": _finite(row.ci_high),
        "std_diff_before": _finite(row.std_diff_before),
        "std_diff_after": _finite(row.std_diff_after),
        "flagged": row.flagged,
        "suppressed": row.responded < SUPPRESS_BELOW,
    }


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: an undefined number (a single answer's SE) is null."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.bool_ | np.integer):
        return value.item()
    return value


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
