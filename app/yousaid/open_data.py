"""The published figures as open data: the organisation's and each of its clinics',
month by month, exactly as the public page shows them (suppressed figures empty)."""

from __future__ import annotations

from typing import Any

from app.clinics.models import Organisation
from app.clinics.queries import clinics_of
from app.results.queries import Place, monthly_snapshots
from app.yousaid.published import (
    SURVEY,
    TREND_MONTHS,
    chosen_survey,
    fft_figure,
    survey_months,
    total_count,
)


def open_data(organisation: Organisation) -> list[dict[str, Any]]:
    """The published figures of the organisation and each of its clinics, month by
    month (the last twelve with results): one row per place and month."""
    rows: list[dict[str, Any]] = []
    places = [("organisation", organisation.id, "", SURVEY)]
    places += [("clinic", c.id, c.slug, chosen_survey(c)) for c in clinics_of([organisation.id])]
    for scope, scope_id, slug, preferred in places:
        place = Place(scope, scope_id)
        survey, months = survey_months(place, preferred)
        if not months:
            continue
        first = months[min(TREND_MONTHS, len(months)) - 1]
        for snapshot in monthly_snapshots(place, survey, first, months[0]):
            figure, total = fft_figure(snapshot), total_count(snapshot)
            rows.append(
                {
                    "organisation": organisation.slug,
                    "clinic": slug,
                    "survey": survey,
                    "period": snapshot.period,
                    "asked": total.asked,
                    "answered": total.answered,
                    "fft_positive": figure.estimate,
                    "ci_low": figure.ci_low,
                    "ci_high": figure.ci_high,
                    "suppressed": figure.suppressed,
                }
            )
    return rows
