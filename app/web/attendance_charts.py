"""The attendance pages' charts, drawn from the attendance service's figures in the staff
member's language: the DNA rate's XmR chart, the funnel plot of clinics, bar charts of
DNA rates by group, reminder exposure and booking lead time, cancellations by notice,
each with the table behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _

from app.attendance.board import DnaChart
from app.attendance.reports import AttendanceReport, FunnelPoint, NoticeRow, Rate
from app.attendance.service import DnaFunnel
from app.charts import (
    Bar,
    BarWords,
    Chart,
    FunnelWords,
    SpcWords,
    Unit,
    bar_chart,
    funnel_plot,
    spc_chart,
)
from app.core.funnel import FunnelLimits
from app.web.attendance_labels import (
    GROUP_TITLES,
    NOTICE,
    level_label,
    month_label,
    month_name,
)


def spc_words() -> SpcWords:
    """The XmR chart's words in the staff member's language."""
    return SpcWords(
        period=_("Month"),
        value=_("DNA rate"),
        mean=_("Mean"),
        lower=_("Lower process limit"),
        upper=_("Upper process limit"),
        limits=_("Process limits"),
        target=_("Target"),
        special_cause=_("Special cause"),
        variation=_("Variation"),
        common_cause=_("Common cause"),
        improvement=_("Special cause improvement"),
        concern=_("Special cause concern"),
        neutral_high=_("Special cause (high)"),
        neutral_low=_("Special cause (low)"),
        above_ucl=_("Above the upper process limit"),
        below_lcl=_("Below the lower process limit"),
        seven_above=_("Run of 7 above the mean"),
        seven_below=_("Run of 7 below the mean"),
        two_in_three_above=_("2 of 3 near the upper limit"),
        two_in_three_below=_("2 of 3 near the lower limit"),
        trend_up=_("Trend of 7 rising"),
        trend_down=_("Trend of 7 falling"),
        no_special_cause=_("None"),
        meets_target=_("the process will consistently meet the target"),
        misses_target=_("the process will consistently miss the target"),
        hit_and_miss=_("the process will sometimes meet and sometimes miss the target"),
        assurance_title=_("Assurance: {assurance}"),
        variation_now=_("Variation now: {kind}"),
        trial=_(
            "Limits from fewer than 13 points are trial limits: they will change as data comes in."
        ),
        point=_("{period}: {value} ({kind})"),
        summary=_(
            "SPC chart of {measure}, {count} points from {first} to {last}: latest mean "
            "{mean}, process limits {lower} to {upper}{target}; {special} special cause "
            "points ({improvement} improvement, {concern} concern); the latest point shows "
            "{variation}{assurance}."
        ),
        summary_target=_(", target {target}"),
        summary_assurance=_(", and {assurance}"),
    )


def dna_spc(chart: DnaChart, clinic_name: str, prefix: str = "dna") -> Chart | None:
    """The clinic's DNA rate by month as an XmR chart; None without any month of data."""
    if chart.xmr is None:
        return None
    return spc_chart(
        chart.xmr,
        [month_label(month) for month in chart.months],
        title=_("DNA rate by month, %(clinic)s", clinic=clinic_name),
        measure=_("DNA rate"),
        prefix=prefix,
        percent=True,
        words=spc_words(),
    )


def _bar_words() -> BarWords:
    return BarWords(
        group=_("Group"),
        lower=_("Lower limit (95%)"),
        upper=_("Upper limit (95%)"),
        note=_("DNA of attended and DNA"),
        reference=_("{label}: {value}"),
        whisker=_("Line: 95% interval"),
        summary=_(
            "Bar chart of {measure} for {count} groups, from {lowest} ({lowest_value}) to "
            "{highest} ({highest_value})."
        ),
        bar=_("{label}: {value}"),
        bar_interval=_("{label}: {value} ({low} to {high})"),
    )


def rate_bars(
    rates: Sequence[Rate],
    group: str,
    *,
    title: str,
    prefix: str,
    overall: Rate | None = None,
) -> Chart | None:
    """DNA rates of a breakdown's levels with their Wilson intervals (levels without any
    attended or DNA appointment left out); None when no level has one."""
    bars = [
        Bar(
            level_label(group, rate.label),
            rate.rate,
            rate.low,
            rate.high,
            _("%(dna)s of %(n)s", dna=rate.dna, n=rate.n),
        )
        for rate in rates
        if rate.rate is not None
    ]
    if not bars:
        return None
    reference = None
    if overall is not None and overall.rate is not None:
        reference = (_("All appointments"), overall.rate)
    return bar_chart(
        bars,
        title=title,
        measure=_("DNA rate"),
        prefix=prefix,
        percent=True,
        reference=reference,
        words=_bar_words(),
    )


