"""Weighted theme shares: the share of respondents who mention a theme, with an interval.

A share is estimated like every other figure of the results store: the respondents of
a survey × clinic (or organisation) × month carry the weights of that place's snapshot
(app.results.service.refresh_snapshot makes or reuses it), and the share is their
weighted proportion (app.results.estimates.weighted_proportion, logit interval). Its
variance allows for the raking, as the snapshot's own estimates do: the weighting is made
again with its calibration (`app.results.place_weighting.snapshot_weighting`, kept by the
app for the snapshot's inputs), since a snapshot keeps the weights alone. A
respondent "mentions" a theme when one of their coded comments has it; one who wrote
nothing mentions nothing; one whose comment is not coded yet is left out of the share
(but stays in the design), so an uncoded comment is never read as "not mentioned".
A `group` (age_band, sex, ethnic, imd, language, channel) and `level` restrict the
share to that group's respondents. Shares on fewer than 10 answers are suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from app.core.errors import Invalid
from app.extensions import db
from app.results.estimates import weighted_proportion
from app.results.models import SurveyInvitation, SurveyResponse
from app.results.place_weighting import snapshot_weighting
from app.results.questions import SUPPRESS_BELOW
from app.results.service import refresh_snapshot
from app.themes.models import Theme, ThemeCode, ThemeComment

GROUPS = ("age_band", "sex", "ethnic", "imd", "language", "channel")


@dataclass(frozen=True)
class ThemeShare:
    theme_id: int
    name: str
    category: str
    n: int  # respondents in the share's base
    estimate: float | None  # None when suppressed
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


def theme_shares(
    survey_slug: str,
    scope: str,
    scope_id: int,
    period: str,
    now: datetime,
    *,
    group: str | None = None,
    level: str | None = None,
) -> list[ThemeShare]:
    """The weighted share of respondents mentioning each theme that anyone mentioned,
    most mentioned first. `scope` is "clinic" or "organisation". Raises Invalid as
    refresh_snapshot does when weights cannot be made, and for an unknown group."""
    if group is not None and group not in GROUPS:
        raise Invalid(f"group: must be one of {', '.join(GROUPS)}")
    snapshot, _ = refresh_snapshot(survey_slug, scope, scope_id, period, now)
    found = snapshot_weighting(snapshot)
    if found is None:
        return []
    position = {int(inv): k for k, inv in enumerate(found.invitation_ids)}
    where = [SurveyInvitation.survey_slug == survey_slug, SurveyInvitation.period == period]
    where.append(
        SurveyInvitation.clinic_id == scope_id
        if scope == "clinic"
        else SurveyInvitation.organisation_id == scope_id
    )
    respondents = db.session.execute(
        select(SurveyResponse.id, SurveyInvitation)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(*where)
    ).all()
    # Each respondent's place in the weighting; a response of someone the weighting does
    # not count (no Friends and Family answer where that decides) is left out.
    rows = [(rid, inv) for rid, inv in respondents if inv.id in position]
    if not rows:
        return []
    index = {rid: position[inv.id] for rid, inv in rows}
    size = len(found.invitation_ids)
    comments = db.session.execute(
        select(ThemeComment.id, ThemeComment.response_id, ThemeComment.confirmed_at).where(
            ThemeComment.response_id.in_(list(index))
        )
    ).all()
    # Respondents the weighting counts but whose response is not here stay in the design
    # with no value (NaN), as an uncoded comment does.
    missing = np.ones(size, dtype=bool)
    missing[list(index.values())] = False
    uncoded = np.zeros(size, dtype=bool)
    for _, response_id, confirmed_at in comments:
        if confirmed_at is None and response_id is not None:
            uncoded[index[response_id]] = True
    codes = db.session.execute(
        select(ThemeComment.response_id, ThemeCode.theme_id)
        .join(ThemeCode, ThemeCode.comment_id == ThemeComment.id)
        .where(ThemeComment.response_id.in_(list(index)), ThemeComment.confirmed_at.is_not(None))
    ).all()
    mentions: dict[int, np.ndarray[Any, Any]] = {}
    for response_id, theme_id in codes:
        if response_id is None:
            continue
        mentions.setdefault(theme_id, np.zeros(size))[index[response_id]] = 1.0
    outside = missing.copy()
    if group is not None:
        for rid, inv in rows:
            outside[index[rid]] = str(getattr(inv, group)) != str(level)
    themes = {
        t.id: t for t in db.session.scalars(select(Theme).where(Theme.id.in_(list(mentions))))
    }
    shares = []
    for theme_id, values in mentions.items():
        values = values.copy()
        values[uncoded | outside] = np.nan
        n = int((~np.isnan(values)).sum())
        theme = themes[theme_id]
        if n < SUPPRESS_BELOW:
            shares.append(
                ThemeShare(theme_id, theme.name, theme.category, n, None, None, None, True)
            )
            continue
        estimate = weighted_proportion(values, found.weighting, ci="logit")
        shares.append(
            ThemeShare(
                theme_id,
                theme.name,
                theme.category,
                n,
                estimate.estimate,
                estimate.ci_low,
                estimate.ci_high,
                False,
            )
        )
    return sorted(shares, key=lambda s: (s.suppressed, -(s.estimate or 0.0), s.name))
