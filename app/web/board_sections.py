"""The board report's sections, each built from what the dashboards read (stored daily
counts and results snapshots, the experiments' analyses) for one organisation and month,
and only for the clinics the reader's `Reach` allows: attendance, experiments and goals
here; patient experience, who is not heard and the front page's table of every clinic in
`board_results`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from app.attendance.board import DnaChart
from app.attendance.periods import next_month
from app.attendance.service import dna_board, dna_funnel, experiment_counts_view
from app.charts import Chart, Table
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.experiments.models import ExperimentStatus
from app.experiments.queries import experiments_within
from app.web import attendance_board as board
from app.web import (
    attendance_charts,
    experiment_charts,
    experiment_labels,
)
from app.web.attendance_labels import month_name
from app.web.goal_charts import goals_board

__all__ = [
    "Figure",
    "Reach",
    "Section",
    "attendance_section",
    "experiments_section",
    "goals_section",
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


def months_back(first: date, count: int) -> date:
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
    charts: dict[int, DnaChart] = dna_board(ids, months_back(first, CHART_MONTHS), first, clock)
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
            Figure(chart_of_table(_("DNA rate by clinic"), board.board_table(rows)))
        )
    funnel = dna_funnel(ids, months_back(first, FUNNEL_MONTHS), first, clock)
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


def chart_of_table(title: str, data: Table) -> Chart:
    """A table shown on its own: a chart with no picture."""
    return Chart(svg="", table=data, title=title, description="")


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
            Figure(chart_of_table(_("Arms of %(name)s", name=experiment.title), arms))
        )
        notes = experiment_charts.notes(view)
        for name, chart in experiment_charts.charts(view).items():
            section.figures.append(Figure(chart, notes.get(name) or experiment.title))
    return section


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
