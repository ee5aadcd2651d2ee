"""The results pages' charts, drawn from stored snapshots in the staff member's language.

Survey results: the Friends and Family Test weighted beside unweighted, its trend over
months, respondents against the invited cohort, and one chart per question. Who is not
heard: response rates by group (Wilson intervals), the R-indicator over months, and the
standardised differences of each group before and after weighting.

Each builder returns None when it has nothing to draw (no snapshot, or every figure
suppressed); a suppressed figure is never drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _

from app.charts import Bar, BarWords, Chart, LineWords, Series, bar_chart, line_chart
from app.charts.dots import Dots, DotWords, dot_plot
from app.results.models import ResultSnapshot
from app.web import results_labels as words


def bar_words(group: str) -> BarWords:
    return BarWords(
        group=group,
        lower=_("Lower limit"),
        upper=_("Upper limit"),
        note=_("Counts"),
        reference=_("{label}: {value}"),
        whisker=_("Line: 95% interval"),
        summary=_(
            "Bar chart of {measure} for {count} groups, from {lowest} ({lowest_value}) to "
            "{highest} ({highest_value})."
        ),
        bar=_("{label}: {value}"),
        bar_interval=_("{label}: {value} ({low} to {high})"),
    )


def line_words() -> LineWords:
    return LineWords(
        period=_("Month"),
        lower=_("{name}: lower limit"),
        upper=_("{name}: upper limit"),
        band=_("Shaded band: 95% interval"),
        summary=_(
            "Line chart of {measure} by {period} from {first} to {last}; in {last}: {latest}."
        ),
        latest=_("{name} {value}"),
        latest_interval=_("{name} {value} ({low} to {high})"),
        no_value=_("{name} no value"),
        point=_("{period}: {name} {value}"),
        point_interval=_("{period}: {name} {value} ({low} to {high})"),
    )


# -- survey results -------------------------------------------------------------------------


def fft_figures(snapshot: ResultSnapshot | None) -> dict[str, Any] | None:
    """The snapshot's FFT positive and negative shares, or None when it has none to show."""
    if snapshot is None:
        return None
    positive = snapshot.estimates.get("fft_positive")
    negative = snapshot.estimates.get("fft_negative")
    if not positive or not negative:
        return None
    return {"positive": positive, "negative": negative}


def fft_chart(snapshot: ResultSnapshot) -> Chart | None:
    """FFT % positive and % negative, weighted and unweighted, with 95% intervals."""
    fft = fft_figures(snapshot)
    if fft is None or fft["positive"]["suppressed"]:
        return None
    bars = []
    for key, name in (("positive", _("Positive")), ("negative", _("Negative"))):
        figure = fft[key]
        note = _("%(n)s responses", n=figure["n"])
        for kind, label in (
            ("weighted", _("%(measure)s, weighted", measure=name)),
            ("unweighted", _("%(measure)s, unweighted", measure=name)),
        ):
            shown = figure[kind]
            bars.append(Bar(label, shown["estimate"], shown["ci_low"], shown["ci_high"], note))
    return bar_chart(
        bars,
        title=_("Friends and Family Test, %(month)s", month=words.month_name(snapshot.period)),
        measure=_("Share of responses"),
        prefix="fft",
        words=bar_words(_("Measure")),
    )


def fft_trend(periods: Sequence[str], snapshots: Mapping[str, ResultSnapshot]) -> Chart | None:
    """FFT % positive (weighted, with its interval, and unweighted) and % negative
    (weighted) by month; suppressed months have no point."""
    columns: dict[str, list[list[float | None]]] = {
        name: [[], [], []] for name in ("pw", "pu", "nw")
    }
    for period in periods:
        fft = fft_figures(snapshots.get(period))
        shown = fft is not None and not fft["positive"]["suppressed"]
        for name, key, kind in (
            ("pw", "positive", "weighted"),
            ("pu", "positive", "unweighted"),
            ("nw", "negative", "weighted"),
        ):
            figure = fft[key][kind] if shown and fft is not None else {}
            columns[name][0].append(figure.get("estimate"))
            columns[name][1].append(figure.get("ci_low"))
            columns[name][2].append(figure.get("ci_high"))
    if all(value is None for value in columns["pw"][0]):
        return None
    series = [
        Series(_("Positive, weighted"), *columns["pw"]),
        Series(_("Positive, unweighted"), columns["pu"][0]),
        Series(_("Negative, weighted"), *columns["nw"]),
    ]
    return line_chart(
        [words.month_label(p) for p in periods],
        series,
        title=_("Friends and Family Test by month"),
        measure=_("Share of responses"),
        prefix="fft-trend",
        words=line_words(),
    )


