"""An experiment's figures in the staff member's language: the arms with their DNA rates
and Wilson intervals, forest plots of the risk difference and the odds ratio at each
look, progress towards the planned size, the stopping boundary with each look's |z|, and
the decisions recorded. Every figure is a table first (raw numbers, for the CSV) and,
for the charts, the SVG drawn from it. The words come from `experiment_labels`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import ngettext

from app.charts import (
    Bar,
    BarWords,
    Chart,
    Effect,
    Estimate,
    ForestWords,
    Table,
    bar_chart,
    forest_plot,
)
from app.charts.boundary import BoundaryMark, BoundaryWords, boundary_chart
from app.charts.table import Cell, numeric, table
from app.charts.ticks import plain_number, plain_percent
from app.core.distributions import normal_upper_quantile
from app.experiments.analysis import ArmResult
from app.experiments.queries import ExperimentView
from app.web import formats
from app.web.experiment_labels import (
    arm_names,
    decision_label,
    level,
    look_label,
    look_labels,
    percent,
)

# -- tables --------------------------------------------------------------------------------


def arms_table(view: ExperimentView) -> Table:
    """Each arm: appointments assigned, analysed (attended or DNA), DNAs, the DNA rate with
    its Wilson interval, and those cancelled or still awaiting an outcome."""
    confidence = level(view.analysis.alpha)
    rate = numeric(plain_percent)
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        _("Arm"),
        (_("Assigned"), numeric(plain_number)),
        (_("Attended or DNA"), numeric(plain_number)),
        (_("DNA"), numeric(plain_number)),
        (_("DNA rate"), rate),
        (_("Lower limit (%(level)s%%)", level=confidence), rate),
        (_("Upper limit (%(level)s%%)", level=confidence), rate),
        (_("Cancelled"), numeric(plain_number)),
        (_("Awaiting an outcome"), numeric(plain_number)),
    ]
    rows: list[list[Cell]] = [_arm_row(arm) for arm in view.analysis.arms]
    return table(headings, rows)


def _arm_row(arm: ArmResult) -> list[Cell]:
    return [
        arm.arm,
        arm.assigned,
        arm.n,
        arm.dna,
        arm.rate,
        arm.low,
        arm.high,
        arm.cancelled,
        arm.pending,
    ]


def decisions_table(view: ExperimentView) -> Table:
    """Each recorded decision: when, what, how far the experiment had got, the p-value
    of that look, and the reasons recorded with it."""
    headings: list[tuple[str, Callable[[Cell], str]] | str] = [
        _("Decided"),
        _("Decision"),
        (_("Share of the planned size"), numeric(plain_percent)),
        (_("Analysed per arm"), numeric(plain_number)),
        (_("p-value"), numeric(lambda value: f"{value:.3g}")),
        _("Reasons"),
    ]
    rows: list[list[Cell]] = []
    for decision in view.decisions:
        comparison = decision.analysis.get("comparison") or {}
        rows.append(
            [
                formats.when_text(decision.decided_at),
                decision_label(decision.decision),
                decision.information_fraction,
                decision.n_per_arm,
                comparison.get("p_value"),
                "; ".join(decision.reasons),
            ]
        )
    return table(headings, rows)


def tables(view: ExperimentView) -> dict[str, Table]:
    """The page's tables that have no chart, by name."""
    return {"arms": arms_table(view), "decisions": decisions_table(view)}


# -- charts --------------------------------------------------------------------------------


def _forest_words(alpha: float) -> ForestWords:
    confidence = level(alpha)
    return ForestWords(
        row=_("Look"),
        estimate=_("Estimate"),
        lower=_("Lower limit (%(level)s%%)", level=confidence),
        upper=_("Upper limit (%(level)s%%)", level=confidence),
        interval_heading=_("Estimate (%(level)s%% interval)", level=confidence),
        interval=_("{estimate} ({low} to {high})"),
        no_bound=_("no limit"),
        summary=_(
            "Forest plot of {measure} with %(level)s%% intervals for {count} looks; "
            "intervals clear of no difference ({null}): {clear}.",
            level=confidence,
        ),
    )


def _look_rows(view: ExperimentView, effect: Effect) -> list[Estimate]:
    rows = []
    for number, look in enumerate(view.looks, start=1):
        if look.effects is None:
            continue
        label = _(
            "%(look)s (%(share)s of plan)",
            look=look_label(look, number),
            share=percent(look.fraction),
        )
        found = look.effects
        if effect is Effect.RISK_DIFFERENCE:
            rows.append(Estimate(label, found.risk_difference, found.rd_low, found.rd_high))
        elif found.odds_ratio is not None:
            rows.append(Estimate(label, found.odds_ratio, found.or_low, found.or_high))
    return rows


def _without_odds_ratio(view: ExperimentView) -> int:
    """Looks with a comparison but no odds ratio (an arm without any DNA)."""
    return sum(look.effects is not None and look.effects.odds_ratio is None for look in view.looks)


def _favours(view: ExperimentView) -> tuple[str, str]:
    control, treatment = arm_names(view)
    return (
        _("Fewer DNAs with %(arm)s", arm=treatment),
        _("Fewer DNAs with %(arm)s", arm=control),
    )


