"""The board report's sections on survey results (patient experience, who is not heard)
and its front page's table of every clinic, built from the stored results snapshots for
one organisation and month and only for the clinics the reader's `Reach` allows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _

from app.attendance.periods import next_month
from app.charts import Table
from app.charts.table import Cell, numeric, table
from app.charts.ticks import plain_percent
from app.clinics.models import Clinic, Organisation
from app.results.models import ResultSnapshot
from app.results.queries import Place, monthly_snapshots, surveys_and_months
from app.results.questions import SUPPRESS_BELOW
from app.surveys.queries import survey_titles
from app.web import attendance_board as board
from app.web import results_labels as result_words
from app.web import results_view
from app.web.attendance_labels import month_name
from app.web.board_sections import (
    TREND_MONTHS,
    Figure,
    Reach,
    Section,
    chart_of_table,
    months_back,
)

__all__ = ["headline", "results_sections"]


def _period(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def _trend(first: date) -> list[str]:
    start = months_back(first, TREND_MONTHS)
    periods = []
    month = start
    while month <= first:
        periods.append(_period(month))
        month = next_month(month)
    return periods


def results_sections(
    organisation: Organisation, reach: Reach, first: date
) -> tuple[Section, Section, dict[int, ResultSnapshot]]:
    results = Section(_("Patient experience"))
    heard = Section(_("Who is not heard"))
    period = _period(first)
    if not reach.results:
        results.empty = heard.empty = _("This report does not cover survey results.")
        return results, heard, {}
    clinic_results = _clinic_snapshots(reach.results, period)
    if reach.whole_organisation_results:
        place = Place("organisation", organisation.id)
        surveys = [s for s, months in sorted(surveys_and_months(place).items()) if period in months]
        titles = survey_titles([clinic.id for clinic in reach.results])
        for index, survey in enumerate(surveys):
            _survey_figures(results, heard if index == 0 else None, place, survey, first, titles)
    else:
        results.summary.append(
            _(
                "Results for the organisation as a whole are left out: this report covers "
                "only some of its clinics."
            )
        )
    if clinic_results:
        results.figures.append(
            Figure(
                chart_of_table(
                    _("Friends and Family Test by clinic, %(month)s", month=month_name(first)),
                    _clinic_table(reach.results, clinic_results),
                )
            )
        )
    results.empty = _("No survey has results for %(month)s.", month=month_name(first))
    heard.empty = _(
        "No survey has results for the organisation for %(month)s.", month=month_name(first)
    )
    return results, heard, clinic_results


def _survey_figures(
    results: Section,
    heard: Section | None,
    place: Place,
    survey: str,
    first: date,
    titles: dict[str, Any],
) -> None:
    periods = _trend(first)
    rows = monthly_snapshots(place, survey, periods[0], periods[-1])
    snapshots = {row.period: row for row in rows}
    periods = periods[min((periods.index(p) for p in snapshots), default=len(periods) - 1) :]
    month = results_view.Month(periods, snapshots)
    chosen = month.chosen
    name = result_words.survey_name(survey, titles.get(survey))
    if chosen is not None:
        results.summary.append(_fft_sentence(name, chosen))
    for chart in results_view.results_figures(month).values():
        results.figures.append(Figure(chart, name))
    if heard is None or chosen is None:
        return
    heard.summary.append(
        _(
            "Response to the %(survey)s by group, against everyone invited. A group is "
            "flagged when even the top of its 95%% interval is below half the rate of "
            "everyone else.",
            survey=name,
        )
    )
    for flagged in results_view.flagged_views(chosen):
        heard.callouts.append(f"{flagged.group}: {flagged.rate}. {flagged.advice}")
    for chart in results_view.heard_figures(month).values():
        heard.figures.append(Figure(chart))


def _fft(snapshot: ResultSnapshot | None) -> dict[str, Any] | None:
    """The weighted FFT positive share of a snapshot with its interval and counts, or
    None where it has none to show (no responses, or fewer than the minimum)."""
    if snapshot is None:
        return None
    positive = snapshot.estimates.get("fft_positive")
    if not positive or positive.get("suppressed"):
        return None
    weighted = positive["weighted"]
    return {
        "estimate": weighted["estimate"],
        "low": weighted["ci_low"],
        "high": weighted["ci_high"],
        "responses": snapshot.diagnostics.get("responses"),
        "invited": snapshot.diagnostics.get("invited"),
    }


def _fft_sentence(survey: str, snapshot: ResultSnapshot) -> str:
    found = _fft(snapshot)
    if found is None:
        return str(
            _(
                "%(survey)s: fewer than %(count)s responses this month, so no figure is shown.",
                survey=survey,
                count=SUPPRESS_BELOW,
            )
        )
    return str(
        _(
            "%(survey)s: %(positive)s of patients would rate their care as good, weighted to "
            "everyone invited (95%% interval %(low)s to %(high)s), from %(responded)s "
            "responses of %(invited)s invited.",
            survey=survey,
            positive=result_words.percent(found["estimate"]),
            low=result_words.percent(found["low"]),
            high=result_words.percent(found["high"]),
            responded=found["responses"],
            invited=found["invited"],
        )
    )


def _clinic_snapshots(clinics: Sequence[Clinic], period: str) -> dict[int, ResultSnapshot]:
    found: dict[int, ResultSnapshot] = {}
    for clinic in clinics:
        survey = clinic.survey_slug or "fft"
        rows = monthly_snapshots(Place("clinic", clinic.id), survey, period, period)
        if rows:
            found[clinic.id] = rows[-1]
    return found


def _clinic_table(clinics: Sequence[Clinic], snapshots: dict[int, ResultSnapshot]) -> Table:
    rows: list[list[Cell]] = []
    for clinic in clinics:
        snapshot = snapshots.get(clinic.id)
        found = _fft(snapshot) or {}
        diagnostics = snapshot.diagnostics if snapshot is not None else {}
        rows.append(
            [
                clinic.name,
                diagnostics.get("invited"),
                diagnostics.get("responses"),
                found.get("estimate"),
                found.get("low"),
                found.get("high"),
            ]
        )
    share = numeric(plain_percent)
    return table(
        [
            _("Clinic"),
            _("Invited"),
            _("Responded"),
            (_("Good or very good (weighted)"), share),
            (_("Lower limit (95%)"), share),
            (_("Upper limit (95%)"), share),
        ],
        rows,
    )


# -- the front page -------------------------------------------------------------------------


def headline(rows: list[board.BoardRow], results: dict[int, ResultSnapshot]) -> Table | None:
    """The front page's table: each clinic's latest DNA rate, its variation and
    assurance, and its weighted FFT for the month."""
    if not rows and not results:
        return None
    lines: list[list[Cell]] = []
    for row in rows:
        latest = row.latest
        found = _fft(results.get(row.clinic.id)) or {}
        lines.append(
            [
                row.clinic.name,
                latest.rate if latest is not None else None,
                row.variation,
                row.assurance,
                found.get("estimate"),
            ]
        )
    share = numeric(plain_percent)
    return table(
        [
            _("Clinic"),
            (_("DNA rate, latest month"), share),
            _("Variation"),
            _("Assurance"),
            (_("Friends and Family Test: good (weighted)"), share),
        ],
        lines,
    )
