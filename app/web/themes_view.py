"""The themes page's figures as charts and tables: survey themes' weighted shares, PALS
and complaint themes beside them, and who contacts PALS or complains against who uses
the service. Pure functions of the engine's reads (app.themes.shares, app.themes.queries);
every figure from fewer than 10 people is left out, and says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from app.charts import Bar, Chart, Table, bar_chart
from app.charts.table import numeric, table
from app.results.questions import SUPPRESS_BELOW
from app.themes.pals import PalsKind
from app.themes.queries import Representation, ThemeCount
from app.themes.shares import ThemeShare
from app.web import results_labels as words
from app.web.results_charts import bar_words

#: How many themes the survey chart shows (the table under it has them all).
TOP = 10
#: The variables of the "who contacts" report.
WHO_VARIABLES = ("age_band", "ethnic", "imd")


def _percent(value: float) -> str:
    return words.percent(value)


def survey_chart(shares: Sequence[ThemeShare]) -> Chart | None:
    """The most mentioned themes' weighted shares with their intervals (None when no
    theme has a share from 10 or more respondents)."""
    shown = [s for s in shares if not s.suppressed and s.estimate is not None]
    if not shown:
        return None
    bars = [
        Bar(s.name, float(s.estimate or 0.0), s.ci_low, s.ci_high, _("%(n)s answers", n=s.n))
        for s in shown[:TOP]
    ]
    chart = bar_chart(
        bars,
        title=_("Themes patients wrote about"),
        measure=_("share of respondents mentioning the theme (weighted)"),
        prefix="themes-survey",
        words=bar_words(_("Theme")),
    )
    rows = [(s.name, s.category, s.estimate, s.ci_low, s.ci_high, s.n) for s in shown]
    full = table(
        [
            _("Theme"),
            _("Category"),
            (_("Weighted share"), numeric(_percent)),
            (_("Lower limit"), numeric(_percent)),
            (_("Upper limit"), numeric(_percent)),
            _("Answers"),
        ],
        rows,
    )
    return replace(chart, table=full)


def _count(value: int) -> int | str:
    """A count as published: suppressed when from 1 to 9 contacts."""
    return _("fewer than 10") if 0 < value < SUPPRESS_BELOW else value


@dataclass(frozen=True)
class Beside:
    """Survey and PALS themes on one table (triangulation)."""

    table: Table
    title: str


def beside(shares: Sequence[ThemeShare], counts: Sequence[ThemeCount]) -> Beside | None:
    """Each theme's survey share beside its PALS contacts, complaints and compliments,
    the themes most mentioned in either first (None when neither has any)."""
    names: dict[str, str] = {}
    survey = {s.name: s for s in shares}
    for s in shares:
        names[s.name] = s.category
    by_kind: dict[tuple[str, PalsKind], int] = {}
    for c in counts:
        names.setdefault(c.name, c.category)
        by_kind[(c.name, c.kind)] = by_kind.get((c.name, c.kind), 0) + c.contacts
    if not names:
        return None

    def weight(name: str) -> tuple[float, int, str]:
        share = survey.get(name)
        contacts = sum(by_kind.get((name, kind), 0) for kind in PalsKind)
        return (-(share.estimate or 0.0) if share else 0.0, -contacts, name)

    rows = []
    for name in sorted(names, key=weight):
        share = survey.get(name)
        shown = share.estimate if share and not share.suppressed else None
        rows.append(
            (
                name,
                names[name],
                shown if shown is not None else (_("fewer than 10") if share else None),
                *(_count(by_kind.get((name, kind), 0)) for kind in PalsKind),
            )
        )
    return Beside(
        table(
            [
                _("Theme"),
                _("Category"),
                (_("Survey: weighted share"), numeric(_percent)),
                _("PALS contacts"),
                _("Complaints"),
                _("Compliments"),
            ],
            rows,
        ),
        _("Survey themes beside PALS contacts, complaints and compliments"),
    )


def who_chart(variable: str, rows: Sequence[Representation]) -> Chart | None:
    """The share of contacts from each group of `variable` with its interval, beside the
    group's share of the service's patients (None when every group is suppressed)."""
    shown = [r for r in rows if not r.suppressed and r.contact_share is not None]
    if not shown:
        return None
    name = words.variable_name(variable)
    bars = [
        Bar(
            words.level_name(variable, r.level),
            float(r.contact_share or 0.0),
            r.contact_low,
            r.contact_high,
            _("%(share)s of patients", share=words.percent(r.patient_share)),
        )
        for r in shown
    ]
    chart = bar_chart(
        bars,
        title=_("Who contacts PALS or complains, by %(variable)s", variable=name.lower()),
        measure=_("share of contacts"),
        prefix=f"themes-who-{variable}",
        words=bar_words(name),
    )
    full = table(
        [
            name,
            _("Contacts"),
            (_("Share of contacts"), numeric(_percent)),
            (_("Lower limit"), numeric(_percent)),
            (_("Upper limit"), numeric(_percent)),
            _("Patients"),
            (_("Share of patients"), numeric(_percent)),
            (_("Lower limit"), numeric(_percent)),
            (_("Upper limit"), numeric(_percent)),
            (_("Contacts for their share"), numeric(lambda v: f"{v:.2f}")),
        ],
        [
            (
                words.level_name(variable, r.level),
                _count(r.contacts),
                r.contact_share,
                r.contact_low,
                r.contact_high,
                r.patients,
                r.patient_share,
                r.patient_low,
                r.patient_high,
                r.ratio,
            )
            for r in rows
        ],
    )
    return replace(chart, table=full)
