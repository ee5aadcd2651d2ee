"""What the results pages show, shaped from the stored snapshots: every figure by name (the
charts and the tables behind the downloads), each question's figures, and each flagged
group with the suggestion drawn from its response by channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from app.charts import Chart, Table
from app.charts.table import numeric, table
from app.charts.ticks import plain_percent
from app.results.models import ResultSnapshot
from app.results.questions import SUPPRESS_BELOW, SUPPRESSED_REASON
from app.results.suggestions import MIN_INVITED, Advice, ChannelRate, Suggestion, suggestions
from app.web import results_charts as charts
from app.web import results_labels as words

#: The variables whose response rates the "who is not heard" page charts, in order.
HEARD_VARIABLES = tuple(words.VARIABLES)


@dataclass(frozen=True)
class Month:
    """The snapshots a page reads: the chosen month's and those of the months before it."""

    periods: list[str]  # the trend's months, oldest first, the chosen one last
    snapshots: dict[str, ResultSnapshot]  # by period, only months that have one

    @property
    def chosen(self) -> ResultSnapshot | None:
        return self.snapshots.get(self.periods[-1]) if self.periods else None


def suppressed_reason(figure: Mapping[str, Any]) -> str:
    """Why a figure is not shown, in the staff member's language."""
    if figure.get("reason") in (None, SUPPRESSED_REASON.format(count=SUPPRESS_BELOW)):
        return str(_("Not shown: fewer than %(count)s responses.", count=SUPPRESS_BELOW))
    return str(figure["reason"])


# -- survey results -------------------------------------------------------------------------


def results_figures(month: Month) -> dict[str, Chart]:
    """Every chart of the survey results page, by name, in page order."""
    found: dict[str, Chart | None] = {}
    chosen = month.chosen
    if chosen is not None:
        found["fft"] = charts.fft_chart(chosen)
    found["fft-trend"] = charts.fft_trend(month.periods, month.snapshots)
    found["response-trend"] = charts.response_trend(month.periods, month.snapshots)
    for index, question in enumerate(questions_of(chosen)):
        found[f"q{index + 1}"] = charts.question_chart(question, f"q{index + 1}")
    return {name: chart for name, chart in found.items() if chart is not None}


def questions_of(snapshot: ResultSnapshot | None) -> list[Mapping[str, Any]]:
    """The snapshot's questions as stored (none for a version made before every question
    was estimated)."""
    if snapshot is None or not snapshot.questions:
        return []
    return list(snapshot.questions)


@dataclass(frozen=True)
class QuestionView:
    """One question on the results page."""

    name: str  # its chart's name
    text: str
    kind: str
    answered: int
    left_out: str  # "3 skipped, 1 not understood", or ""
    suppressed: str  # why its figures are not shown, or ""
    mean: str  # "3.9 (3.8 to 4.1); unweighted 3.8", or ""

    @property
    def note(self) -> str:
        """How many answered, and how many were left out and why."""
        answered = str(_("%(n)s answered", n=self.answered))
        if not self.left_out:
            return answered
        return str(_("%(answered)s; %(left_out)s", answered=answered, left_out=self.left_out))


def question_views(snapshot: ResultSnapshot | None) -> list[QuestionView]:
    views = []
    for index, question in enumerate(questions_of(snapshot)):
        figures = [
            *(question.get("options") or ()),
            *([question["mean"]] if "mean" in question else []),
        ]
        hidden = next((f for f in figures if f.get("suppressed")), None)
        views.append(
            QuestionView(
                name=f"q{index + 1}",
                text=str(question.get("text") or question.get("id")),
                kind=str(question.get("kind")),
                answered=int(question.get("respondents") or 0),
                left_out=_left_out(question),
                suppressed=suppressed_reason(hidden) if hidden is not None else "",
                mean=_mean_text(question.get("mean")),
            )
        )
    return views


def _left_out(question: Mapping[str, Any]) -> str:
    parts = [
        text % {"n": question.get(key, 0)}
        for key, text in (
            ("skipped", _("%(n)s skipped")),
            ("dont_know", _("%(n)s did not know")),
            ("unparsed", _("%(n)s not understood")),
            ("not_asked", _("%(n)s not asked")),
        )
        if question.get(key)
    ]
    return ", ".join(parts)


def _mean_text(mean: Mapping[str, Any] | None) -> str:
    if not mean or mean.get("suppressed"):
        return ""
    return str(
        _(
            "%(mean)s (95%% interval %(interval)s); unweighted %(plain)s",
            mean=words.mean(mean["estimate"]),
            interval=words.interval(mean.get("lower"), mean.get("upper"), "mean"),
            plain=words.mean(mean.get("unweighted")),
        )
    )


# -- who is not heard -----------------------------------------------------------------------


def heard_figures(month: Month) -> dict[str, Chart]:
    """Every chart of the "who is not heard" page, by name, in page order."""
    found: dict[str, Chart | None] = {}
    chosen = month.chosen
    if chosen is not None:
        for variable in HEARD_VARIABLES:
            found[f"rates-{variable.replace('_', '-')}"] = charts.rate_chart(chosen, variable)
    found["r-indicator"] = charts.r_indicator_trend(month.periods, month.snapshots)
    if chosen is not None:
        found["differences"] = charts.differences_chart(chosen)
    return {name: chart for name, chart in found.items() if chart is not None}