def group_charts(report: AttendanceReport) -> list[tuple[str, Chart]]:
    """Each patient-group breakdown with data, as (name, chart)."""
    found = []
    for group, title in GROUP_TITLES.items():
        chart = rate_bars(
            report.groups[group],
            group,
            title=str(title),
            prefix=f"group-{group.replace('_', '-')}",
            overall=report.overall,
        )
        if chart is not None:
            found.append((group, chart))
    return found


def exposure_charts(report: AttendanceReport) -> list[tuple[str, Chart]]:
    """DNA by reminder exposure: by intention to treat (a reminder planned or not), then
    by the furthest step reached; each as (name, chart) when it has data."""
    found = []
    itt = rate_bars(
        report.exposure_itt,
        "exposure",
        title=_("DNA rate with and without a reminder planned"),
        prefix="exposure-itt",
        overall=report.overall,
    )
    if itt is not None:
        found.append(("exposure-itt", itt))
    steps = rate_bars(
        report.exposure,
        "exposure",
        title=_("DNA rate by the furthest reminder step reached"),
        prefix="exposure",
        overall=report.overall,
    )
    if steps is not None:
        found.append(("exposure", steps))
    return found


def lead_chart(report: AttendanceReport) -> Chart | None:
    """DNA rate by how long before the appointment it was booked."""
    return rate_bars(
        report.lead,
        "lead",
        title=_("DNA rate by booking lead time"),
        prefix="lead",
        overall=report.overall,
    )


def notice_chart(rows: Sequence[NoticeRow]) -> Chart | None:
    """Patient cancellations by the notice given, with rebook requests in the notes."""
    if not any(row.cancelled_by_patient or row.rebook_requests for row in rows):
        return None
    bars = [
        Bar(
            str(NOTICE.get(row.band, _("Not recorded"))),
            row.cancelled_by_patient,
            note=_(
                "%(asked)s asked to rebook, %(rebooked)s rebooked",
                asked=row.rebook_requests,
                rebooked=row.rebooked,
            ),
        )
        for row in rows
    ]
    words = BarWords(
        group=_("Notice given"),
        lower=_("Lower limit"),
        upper=_("Upper limit"),
        note=_("Rebook requests with this notice"),
        summary=_(
            "Bar chart of {measure} for {count} bands of notice, from {lowest} "
            "({lowest_value}) to {highest} ({highest_value})."
        ),
        bar=_("{label}: {value}"),
    )
    return bar_chart(
        bars,
        title=_("Cancellations by patients, by notice given"),
        measure=_("Cancelled by the patient"),
        prefix="notice",
        percent=False,
        words=words,
    )


def funnel_words() -> FunnelWords:
    return FunnelWords(
        unit=_("Clinic"),
        overall=_("Overall rate ({value})"),
        limits_95=_("95% limits"),
        limits_998=_("99.8% limits"),
        lower_95=_("95% lower limit"),
        upper_95=_("95% upper limit"),
        lower_998=_("99.8% lower limit"),
        upper_998=_("99.8% upper limit"),
        position=_("Position"),
        within=_("Within the 95% limits"),
        above_95=_("Above the 95% limit"),
        below_95=_("Below the 95% limit"),
        above_998=_("Above the 99.8% limit"),
        below_998=_("Below the 99.8% limit"),
        point=_("{label}: {rate} ({events} of {volume}), {position}"),
        summary=_(
            "Funnel plot of {rate} against {volume} for {count} clinics around the overall "
            "rate of {overall}: {above} above and {below} below the 99.8% limits, "
            "{outside_95} outside the 95% limits."
        ),
    )


def _limits(point: FunnelPoint) -> FunnelLimits | None:
    """The point's limits as the chart takes them: computed once, for the points."""
    if point.limits is None:
        return None
    return FunnelLimits(point.n, *point.limits["95"], *point.limits["99.8"])


def dna_funnel_plot(funnel: DnaFunnel) -> Chart | None:
    """The clinics' DNA rates against their attended and DNA appointments, with limits
    around the pooled rate; None without a pooled rate strictly between 0 and 1."""
    units = [
        Unit(funnel.clinics[point.clinic].name, point.dna, point.n, _limits(point))
        for point in funnel.points
        if point.n > 0
    ]
    if not units or funnel.rate is None or not 0.0 < funnel.rate < 1.0:
        return None
    if funnel.first_month == funnel.last_month:
        period = month_name(funnel.first_month)
    else:
        period = _(
            "%(first)s to %(last)s",
            first=month_name(funnel.first_month),
            last=month_name(funnel.last_month),
        )
    return funnel_plot(
        units,
        title=_("DNA rate by clinic, %(period)s", period=period),
        rate_measure=_("DNA rate"),
        volume_measure=_("Attended and DNA appointments"),
        events_measure=_("DNA"),
        prefix="funnel",
        words=funnel_words(),
    )
