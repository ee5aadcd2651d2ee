"""Themes: what patients wrote about, weighted, beside PALS contacts and complaints.

- `/staff/themes?where=…&month=YYYY-MM&who=<group>:<level>`: for a clinic or a whole
  organisation and a month, the themes of the survey's coded comments as weighted
  shares of respondents with 95% intervals (app.themes.shares), for everyone or one
  group (age band, sex, ethnic group, deprivation quintile); the same themes beside the
  PALS contacts, complaints and compliments coded with them (triangulation); and who
  contacts PALS or complains, by ethnic group, age and deprivation, against who had an
  appointment there (app.themes.queries.who_contacts).
- `/staff/themes/download/<figure>.csv|svg?…`: a chart's table as CSV (formula cells
  escaped) or the chart as SVG; each download is in the audit log (EXPORT).

`where` is a clinic the staff member's results permission reaches (`clinic:<id>`) or
an organisation all of whose clinics it reaches (`organisation:<id>`). No comment and no
patient is shown; any figure from fewer than 10 people is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.audit.models import AuditAction
from app.audit.service import record
from app.charts import Chart
from app.clinics.roles import Permission
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.results import categories
from app.results.queries import Place, surveys_and_months
from app.runtime import get_runtime
from app.themes.queries import pals_theme_counts, who_contacts
from app.themes.shares import theme_shares
from app.web import nav
from app.web import results_labels as words
from app.web import themes_view as view
from app.web.chart_files import ChartBlock, file_name, svg_file, table_file
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_themes", __name__)
bp.context_processor(lambda: {"words": words})
P = Permission.VIEW_RESULTS

nav.add(
    nav.Section(
        endpoint="staff_themes.index",
        label=_l("Themes"),
        description=_l("What patients wrote about, weighted, beside PALS contacts and complaints."),
        permission=P,
        blueprints=("staff_themes",),
        order=32,
    )
)

#: The groups a share can be restricted to (their levels as the results store has them).
GROUPS = ("age_band", "sex", "ethnic", "imd")


@dataclass(frozen=True)
class Target:
    value: str
    label: str
    place: Place
    organisation_id: int
    clinic_ids: tuple[int, ...]
    own_survey: str | None = None


@dataclass
class Selection:
    """The place, month and group the page shows, and what was wrong with the request."""

    targets: list[Target]
    target: Target | None = None
    months: list[str] = field(default_factory=list)
    month: str | None = None
    survey: str = "fft"
    group: str | None = None
    level: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.target is not None:
            found["where"] = self.target.value
        if self.month:
            found["month"] = self.month
        if self.group:
            found["who"] = f"{self.group}:{self.level}"
        return found


def _targets() -> list[Target]:
    scope = staff_scope()
    found = [
        Target(
            f"clinic:{c.id}",
            c.name,
            Place("clinic", c.id),
            c.organisation_id,
            (c.id,),
            c.survey_slug,
        )
        for c in scope.clinics(P)
    ]
    reached = scope.clinic_ids(P)
    for organisation in whole_organisations(P):
        clinic_ids = tuple(sorted(c.id for c in organisation.clinics if c.id in reached))
        found.append(
            Target(
                f"organisation:{organisation.id}",
                _("%(name)s: all clinics", name=organisation.name),
                Place("organisation", organisation.id),
                organisation.id,
                clinic_ids,
            )
        )
    return found


def _select() -> Selection:
    args = request.args
    selection = Selection(_targets())
    wanted = args.get("where")
    target = next((t for t in selection.targets if t.value == wanted), None)
    if wanted and target is None:
        selection.errors["where"] = _("Choose where to show themes for from the list")
    target = target or (selection.targets[0] if selection.targets else None)
    if target is None:
        return selection
    selection.target = target
    available = surveys_and_months(target.place)
    if target.own_survey in available or not available:
        selection.survey = target.own_survey or "fft"
    else:
        selection.survey = max(available, key=lambda s: (available[s][0], s))
    selection.months = available.get(selection.survey, [])
    month = args.get("month")
    if month and month not in selection.months:
        selection.errors["month"] = _("Choose a month from the list")
    selection.month = month if month in selection.months else next(iter(selection.months), None)
    who = args.get("who") or ""
    group, _sep, level = who.partition(":")
    if who and (group not in GROUPS or level not in categories.LEVELS[group]):
        selection.errors["who"] = _("Choose whose themes to show from the list")
    elif who:
        selection.group, selection.level = group, level
    return selection


def _month_dates(period: str) -> tuple[date, date]:
    first = words.month_of(period)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass
class Figures:
    charts: dict[str, Chart] = field(default_factory=dict)
    beside: view.Beside | None = None
    problem: str | None = None


def _figures(selection: Selection) -> Figures:
    figures = Figures()
    target, month = selection.target, selection.month
    if target is None or month is None:
        return figures
    now = get_runtime().clock.now()
    try:
        shares = theme_shares(
            selection.survey,
            target.place.scope,
            target.place.scope_id,
            month,
            now,
            group=selection.group,
            level=selection.level,
        )
    except Invalid:
        shares = []
        figures.problem = _("The survey's answers for this month cannot be weighted yet.")
    first, last = _month_dates(month)
    clinic_ids = None if target.place.scope == "organisation" else target.clinic_ids
    counts = pals_theme_counts(target.organisation_id, first, last, clinic_ids)
    survey = view.survey_chart(shares)
    if survey is not None:
        figures.charts["survey"] = survey
    figures.beside = view.beside(shares, counts)
    for variable in view.WHO_VARIABLES:
        rows = who_contacts(target.organisation_id, target.clinic_ids, first, last, variable)
        chart = view.who_chart(variable, rows)
        if chart is not None:
            figures.charts[f"who-{variable}"] = chart
    return figures


def _blocks(selection: Selection, figures: Figures) -> dict[str, ChartBlock]:
    return {
        name: ChartBlock(
            name,
            chart,
            url_for(".download_csv", figure=name, **selection.args),
            url_for(".download_svg", figure=name, **selection.args),
        )
        for name, chart in figures.charts.items()
    }


@bp.get("/themes")
@requires(P)
def index() -> tuple[str, int]:
    """The themes at the chosen place and month; 400 when the request names a place,
    month or group that is not on the lists."""
    selection = _select()
    figures = _figures(selection) if not selection.errors else Figures()
    page = render_template(
        "web/themes/index.html",
        selection=selection,
        figures=figures,
        blocks=_blocks(selection, figures),
        beside_url=url_for(".download_csv", figure="beside", **selection.args),
        groups=[
            (words.variable_name(g), [(f"{g}:{lv}", words.level_name(g, lv)) for lv in levels])
            for g, levels in ((g, categories.LEVELS[g]) for g in GROUPS)
        ],
    )
    return page, 400 if selection.errors else 200


def _download(figure: str, kind: str, send: Callable[[Any, str], Response]) -> Response:
    selection = _select()
    if selection.errors or selection.target is None or selection.month is None:
        raise NotFound("no such chart or table for this selection")
    figures = _figures(selection)
    found: Any = figures.charts.get(figure)
    if figure == "beside" and kind == "csv" and figures.beside is not None:
        found = figures.beside.table
    if found is None:
        raise NotFound("no such chart or table for this selection")
    target = selection.target
    rows = found.rows if kind == "csv" and figure == "beside" else found.table.rows
    record(
        AuditAction.EXPORT,
        actor(),
        get_runtime().clock.now(),
        record_type="themes",
        record_ids=[],
        clinic_id=target.place.scope_id if target.place.scope == "clinic" else None,
        organisation_id=target.organisation_id,
        detail={"what": f"themes_{figure}", "format": kind, "rows": len(rows)},
    )
    db.session.commit()
    where = target.value.replace(":", "-")
    return send(found, file_name("themes", where, selection.month, figure))


def _csv(found: Any, name: str) -> Response:
    return table_file(found if not isinstance(found, Chart) else found.table, name)


@bp.get("/themes/download/<figure>.csv")
@requires(P)
def download_csv(figure: str) -> Response:
    """A chart's table, or the themes beside PALS, as CSV."""
    return _download(figure, "csv", _csv)


@bp.get("/themes/download/<figure>.svg")
@requires(P)
def download_svg(figure: str) -> Response:
    """A chart as SVG."""
    return _download(figure, "svg", svg_file)