@dataclass(frozen=True)
class FlaggedView:
    """A group far less heard than the rest, and what its figures suggest."""

    group: str
    rate: str
    counts: str
    advice: str
    channels: list[list[str]]  # channel, invited, responded, rate, interval


def flagged_views(snapshot: ResultSnapshot | None) -> list[FlaggedView]:
    if snapshot is None:
        return []
    rows = {(r["variable"], r["level"]): r for r in snapshot.nonresponse.get("levels") or ()}
    return [_flagged(s, rows[(s.variable, s.level)]) for s in suggestions(snapshot.nonresponse)]


def _flagged(suggestion: Suggestion, row: Mapping[str, Any]) -> FlaggedView:
    return FlaggedView(
        group=_group(suggestion.variable, suggestion.level),
        rate=_(
            "%(rate)s answered (95%% interval %(interval)s)",
            rate=words.percent(row["rate"]),
            interval=words.interval(row["ci_low"], row["ci_high"]),
        ),
        counts=_(
            "%(responded)s of %(invited)s", responded=row["responded"], invited=row["invited"]
        ),
        advice=advice_text(suggestion),
        channels=[
            [
                words.channel_name(c.channel),
                str(c.invited),
                str(c.responded),
                words.percent(c.rate),
                words.interval(*c.interval),
            ]
            for c in suggestion.channels
        ],
    )


def _group(variable: str, level: str) -> str:
    return f"{words.variable_name(variable)}: {words.level_name(variable, level)}"


def _rate(rate: ChannelRate) -> dict[str, str]:
    n = _("%(responded)s of %(invited)s", responded=rate.responded, invited=rate.invited)
    return {"rate": plain_percent(rate.rate), "n": n}


def advice_text(suggestion: Suggestion) -> str:
    """The suggestion in a sentence or two, with the figures it is drawn from."""
    usual, best = suggestion.usual, suggestion.best
    if suggestion.advice is Advice.NOT_KEPT:
        return str(
            _(
                "These results were worked out before response by channel was kept for each "
                "group, so there is no suggestion for it."
            )
        )
    if suggestion.advice is Advice.TOO_FEW or usual is None or best is None:
        return str(
            _(
                "Too few of them were invited by any one channel to compare channels (fewer "
                "than %(count)s each).",
                count=MIN_INVITED,
            )
        )
    u, b = _rate(usual), _rate(best)
    u_by, b_by = words.channel_by(usual.channel), words.channel_by(best.channel)
    if suggestion.advice is Advice.ONE_CHANNEL:
        return str(
            _(
                "Almost all of them were invited %(by)s (%(rate)s answered, %(n)s), so there is "
                "no other channel to compare. Try another channel with some of them.",
                by=u_by,
                **u,
            )
        )
    if suggestion.advice is Advice.USUAL_IS_BEST:
        return str(
            _(
                "Invited %(by)s, the way most of them were, they already answer best (%(rate)s, "
                "%(n)s). Look at other reasons: the language of the message, its wording, or "
                "when it is sent.",
                by=u_by,
                **u,
            )
        )
    if suggestion.variable == "channel":
        text = _(
            "Patients invited %(usual_by)s answered at %(usual_rate)s (%(usual_n)s); those "
            "invited %(best_by)s at %(best_rate)s (%(best_n)s). Invite more patients "
            "%(best_by)s.",
            usual_by=u_by,
            usual_rate=u["rate"],
            usual_n=u["n"],
            best_by=b_by,
            best_rate=b["rate"],
            best_n=b["n"],
        )
    else:
        text = _(
            "Invited %(best_by)s, %(best_rate)s of them answered (%(best_n)s); invited "
            "%(usual_by)s, the way most of them were, %(usual_rate)s answered "
            "(%(usual_n)s). Invite more of them %(best_by)s.",
            usual_by=u_by,
            usual_rate=u["rate"],
            usual_n=u["n"],
            best_by=b_by,
            best_rate=b["rate"],
            best_n=b["n"],
        )
    if suggestion.clear:
        gap = _("The 95% intervals of the two rates do not overlap.")
    else:
        gap = _("The numbers are small, so the gap may be chance: try it with some of them first.")
    return f"{text} {gap}"


def flagged_table(snapshot: ResultSnapshot | None) -> Table | None:
    """The flagged groups and their suggestions as a table (for its CSV download)."""
    if snapshot is None:
        return None
    rows = {(r["variable"], r["level"]): r for r in snapshot.nonresponse.get("levels") or ()}
    found = suggestions(snapshot.nonresponse)
    if not found:
        return None
    cell = numeric(plain_percent)
    return table(
        [
            _("Group"),
            (_("Response rate"), cell),
            (_("Lower limit"), cell),
            (_("Upper limit"), cell),
            _("Invited"),
            _("Responded"),
            _("Suggestion"),
        ],
        [
            [
                _group(s.variable, s.level),
                rows[(s.variable, s.level)]["rate"],
                rows[(s.variable, s.level)]["ci_low"],
                rows[(s.variable, s.level)]["ci_high"],
                rows[(s.variable, s.level)]["invited"],
                rows[(s.variable, s.level)]["responded"],
                advice_text(s),
            ]
            for s in found
        ],
    )
