"""Goal outcomes for the service: did the goals that matter to patients move?

- `/staff/goals?where=…&first=YYYY-MM&last=YYYY-MM`: the goals opened in the period at
  one of the staff member's clinics (`clinic:<id>`) or a whole organisation all of whose
  clinics their permission reaches (`organisation:<id>`): how many there are, how many
  have a follow-up score and how many have none yet; the share of followed-up goals
  with reliable improvement and the mean change from first to latest score, with 95%
  intervals, weighted to every goal of the period (unweighted beside them); both by age
  band, ethnic group, language and deprivation quintile; and how many patients stopped
  replying.
- `/staff/goals/download/<figure>.csv|svg?…`: a chart's table as CSV (formula cells
  escaped) or the chart as SVG, and the figures by group as CSV; each download is in
  the audit log (EXPORT).

The page shows no patient and no goal's words: counts and figures only. A period or
place that is not on the form's lists is a 400 page naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectField

from app.audit.service import record_download
from app.charts import Chart, Table
from app.clinics.roles import Permission
from app.core.errors import NotFound
from app.goals.outcomes import GROUPS, Outcomes, shown_improved, shown_mean_change
from app.goals.queries import service_outcomes
from app.runtime import get_runtime
from app.web import goal_charts as charts
from app.web import nav
from app.web import results_labels as words
from app.web.attendance_forms import Period, PeriodForm, read_period
from app.web.attendance_labels import month_name
from app.web.chart_files import ChartBlock, file_name, svg_file, table_file
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_goal_outcomes", __name__)
bp.context_processor(lambda: {"words": words, "month_name": month_name})

nav.add(
    nav.Section(
        endpoint="staff_goal_outcomes.index",
        label=_l("Goals"),
        description=_l("Whether the goals that matter to patients move: reliable improvement."),
        permission=Permission.VIEW_GOAL_OUTCOMES,
        blueprints=("staff_goal_outcomes",),
        order=35,
    )
)

#: Months the page covers unless the staff member chooses: the last year.
DEFAULT_MONTHS = 12


class GoalsForm(PeriodForm):
    """Where and which months (GET: the choices name no patient)."""

    where = SelectField(_l("Goals of"), validate_choice=False)


@dataclass(frozen=True)
class Place:
    value: str
    label: str
    clinic_ids: list[int]
    organisation_id: int


@dataclass(frozen=True)
class Selection:
    place: Place | None
    period: Period
    valid: bool

    @property
    def args(self) -> dict[str, Any]:
        found: dict[str, Any] = dict(self.period.args)
        if self.place is not None:
            found["where"] = self.place.value
        return found


def _places() -> list[Place]:
    scope = staff_scope()
    clinics = scope.clinics(Permission.VIEW_GOAL_OUTCOMES)
    found = [Place(f"clinic:{c.id}", c.name, [c.id], c.organisation_id) for c in clinics]
    for organisation in whole_organisations(Permission.VIEW_GOAL_OUTCOMES):
        ids = [c.id for c in clinics if c.organisation_id == organisation.id]
        label = _("%(name)s: all clinics", name=organisation.name)
        found.append(Place(f"organisation:{organisation.id}", label, ids, organisation.id))
    return found


def _select(form: GoalsForm) -> Selection:
    period = read_period(form, DEFAULT_MONTHS)
    places = _places()
    form.where.choices = [(p.value, p.label) for p in places]
    place = next((p for p in places if p.value == form.where.data), None)
    valid = period.valid
    if form.where.data and place is None:
        form.where.errors = [_("Choose where to show goals for from the list")]
        valid = False
    place = place or (places[0] if places else None)
    if place is not None:
        form.where.data = place.value
    return Selection(place, period, valid)


def _outcomes(selection: Selection) -> Outcomes | None:
    if selection.place is None or not selection.valid:
        return None
    start, end = charts.period_bounds(selection.period.first, selection.period.last)
    return service_outcomes(selection.place.clinic_ids, start, end)


def _figures(outcomes: Outcomes | None) -> dict[str, Chart]:
    if outcomes is None:
        return {}
    found = {"changes": charts.change_chart(outcomes)}
    for variable in GROUPS:
        found[f"improved-{variable.replace('_', '-')}"] = charts.improved_chart(outcomes, variable)
    return {name: chart for name, chart in found.items() if chart is not None}


@bp.get("/goals")
@requires(Permission.VIEW_GOAL_OUTCOMES)
def index() -> tuple[str, int]:
    """The goal outcomes of the chosen place and period; 400 for a bad choice."""
    form = GoalsForm()
    selection = _select(form)
    outcomes = _outcomes(selection)

    def url(name: str, kind: str) -> str:
        return url_for(f".download_{kind}", figure=name, **selection.args)

    blocks = [
        ChartBlock(name, chart, url(name, "csv"), url(name, "svg"))
        for name, chart in _figures(outcomes).items()
    ]
    page = render_template(
        "web/goals/outcomes.html",
        form=form,
        selection=selection,
        outcomes=outcomes,
        improved=shown_improved(outcomes) if outcomes else None,
        change=shown_mean_change(outcomes) if outcomes else None,
        headline=charts.headline(outcomes) if outcomes else [],
        weighting=charts.weighting_note(outcomes) if outcomes else "",
        blocks=blocks,
        groups_url=url("groups", "csv"),
        groups=GROUPS,
    )
    return page, 200 if selection.valid else 400


def _download(name: str, kind: str, send: Callable[[Any, str], Response]) -> Response:
    form = GoalsForm()
    selection = _select(form)
    outcomes = _outcomes(selection)
    if outcomes is None or selection.place is None:
        raise NotFound("no such chart or table for this selection")
    found: Chart | Table | None
    found = charts.group_table(outcomes) if name == "groups" else _figures(outcomes).get(name)
    if found is None or (kind == "svg" and isinstance(found, Table)):
        raise NotFound("no such chart or table for this selection")
    rows = found.rows if isinstance(found, Table) else found.table.rows
    place = selection.place
    record_download(
        actor(),
        get_runtime().clock.now(),
        record_type="goal_outcomes",
        record_ids=place.clinic_ids,
        organisation_id=place.organisation_id,
        detail={"figure": name, "rows": len(rows), "format": kind, **selection.period.args},
    )
    where = place.value.replace(":", "-")
    period = selection.period.args
    return send(found, file_name("goals", where, period["first"], period["last"], name))


def _csv(found: Chart | Table, name: str) -> Response:
    return table_file(found if isinstance(found, Table) else found.table, name)


@bp.get("/goals/download/<figure>.csv")
@requires(Permission.VIEW_GOAL_OUTCOMES)
def download_csv(figure: str) -> Response:
    """A chart's table, or the figures by group, as CSV."""
    return _download(figure, "csv", _csv)


@bp.get("/goals/download/<figure>.svg")
@requires(Permission.VIEW_GOAL_OUTCOMES)
def download_svg(figure: str) -> Response:
    """A chart as SVG."""
    return _download(figure, "svg", svg_file)
