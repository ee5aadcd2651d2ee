"""The goal outcomes' charts and tables, in the staff member's language, and the figures
the board report takes (`goals_board`).

- Goals by change since the first score: every goal of the cohort, "no follow-up yet"
  and "not scored yet" included (shares of all goals, with their counts).
- The share of followed-up goals with reliable improvement by age band, ethnic group,
  language and deprivation quintile, with 95% intervals, weighted like the headline
  figure; a group with fewer than 10 followed-up goals is left out and the page says so.
- The figures by group as one table (CSV download), the mean change included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from app.attendance.periods import next_month
from app.charts import Bar, Chart, Table, bar_chart
from app.charts.table import Cell, numeric, table
from app.charts.ticks import plain_number, plain_percent
from app.clinics.models import Clinic
from app.goals.change import RELIABLE_CHANGE, Change, Figure
from app.goals.outcomes import (
    CHANGE_ORDER,
    GROUPS,
    SUPPRESS_BELOW,
    Outcomes,
    shown_improved,
    shown_mean_change,
)
from app.goals.queries import service_outcomes
from app.web import goals_view
from app.web import results_labels as words
from app.web.casework_labels import label
from app.web.results_charts import bar_words

#: How many months a board report's goals cover, its month last.
BOARD_MONTHS = 12


def period_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants a period of whole months runs between: [first day, day after last)."""
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    end_month = next_month(last)
    return start, datetime(end_month.year, end_month.month, 1, tzinfo=UTC)


def change_chart(outcomes: Outcomes) -> Chart | None:
    """Every goal by its change since the first score, as shares of all goals."""
    goals = outcomes.tally.goals
    if not goals:
        return None
    bars = []
    for kind in CHANGE_ORDER:
        count = outcomes.tally.counts.get(kind, 0)
        note = ngettext("%(num)d goal", "%(num)d goals", count)
        bars.append(Bar(label(goals_view.CHANGES, kind), count / goals, note=note))
    return bar_chart(
        bars,
        title=_("Goals by change since the first score"),
        measure=_("Share of all goals"),
        prefix="goal-changes",
        words=bar_words(_("Change")),
    )


def improved_chart(outcomes: Outcomes, variable: str) -> Chart | None:
    """The share of followed-up goals with reliable improvement in each level of
    `variable` that has enough of them to show; None when none has."""
    bars = [
        Bar(
            words.level_name(variable, row.level),
            row.improved.estimate,
            row.improved.low,
            row.improved.high,
            ngettext("%(num)d followed up", "%(num)d followed up", row.followed_up),
        )
        for row in outcomes.groups.get(variable, [])
        if row.improved is not None
    ]
    if not bars:
        return None
    overall = shown_improved(outcomes)
    reference = (_("All goals"), overall.estimate) if overall is not None else None
    return bar_chart(
        bars,
        title=_(
            "Goals with reliable improvement, by %(group)s",
            group=words.variable_name(variable).lower(),
        ),
        measure=_("Share of followed-up goals"),
        prefix=f"goal-improved-{variable.replace('_', '-')}",
        reference=reference,
        words=bar_words(words.variable_name(variable)),
    )


def group_table(outcomes: Outcomes) -> Table:
    """Every group's goals, follow-ups and figures (suppressed ones blank)."""
    share, points = numeric(plain_percent), numeric(plain_number)
    rows: list[list[Cell]] = []
    for variable in GROUPS:
        for row in outcomes.groups.get(variable, []):
            rows.append(
                [
                    words.variable_name(variable),
                    words.level_name(variable, row.level),
                    row.goals,
                    row.followed_up,
                    *_figure_cells(row.improved),
                    *_figure_cells(row.mean_change),
                ]
            )
    return table(
        [
            _("Group"),
            _("Level"),
            (_("Goals"), points),
            (_("Followed up"), points),
            (_("Reliable improvement"), share),
            (_("Lower limit"), share),
            (_("Upper limit"), share),
            (_("Mean change (points)"), points),
            (_("Lower limit"), points),
            (_("Upper limit"), points),
        ],
        rows,
    )


