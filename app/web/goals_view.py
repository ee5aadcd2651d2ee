"""How a patient's goals read on staff pages: each goal's words, its state, its latest
score and change since the first, and its scores over time as a small chart (with the
table of its numbers), in the staff member's language.

The chart is drawn from the goal's scores (`app.charts.line_chart`, 0 to 10 always on
its axis), one point per score, labelled by the day it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.charts import Chart, Series, line_chart
from app.goals.change import HIGHEST, LOWEST, RELIABLE_CHANGE, Change
from app.goals.queries import GoalLine, PatientGoals, Replying
from app.web.casework_labels import Labels, label
from app.web.chart_files import ChartBlock
from app.web.results_charts import line_words

#: How each kind of change reads.
CHANGES: Labels = {
    Change.IMPROVED: _l("Reliable improvement"),
    Change.NO_RELIABLE_CHANGE: _l("No reliable change"),
    Change.DETERIORATED: _l("Reliable deterioration"),
    Change.NO_FOLLOW_UP: _l("No follow-up yet"),
    Change.NOT_SCORED: _l("Not scored yet"),
}
#: The tag colour of each kind of change.
CHANGE_COLOURS = {
    Change.IMPROVED: "green",
    Change.NO_RELIABLE_CHANGE: "blue",
    Change.DETERIORATED: "red",
    Change.NO_FOLLOW_UP: "grey",
    Change.NOT_SCORED: "grey",
}
CLOSE_REASONS: Labels = {
    "reached": _l("Reached"),
    "changed": _l("Changed"),
    "dropped": _l("Dropped"),
}
SOURCES: Labels = {
    "reply": _l("by text"),
    "keypad": _l("on the telephone keypad"),
    "web_form": _l("on the web form"),
    "staff": _l("with the clinician"),
}


@dataclass(frozen=True)
class GoalCard:
    """One goal as a page shows it."""

    goal: GoalLine
    chart: ChartBlock | None

    @property
    def kind(self) -> Change:
        return self.goal.kind

    @property
    def change_label(self) -> str:
        return label(CHANGES, self.goal.kind)

    @property
    def colour(self) -> str:
        return CHANGE_COLOURS[self.goal.kind]

    @property
    def closed_label(self) -> str:
        """Why the goal was closed ("Reached"); "" while it is open."""
        if self.goal.close_reason is None:
            return ""
        return label(CLOSE_REASONS, self.goal.close_reason.value)

    @property
    def latest_text(self) -> str:
        latest = self.goal.progress.latest
        if latest is None:
            return str(_("Not scored yet"))
        return str(_("%(score)s out of 10", score=latest))

    @property
    def change_number(self) -> str:
        """The change since the first score with its sign ("+4"); "" before a follow-up."""
        change = self.goal.progress.change
        return "" if change is None else f"{change:+d}"

    @property
    def change_text(self) -> str:
        """The change since the first score, with its sign: "+4 since the first score"."""
        if not self.change_number:
            return ""
        return str(_("%(change)s since the first score", change=self.change_number))


@dataclass(frozen=True)
class GoalsPanel:
    """The goals section of a timeline."""

    cards: list[GoalCard]
    replying: Replying
    may_open: bool
    may_edit: bool

    @property
    def open(self) -> list[GoalCard]:
        return [c for c in self.cards if c.goal.is_open]

    @property
    def closed(self) -> list[GoalCard]:
        return [c for c in self.cards if not c.goal.is_open]


def goals_panel(found: PatientGoals, zone: str, *, may_edit: bool) -> GoalsPanel:
    """The goals section of a patient's timeline, each goal with its small chart."""
    cards = [GoalCard(g, _block(g, zone, compact=True)) for g in found.goals]
    return GoalsPanel(cards, found.replying, found.may_open, may_edit)


def goal_card(goal: GoalLine, zone: str) -> GoalCard:
    """One goal with its chart at full size (the page turned toward the patient)."""
    return GoalCard(goal, _block(goal, zone, compact=False))


def _block(goal: GoalLine, zone: str, *, compact: bool) -> ChartBlock | None:
    chart = goal_chart(goal, zone, compact=compact)
    if chart is None:
        return None
    return ChartBlock(f"goal-{goal.id}{'' if compact else '-large'}", chart, "", "")


def goal_chart(goal: GoalLine, zone: str, *, compact: bool = True) -> Chart | None:
    """The goal's scores over time, 0 (not at all) to 10 (reached); None before the
    first score."""
    if not goal.scores:
        return None
    days = [_day(s.at, zone) for s in goal.scores]
    labels = [
        f"{day} ({index})" if days.count(day) > 1 else day for index, day in enumerate(days, 1)
    ]
    series = Series(_("Score"), [float(s.score) for s in goal.scores])
    return line_chart(
        labels,
        [series],
        title=_("How close to the goal, from 0 (not at all) to 10 (reached)"),
        measure=_("Score"),
        prefix=f"goal-{goal.id}{'' if compact else '-large'}",
        percent=False,
        height=220 if compact else 360,
        words=line_words(),
        value_range=(float(LOWEST), float(HIGHEST)),
    )


def _day(instant: datetime, zone: str) -> str:
    return str(format_datetime(instant.astimezone(ZoneInfo(zone)), "d MMM", rebase=False))


def reliable_change_text() -> str:
    """What "reliable" means, for a hint."""
    return str(
        _(
            "A change of %(points)s points or more is reliable: more than the score moves "
            "by chance (the Goal Based Outcomes tool's reliable change index).",
            points=RELIABLE_CHANGE,
        )
    )