def risk_difference_chart(view: ExperimentView) -> Chart | None:
    """The difference in DNA rate (B minus A) at each look; None before any comparison."""
    rows = _look_rows(view, Effect.RISK_DIFFERENCE)
    if not rows:
        return None
    control, treatment = arm_names(view)
    return forest_plot(
        rows,
        title=_("Difference in DNA rate at each look"),
        effect=Effect.RISK_DIFFERENCE,
        measure=_("DNA rate of %(b)s minus %(a)s", b=treatment, a=control),
        prefix="risk-difference",
        favours=_favours(view),
        words=_forest_words(view.analysis.alpha),
    )


def odds_ratio_chart(view: ExperimentView) -> Chart | None:
    """The odds ratio of DNA (B against A) at each look; None before any comparison."""
    rows = _look_rows(view, Effect.ODDS_RATIO)
    if not rows:
        return None
    control, treatment = arm_names(view)
    return forest_plot(
        rows,
        title=_("Odds ratio of DNA at each look"),
        effect=Effect.ODDS_RATIO,
        measure=_("Odds of DNA with %(b)s against %(a)s", b=treatment, a=control),
        prefix="odds-ratio",
        favours=_favours(view),
        words=_forest_words(view.analysis.alpha),
    )


def progress_chart(view: ExperimentView) -> Chart:
    """Each arm's appointments with an outcome (attended or DNA) against the planned
    size per arm."""
    planned = view.experiment.planned_n_per_arm
    bars = [
        Bar(
            arm.arm,
            float(arm.n),
            note=_(
                "%(n)s of %(planned)s (%(share)s)",
                n=plain_number(arm.n),
                planned=plain_number(planned),
                share=percent(min(1.0, arm.n / planned)),
            ),
        )
        for arm in view.analysis.arms
    ]
    return bar_chart(
        bars,
        title=_("Progress towards the planned size"),
        measure=_("Appointments attended or DNA"),
        prefix="progress",
        percent=False,
        reference=(_("Planned per arm"), float(planned)),
        words=BarWords(
            group=_("Arm"),
            lower=_("Lower limit"),
            upper=_("Upper limit"),
            note=_("Of the planned size"),
            reference=_("{label}: {value}"),
            whisker=_("Line: interval"),
            summary=_(
                "Bar chart of {measure} for {count} arms, from {lowest} ({lowest_value}) to "
                "{highest} ({highest_value})."
            ),
            bar=_("{label}: {value}"),
            bar_interval=_("{label}: {value} ({low} to {high})"),
        ),
    )


def boundary_marks(view: ExperimentView) -> list[BoundaryMark]:
    """The boundary path with each look's |z| and name."""
    labels = look_labels(view.looks)
    return [
        BoundaryMark(
            point.fraction,
            point.boundary,
            point.observed,
            labels.get(point.fraction, "") if point.observed is not None else "",
        )
        for point in view.boundary
    ]


def boundary(view: ExperimentView) -> Chart:
    """The O'Brien–Fleming boundary over the share of the planned size, with each look."""
    alpha = view.experiment.alpha
    final = normal_upper_quantile(alpha / 2)
    return boundary_chart(
        boundary_marks(view),
        title=_("Stopping boundary and each look"),
        prefix="boundary",
        reference=(
            _("|z| %(z)s: one analysis at the end", z=f"{final:.2f}"),
            final,
        ),
        words=BoundaryWords(
            fraction=_("Share of the planned size"),
            look=_("Look"),
            boundary=_("Stopping boundary |z|"),
            observed=_("Observed |z|"),
            crossed=_("Boundary reached"),
            yes=_("Yes"),
            no=_("No"),
            line=_("Stopping boundary"),
            below=_("Look: boundary not reached"),
            above=_("Look: boundary reached"),
            measure="|z|",
            point=_("{label} at {fraction}: |z| {observed}, boundary {boundary}"),
            unbounded=_("none possible yet"),
            summary=_(
                "Stopping boundary by share of the planned size, from |z| {start} at "
                "{first} to {end} at {last}; {looks} looks, {crossed} reaching it."
            ),
        ),
    )


def charts(view: ExperimentView) -> dict[str, Chart]:
    """The page's charts that have data, by name (in the order the page shows them)."""
    found: dict[str, Chart | None] = {
        "risk-difference": risk_difference_chart(view),
        "odds-ratio": odds_ratio_chart(view),
        "progress": progress_chart(view),
        "boundary": boundary(view),
    }
    return {name: chart for name, chart in found.items() if chart is not None}


def notes(view: ExperimentView) -> dict[str, str]:
    """A line under a chart's heading where the chart leaves something out, by name."""
    missing = _without_odds_ratio(view)
    if not missing:
        return {}
    return {
        "odds-ratio": str(
            ngettext(
                "%(num)d look has no odds ratio: an arm had no DNA, so it cannot be estimated.",
                "%(num)d looks have no odds ratio: an arm had no DNA, so it cannot be estimated.",
                missing,
            )
        )
    }