def _figure_cells(figure: Figure | None) -> list[Cell]:
    if figure is None:
        return [None, None, None]
    return [figure.estimate, figure.low, figure.high]


def headline(outcomes: Outcomes) -> list[str]:
    """The outcomes in sentences, as a page or the board report leads with them."""
    tally = outcomes.tally
    lines = [
        _(
            "%(goals)s goals of %(patients)s patients: %(followed)s with a follow-up score, "
            "%(waiting)s with no follow-up yet and %(unscored)s not scored yet.",
            goals=tally.goals,
            patients=outcomes.patients,
            followed=tally.followed_up,
            waiting=tally.counts.get(Change.NO_FOLLOW_UP, 0),
            unscored=tally.counts.get(Change.NOT_SCORED, 0),
        )
    ]
    improved, change = shown_improved(outcomes), shown_mean_change(outcomes)
    if outcomes.suppressed or improved is None or change is None:
        lines.append(
            _(
                "Fewer than %(count)s goals have a follow-up score: too few for a figure.",
                count=SUPPRESS_BELOW,
            )
        )
    else:
        lines.append(
            _(
                "%(share)s of followed-up goals improved reliably (by %(points)s points or "
                "more; 95%% interval %(low)s to %(high)s); the mean change from the first "
                "to the latest score was %(mean)s points (%(mean_low)s to %(mean_high)s).",
                share=plain_percent(improved.estimate),
                points=RELIABLE_CHANGE,
                low=plain_percent(improved.low),
                high=plain_percent(improved.high),
                mean=signed(change.estimate),
                mean_low=signed(change.low),
                mean_high=signed(change.high),
            )
        )
    if outcomes.stopped_replying:
        lines.append(
            ngettext(
                "%(num)d patient stopped replying to the questions before appointments.",
                "%(num)d patients stopped replying to the questions before appointments.",
                outcomes.stopped_replying,
            )
        )
    return lines


def signed(points: float) -> str:
    """A change in points with its sign and one decimal: "+1.5", "-0.5"."""
    return f"{points:+.1f}"


def weighting_note(outcomes: Outcomes) -> str:
    """How the figures were weighted, or why they were not."""
    if outcomes.weighted:
        return str(
            _(
                "Weighted to every goal opened in the period by the age band, sex, ethnic group "
                "and deprivation quintile of its patient, as survey results are weighted to "
                "everyone invited: patients who give a follow-up score are not a random few."
            )
        )
    if outcomes.unweighted_reason == "no_follow_up":
        return str(_("No goal has a follow-up score yet, so there is nothing to weight."))
    return str(
        _(
            "Not weighted: too few goals have a follow-up score in some groups to weight "
            "them to all goals. The figures are those of the followed-up goals as they are."
        )
    )


@dataclass(frozen=True)
class GoalsBoard:
    """The goal outcomes of a board report: its sentences, its charts (each with the
    table of its numbers), and what it says when there are no goals."""

    summary: list[str]
    charts: list[Chart] = field(default_factory=list)
    empty: str = ""


def goals_board(clinics: Sequence[Clinic], month: date) -> GoalsBoard:
    """The goal outcomes of `clinics` for a board report of `month`: goals opened in the
    twelve months to it, scores given by its end, weighted as on the goals page."""
    first = date(month.year - 1, month.month, 1)
    first = next_month(first)
    start, end = period_bounds(first, month)
    outcomes = service_outcomes([c.id for c in clinics], start, end)
    if not outcomes.tally.goals:
        return GoalsBoard([], [], _("No goals were opened in the twelve months to this month."))
    charts = [c for c in [change_chart(outcomes)] if c is not None]
    charts += [c for v in GROUPS if (c := improved_chart(outcomes, v)) is not None]
    return GoalsBoard([*headline(outcomes), weighting_note(outcomes)], charts)
