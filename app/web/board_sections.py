"""The board report's sections, each built from what the dashboards read (stored daily
counts and results snapshots, the experiments' analyses) for one organisation and month,
and only for the clinics the reader's `Reach` allows: attendance, patient experience,
who is not heard, experiments, and the front page's table of every clinic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from app.attendance.board import DnaChart
from app.attendance.periods import next_month
from app.attendance.service import dna_board, dna_funnel, experiment_counts_view
from app.charts import Chart, Table
from app.charts.table import Cell, numeric, table
from app.charts.ticks import plain_percent
from app.clinics.models import Clinic, Organisation
from app.core.clock import Clock
from app.experiments.models import ExperimentStatus
from app.experiments.queries import experiments_within
from app.results.models import ResultSnapshot
from app.results.queries import Place, monthly_snapshots, surveys_and_months
from app.results.questions import SUPPRESS_BELOW
from app.surveys.queries import survey_titles
from app.web import attendance_board as board
from app.web import (
    attendance_charts,
    experiment_charts,
    experiment_labels,
    results_view,
)
from app.web import results_labels as result_words
from app.web.attendance_labels import month_name
from app.web.goal_charts import goals_board

__all__ = [
    "Figure",
    "Reach",
    "Section",
    "attendance_section",
    "experiments_section",
    "goals_section",
    "headline",
    "results_sections",
]

_VIEW_BOX = re.compile(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"')
#: How many months each clinic's XmR chart shows, the report's month last.
CHART_MONTHS = 24
#: How many months the funnel plot pools, the report's month last.
FUNNEL_MONTHS = 12
#: How many months the results trends show, the report's month last.
TREND_MONTHS = 13


@dataclass(frozen=True)
class Reach:
    """What a report may show: the clinics of each area (each a subset of the
    organisation's), and whether results may be shown for the organisation as a whole
    (only when the reader's results permission reaches all its clinics)."""

    attendance: Sequence[Clinic]
    results: Sequence[Clinic]
    experiments: Sequence[Clinic]
    whole_organisation_results: bool
    goals: Sequence[Clinic] = ()


@dataclass(frozen=True)
class Figure:
    """A chart in the report, with a line about it."""

    chart: Chart
    note: str = ""

    @property
    def tall(self) -> bool:
        """Whether the chart is taller than wide (a long forest plot): it gets a page's
        height, where others are kept low enough for two to a page."""
        found = _VIEW_BOX.search(self.chart.svg)
        return found is not None and float(found.group(2)) > float(found.group(1))


@dataclass
class Section:
    """A part of the report: its title, paragraphs, highlighted lines and charts."""

    title: str
    summary: list[str] = field(default_factory=list)
    callouts: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    #: What the section says when it has nothing to show.
    empty: str = ""


# -- attendance -----------------------------------------------------------------------------


def _months_back(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1)


def attendance_section(
    clinics: Sequence[Clinic], first: date, clock: Clock
) -> tuple[Section, list[board.BoardRow]]:
    section = Section(
        _("Attendance"),
        empty=_("No clinic's attendance is recorded for these months."),
    )
    if not clinics:
        section.empty = _("This report does not cover attendance.")
        return section, []
    ids = [clinic.id for clinic in clinics]
    charts: dict[int, DnaChart] = dna_board(ids, _months_back(first, CHART_MONTHS), first, clock)
    rows = [board.BoardRow(clinic, charts.get(clinic.id)) for clinic in clinics]
    section.summary.append(
        _(
            "The share of appointments attended or missed that were missed (DNA), by month. "
            "Each clinic's chart follows the NHS \u201cMaking Data Count\u201d rules: the "
            "mean, process limits, and points coloured where something other than chance "
            "is at work."
        )
    )
    signals = [row for row in rows if row.xmr is not None and _special(row)]
    for row in signals:
        section.callouts.append(
            _("%(clinic)s: %(variation)s", clinic=row.clinic.name, variation=row.variation)
        )
    if any(row.chart is not None for row in rows):
        section.figures.append(
            Figure(_chart_of_table(_("DNA rate by clinic"), board.board_table(rows)))
        )
    funnel = dna_funnel(ids, _months_back(first, FUNNEL_MONTHS), first, clock)
    plot = attendance_charts.dna_funnel_plot(funnel)
    if plot is not None:
        section.figures.append(
            Figure(
                plot,
                _(
                    "%(first)s to %(last)s. Clinics outside the outer limits differ from "
                    "the pooled rate by more than chance would explain.",
                    first=month_name(funnel.first_month),
                    last=month_name(funnel.last_month),
                ),
            )
        )
    for index, row in enumerate(rows):
        if row.chart is None:
            continue
        chart = attendance_charts.dna_spc(row.chart, row.clinic.name, prefix=f"dna{index}")
        if chart is not None:
            section.figures.append(Figure(chart, row.variation))
    return section, rows


def _special(row: board.BoardRow) -> bool:
    xmr = row.xmr
    return xmr is not None and str(xmr.variation_type) != "common_cause"


def _chart_of_table(title: str, data: Table) -> Chart:
    """A table shown on its own: a chart with no picture."""
    return Chart(svg="", table=data, title=title, description="")


# -- results --------------------------------------------------------------------------------


def _period(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def _trend(first: date) -> list[str]:
    start = _months_back(first, TREND_MONTHS)
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
                _chart_of_table(
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


# -- experiments ----------------------------------------------------------------------------


def experiments_section(clinics: Sequence[Clinic], first: date, clock: Clock) -> Section:
    """Every experiment within the clinics that was running during the month: started
    before it ended, and still running or changed (stopped, adopted) since it began."""
    section = Section(
        _("Experiments"),
        empty=_("No wording experiment ran in %(month)s.", month=month_name(first)),
    )
    if not clinics:
        section.empty = _("This report does not cover experiments.")
        return section
    ids = [clinic.id for clinic in clinics]
    end = next_month(first)
    for experiment in experiments_within(ids):
        if experiment.status is ExperimentStatus.DRAFT or experiment.starts_at.date() >= end:
            continue
        if (
            experiment.status is not ExperimentStatus.RUNNING
            and experiment.updated_at.date() < first
        ):
            continue
        view = experiment_counts_view(experiment.id, ids, clock)
        where = experiment_labels.standing(view)
        section.callouts.append(
            _(
                "%(name)s (%(state)s): %(why)s",
                name=experiment.title,
                state=experiment_labels.state_label(experiment.status),
                why=where.why if where is not None else _("no look yet."),
            )
        )
        arms = experiment_charts.arms_table(view)
        section.figures.append(
            Figure(_chart_of_table(_("Arms of %(name)s", name=experiment.title), arms))
        )
        notes = experiment_charts.notes(view)
        for name, chart in experiment_charts.charts(view).items():
            section.figures.append(Figure(chart, notes.get(name) or experiment.title))
    return section


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


# -- goals ----------------------------------------------------------------------------------


def goals_section(clinics: Sequence[Clinic], first: date) -> Section:
    """Goal outcomes of the clinics over the twelve months to the month: reliable
    improvement and mean change, weighted, overall and by group."""
    section = Section(_("Goals that matter to patients"))
    if not clinics:
        section.empty = _("This report does not cover goals.")
        return section
    found = goals_board(clinics, first)
    section.summary.extend(found.summary)
    section.figures.extend(Figure(chart) for chart in found.charts)
    section.empty = found.empty
    return section
