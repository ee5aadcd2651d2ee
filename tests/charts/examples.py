"""Example charts, saved as tests/charts/examples/*.svg for people to look at.

The saved files are checked against the code (tests/charts/test_examples.py); after a
deliberate change to a chart, write them again with `python -m tests.charts.examples`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from app.charts import (
    Bar,
    Chart,
    Effect,
    Estimate,
    Series,
    Unit,
    bar_chart,
    forest_plot,
    funnel_plot,
    line_chart,
    spc_chart,
)
from app.core.spc import xmr

FOLDER = Path(__file__).resolve().parent / "examples"
MONTHS = [
    "Apr 2024", "May 2024", "Jun 2024", "Jul 2024", "Aug 2024", "Sep 2024",
    "Oct 2024", "Nov 2024", "Dec 2024", "Jan 2025", "Feb 2025", "Mar 2025",
    "Apr 2025", "May 2025", "Jun 2025", "Jul 2025", "Aug 2025", "Sep 2025",
    "Oct 2025", "Nov 2025", "Dec 2025", "Jan 2026", "Feb 2026", "Mar 2026",
]  # fmt: skip
#: Monthly did-not-attend rates: steady, then falling after text reminders began.
DNA_RATES = [
    0.118, 0.121, 0.114, 0.125, 0.119, 0.122, 0.117, 0.124, 0.120, 0.116, 0.123, 0.119,
    0.112, 0.109, 0.107, 0.104, 0.101, 0.099, 0.097, 0.100, 0.096, 0.094, 0.098, 0.093,
]  # fmt: skip
WEIGHTED = [0.62, 0.64, 0.61, 0.66, None, 0.68, 0.70, 0.69, 0.72, 0.71, 0.74, 0.73]
UNWEIGHTED = [0.66, 0.67, 0.66, 0.70, None, 0.71, 0.73, 0.73, 0.75, 0.74, 0.77, 0.76]


def spc_example() -> Chart:
    """Did-not-attend rates, lower is better, rebased when reminders began, with a target."""
    chart = xmr(DNA_RATES, "decrease", target=0.1, rebase_at=[12])
    return spc_chart(
        chart,
        MONTHS,
        title="Did not attend rate by month",
        measure="Did not attend rate",
        prefix="example-spc",
        percent=True,
    )


def spc_trend_example() -> Chart:
    """A rising count where higher is better: a trend, a run and points beyond the limits."""
    values = [52, 48, 55, 50, 47, 53, 49, 51, 54, 50, 56, 58, 60, 61, 63, 64, 66, 70]
    chart = xmr(values, "increase", target=45)
    return spc_chart(
        chart,
        MONTHS[: len(values)],
        title="Replies each month",
        measure="Replies",
        prefix="example-spc-trend",
    )


def line_example() -> Chart:
    """Weighted and unweighted shares by month, the weighted one with its interval."""
    lows = [None if v is None else v - 0.05 for v in WEIGHTED]
    highs = [None if v is None else v + 0.05 for v in WEIGHTED]
    return line_chart(
        MONTHS[12:],
        [Series("Weighted", WEIGHTED, lows, highs), Series("Unweighted", UNWEIGHTED)],
        title="Patients rating their care good or very good",
        measure="Share rating care good or very good",
        prefix="example-line",
    )


def bars_example() -> Chart:
    """Response rate by age group, with the overall rate."""
    bars = [
        Bar("16 to 24", 0.21, 0.18, 0.24, "812 invited"),
        Bar("25 to 44", 0.29, 0.27, 0.31, "2,140 invited"),
        Bar("45 to 64", 0.36, 0.34, 0.38, "2,560 invited"),
        Bar("65 and over", 0.44, 0.41, 0.47, "1,310 invited"),
        Bar("Age not recorded", 0.12, 0.05, 0.22, "58 invited"),
    ]
    return bar_chart(
        bars,
        title="Response rate by age",
        measure="Response rate",
        prefix="example-bars",
        reference=("All patients", 0.31),
    )


def funnel_example() -> Chart:
    """Did-not-attend rates of clinics against their appointments."""
    units = [
        Unit("North", 38, 420), Unit("South", 61, 510), Unit("East", 12, 95),
        Unit("West", 90, 640), Unit("Central", 25, 260), Unit("Riverside", 8, 40),
        Unit("Hilltop", 140, 900), Unit("Harbour", 4, 150), Unit("Old Town", 30, 300),
        Unit("Meadow", 52, 330),
    ]  # fmt: skip
    return funnel_plot(
        units,
        title="Did not attend rate by clinic",
        rate_measure="Did not attend rate",
        volume_measure="Appointments",
        events_measure="Did not attend",
        prefix="example-funnel",
    )


def forest_example() -> Chart:
    """Risk differences in attendance for three reminder arms against control."""
    rows = [
        Estimate("Reminder 3 days before", 0.021, -0.004, 0.046),
        Estimate("Reminder 1 day before", -0.012, -0.035, 0.011),
        Estimate("Both reminders", 0.043, 0.018, 0.068),
    ]
    return forest_plot(
        rows,
        title="Attendance compared with no reminder",
        effect=Effect.RISK_DIFFERENCE,
        measure="Difference in attendance",
        prefix="example-forest",
        favours=("Fewer attend", "More attend"),
    )


def odds_example() -> Chart:
    """Odds ratios of replying, one of them without an upper bound."""
    rows = [
        Estimate("Welsh wording", 1.32, 0.91, 1.90),
        Estimate("Short text", 0.85, 0.60, 1.20),
        Estimate("Ask by name", 2.10, 1.35, 3.30),
        Estimate("No replies in control", 2.50, 0.80, float("inf")),
    ]
    return forest_plot(
        rows,
        title="Odds of replying compared with the standard text",
        effect=Effect.ODDS_RATIO,
        measure="Odds ratio of replying",
        prefix="example-odds",
    )


EXAMPLES = {
    "spc": spc_example,
    "spc-trend": spc_trend_example,
    "line": line_example,
    "bars": bars_example,
    "funnel": funnel_example,
    "forest": forest_example,
    "odds": odds_example,
}


def pretty(svg: str) -> str:
    """The SVG indented, one element a line, so that changes read well in a diff."""
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    root = ET.fromstring(svg)  # noqa: S314 (the charts' own output)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def main() -> None:
    """Write every example's SVG into the examples folder."""
    FOLDER.mkdir(exist_ok=True)
    for name, build in EXAMPLES.items():
        (FOLDER / f"{name}.svg").write_text(pretty(build().svg), encoding="utf-8")


if __name__ == "__main__":
    main()
