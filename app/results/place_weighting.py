"""The respondents of a place and month, and how their weights were made.

A snapshot keeps each respondent's weight, but not the raking's calibration, which the
variance of an estimate made later (a theme's share, say) needs to allow for the
raking as the snapshot's own estimates do. `respondent_weighting` makes the weighting
again exactly as the snapshot does; `snapshot_weighting` keeps it, per app, for the
snapshot's inputs, so that a page asking again reads the cohort no second time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from flask import current_app
from numpy.typing import NDArray

from app.results import categories as cat
from app.results import sources
from app.results.cohort import read_cohort, read_columns
from app.results.models import ResultSnapshot, SurveyInvitation
from app.results.service import check_period, scope_filter
from app.results.summary import uses_fft, weigh
from app.results.weighting import WeightingResult


@dataclass(frozen=True)
class RespondentWeighting:
    """A place's respondents for a month, and how their weights were made."""

    #: The respondents' invitations, in the order of the weights.
    invitation_ids: NDArray[np.int64]
    #: Their weights, and the raking's calibration, which an estimate's variance needs.
    weighting: WeightingResult


def respondent_weighting(
    slug: str, scope: str, scope_id: int, period: str, *, scope_key: str = ""
) -> RespondentWeighting | None:
    """The weighting of the place's respondents, made as its snapshot makes it (the same
    weights, when the snapshot is up to date), with the calibration a snapshot does not
    keep; None when no one responded. Raises Invalid as `compute_snapshot` does."""
    check_period(period)
    where = [
        SurveyInvitation.survey_slug == slug,
        SurveyInvitation.period == period,
        *scope_filter(scope, scope_id, scope_key),
    ]
    cohort = read_cohort(where)
    fft_rule = uses_fft(sources.definitions(cohort.versions))
    columns = read_columns(cohort, where, (), fft_rule)
    if not columns.responded.any():
        return None
    codes = {variable: columns.codes[variable] for variable in cat.RAKING_VARIABLES}
    levels = {variable: columns.levels[variable] for variable in cat.RAKING_VARIABLES}
    weighting = weigh(codes, levels, columns.responded)
    return RespondentWeighting(columns.ids[columns.responded], weighting)


def snapshot_weighting(snapshot: ResultSnapshot) -> RespondentWeighting | None:
    """`respondent_weighting` of the snapshot's place, kept by the app for the snapshot's
    inputs: the same cohort (its digest, `diagnostics.inputs`) always gives the same
    weighting, so a page asking again reads the cohort no second time. Call it with the
    snapshot `refresh_snapshot` returns, whose inputs are today's."""
    inputs = str((snapshot.diagnostics or {}).get("inputs", ""))
    place = (snapshot.survey_slug, snapshot.scope, snapshot.scope_id, snapshot.period)
    if not inputs:
        return respondent_weighting(*place, scope_key=snapshot.scope_key)
    kept: dict[tuple[object, ...], RespondentWeighting] = current_app.extensions.setdefault(
        "wesaid_weightings", {}
    )
    key = (*place, snapshot.scope_key, inputs)
    with _weightings_lock:
        found = kept.get(key)
    if found is None:
        found = respondent_weighting(*place, scope_key=snapshot.scope_key)
        if found is not None:
            with _weightings_lock:
                kept[key] = found
                while len(kept) > WEIGHTINGS_KEPT:
                    del kept[next(iter(kept))]
    return found


#: How many weightings an app keeps (`snapshot_weighting`), the oldest going first.
WEIGHTINGS_KEPT = 16
_weightings_lock = threading.Lock()