def response_trend(periods: Sequence[str], snapshots: Mapping[str, ResultSnapshot]) -> Chart | None:
    """How many were invited and how many responded, by month."""
    invited: list[float | None] = []
    responded: list[float | None] = []
    for period in periods:
        found = snapshots.get(period)
        invited.append(None if found is None else found.diagnostics.get("invited"))
        responded.append(None if found is None else found.diagnostics.get("responses"))
    if all(value is None for value in invited):
        return None
    return line_chart(
        [words.month_label(p) for p in periods],
        [Series(_("Invited"), invited), Series(_("Responded"), responded)],
        title=_("Patients invited and patients who responded, by month"),
        measure=_("Patients"),
        prefix="response-trend",
        percent=False,
        words=line_words(),
    )


def question_chart(question: Mapping[str, Any], prefix: str) -> Chart | None:
    """A question's weighted figures: the share choosing each option (choice, yes/no,
    scale) or the mean beside the unweighted mean (number); None when suppressed or a
    free-text question."""
    options = question.get("options")
    if options:
        if any(option.get("suppressed") for option in options):
            return None
        bars = [
            Bar(
                str(option["label"]),
                option["estimate"],
                option.get("lower"),
                option.get("upper"),
                _("%(count)s of %(n)s", count=option.get("count", 0), n=option["respondents"]),
            )
            for option in options
        ]
        return bar_chart(
            bars,
            title=str(question["text"]),
            measure=_("Weighted share of answers"),
            prefix=prefix,
            words=bar_words(_("Answer")),
        )
    mean = question.get("mean")
    if not mean or mean.get("suppressed"):
        return None
    n_text = _("%(n)s answers", n=mean["respondents"])
    bars = [
        Bar(_("Weighted mean"), mean["estimate"], mean.get("lower"), mean.get("upper"), n_text),
        Bar(_("Unweighted mean"), mean["unweighted"], note=n_text),
    ]
    return bar_chart(
        bars,
        title=str(question["text"]),
        measure=_("Mean answer"),
        prefix=prefix,
        percent=False,
        words=bar_words(_("Measure")),
    )


# -- who is not heard -----------------------------------------------------------------------


def level_rows(snapshot: ResultSnapshot, variable: str) -> list[Mapping[str, Any]]:
    """The report's rows of one variable, groups with invitations only."""
    return [
        row
        for row in snapshot.nonresponse.get("levels") or ()
        if row["variable"] == variable and row["invited"]
    ]


def rate_chart(snapshot: ResultSnapshot, variable: str) -> Chart | None:
    """Response rate of each group of `variable`, with Wilson intervals and the overall
    rate as a reference line."""
    rows = [row for row in level_rows(snapshot, variable) if row["rate"] is not None]
    if not rows:
        return None
    bars = [
        Bar(
            words.level_name(variable, row["level"]),
            row["rate"],
            row["ci_low"],
            row["ci_high"],
            _("%(responded)s of %(invited)s", responded=row["responded"], invited=row["invited"]),
        )
        for row in rows
    ]
    overall = snapshot.nonresponse.get("overall_rate")
    name = words.variable_name(variable)
    return bar_chart(
        bars,
        title=_("Response rate by %(group)s", group=name.lower()),
        measure=_("Response rate"),
        prefix=f"rates-{variable.replace('_', '-')}",
        reference=(_("Everyone invited"), overall) if overall is not None else None,
        words=bar_words(name),
    )


def r_indicator_trend(
    periods: Sequence[str], snapshots: Mapping[str, ResultSnapshot]
) -> Chart | None:
    """The R-indicator by month (1 means those who responded are like those invited)."""
    values: list[float | None] = []
    for period in periods:
        found = snapshots.get(period)
        values.append(None if found is None else found.nonresponse.get("r_indicator"))
    if all(value is None for value in values):
        return None
    return line_chart(
        [words.month_label(p) for p in periods],
        [Series(_("R-indicator"), values)],
        title=_("R-indicator by month"),
        measure=_("R-indicator"),
        prefix="r-indicator",
        percent=False,
        words=line_words(),
    )


def differences_chart(snapshot: ResultSnapshot) -> Chart | None:
    """Each group's standardised difference, respondents against everyone invited,
    before and after weighting."""
    rows = [
        Dots(
            f"{words.variable_name(row['variable'])}: "
            f"{words.level_name(row['variable'], row['level'])}",
            (row["std_diff_before"], row["std_diff_after"]),
        )
        for variable in words.VARIABLES
        for row in level_rows(snapshot, variable)
    ]
    rows = [row for row in rows if any(value is not None for value in row.values)]
    if not rows:
        return None
    return dot_plot(
        rows,
        (_("Before weighting"), _("After weighting")),
        title=_("Standardised differences before and after weighting"),
        measure=_("Standardised difference"),
        prefix="differences",
        words=DotWords(
            row=_("Group"),
            point=_("{label}, {series}: {value}"),
            reference=_("Line: {value}"),
            summary=_(
                "Dot plot of {measure} for {count} rows and {series}; the largest in size is "
                "{largest} ({value}, {largest_series})."
            ),
        ),
    )
