"""Weighted survey results, and who is not being heard, read from stored snapshots.

- `/staff/results?where=…&survey=…&month=YYYY-MM`: the Friends and Family Test weighted to
  everyone invited beside the unweighted figures, with 95% intervals; its trend over the
  year to that month; patients invited and responding by month; and every question of
  the survey, each with its chart and table. A figure resting on fewer than 10 responses
  is not shown, and the page says why.
- `/staff/results/heard?…`: response rates by age band, sex, ethnic group, deprivation
  quintile, language and channel (Wilson intervals), the R-indicator by month, the groups
  flagged as far less heard than the rest with a suggestion drawn from their response
  by channel, and each group's standardised difference before and after weighting.
- `/staff/results/download/<figure>.csv|svg?…`: a chart's table as CSV (formula cells
  escaped) or the chart as SVG; each download is in the audit log (EXPORT).

`where` is a place the staff member's results permission reaches: one of their clinics
(`clinic:<id>`), an organisation all of whose clinics it reaches (`organisation:<id>`),
or a pathway of such an organisation (`service:<id>:<pathway>`). Pages read the latest
version of the stored snapshots (app.results.queries), never invitations or responses,
and show no patient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField

from app.charts import Chart, Table
from app.clinics.roles import Permission
from app.core.errors import NotFound
from app.results.queries import Place, monthly_snapshots, service_pathways, surveys_and_months
from app.results.service import check_period, record_export
from app.runtime import get_runtime
from app.surveys.queries import survey_titles
from app.web import formats, nav
from app.web import results_charts as charts
from app.web import results_labels as words
from app.web import results_view as view
from app.web.chart_files import ChartBlock, file_name, svg_file, table_file
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_results", __name__)
bp.context_processor(lambda: {"words": words, "formats": formats})

nav.add(
    nav.Section(
        endpoint="staff_results.index",
        label=_l("Results"),
        description=_l("Survey results weighted to everyone invited, and who is not being heard."),
        permission=Permission.VIEW_RESULTS,
        blueprints=("staff_results",),
        order=30,
    )
)

#: How many months the trends show, the chosen one included.
TREND_MONTHS = 13


class ResultsForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """What a results page shows (GET: the choices name no patient)."""

    class Meta:
        csrf = False

    where = SelectField(_l("Results for"), validate_choice=False)
    survey = SelectField(_l("Survey"), validate_choice=False)
    month = SelectField(_l("Month"), validate_choice=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)


@dataclass(frozen=True)
class Target:
    """A place whose results the staff member may read."""

    value: str
    label: str
    place: Place
    organisation_id: int
    #: The survey the clinic sends after visits (shown even before it has results).
    own_survey: str | None = None


@dataclass
class Selection:
    """The place, survey and month a page shows, and the snapshots it reads."""

    target: Target | None
    survey: str
    month: view.Month
    valid: bool = True
    snapshot_ids: list[int] = field(default_factory=list)
    #: The chosen survey as staff know it (its title).
    survey_name: str = ""

    @property
    def args(self) -> dict[str, Any]:
        """The selection as a link's query."""
        if self.target is None:
            return {}
        found: dict[str, Any] = {"where": self.target.value, "survey": self.survey}
        if self.month.periods:
            found["month"] = self.month.periods[-1]
        return found


def _targets() -> list[Target]:
    """The clinics, whole organisations and their services the staff member may read."""
    found = [
        Target(f"clinic:{c.id}", c.name, Place("clinic", c.id), c.organisation_id, c.survey_slug)
        for c in staff_scope().clinics(Permission.VIEW_RESULTS)
    ]
    organisations = whole_organisations(Permission.VIEW_RESULTS)
    pathways = service_pathways([o.id for o in organisations])
    for organisation in organisations:
        found.append(
            Target(
                f"organisation:{organisation.id}",
                _("%(name)s: all clinics", name=organisation.name),
                Place("organisation", organisation.id),
                organisation.id,
            )
        )
        found += [
            Target(
                f"service:{organisation.id}:{pathway}",
                _("%(name)s: %(pathway)s pathway", name=organisation.name, pathway=pathway),
                Place("service", organisation.id, pathway),
                organisation.id,
            )
            for pathway in pathways.get(organisation.id, [])
        ]
    return found


def _select(form: ResultsForm) -> Selection:
    """Read the form against what the staff member may see; field errors make it invalid
    (a 400 page). The snapshots of the trend's months are read in one query."""
    targets = _targets()
    form.where.choices = [(t.value, t.label) for t in targets]
    target = next((t for t in targets if t.value == form.where.data), None)
    if form.where.data and target is None:
        form.where.errors = [_("Choose where to show results for from the list")]
    target = target or (targets[0] if targets else None)
    if target is None:
        return Selection(None, "", view.Month([], {}), valid=not form.errors)
    form.where.data = target.value
    available = surveys_and_months(target.place)
    default = _default_survey(target, available)
    surveys = sorted({*available, default})
    titles = survey_titles(sorted(staff_scope().clinic_ids(Permission.VIEW_RESULTS)))
    names = {s: words.survey_name(s, titles.get(s)) for s in surveys}
    form.survey.choices = [(s, names[s]) for s in surveys]
    survey = form.survey.data if form.survey.data in surveys else default
    if form.survey.data and form.survey.data not in surveys:
        form.survey.errors = [_("Choose a survey from the list")]
    form.survey.data = survey
    months = available.get(survey, [])
    form.month.choices = [(m, words.month_name(m)) for m in months]
    month = form.month.data if form.month.data in months else (months[0] if months else None)
    if form.month.data and form.month.data not in months:
        form.month.errors = [_("Choose a month from the list")]
    form.month.data = month
    valid = not (form.where.errors or form.survey.errors or form.month.errors)
    if not valid or month is None:
        return Selection(target, survey, view.Month([], {}), valid, [], names[survey])
    periods = _trend_periods(month)
    rows = monthly_snapshots(target.place, survey, periods[0], periods[-1])
    snapshots = {row.period: row for row in rows}
    # The trend starts at the first month with results (a new survey has few).
    periods = periods[min((periods.index(p) for p in snapshots), default=len(periods) - 1) :]
    month_view = view.Month(periods, snapshots)
    return Selection(target, survey, month_view, True, [r.id for r in rows], names[survey])


def _default_survey(target: Target, available: dict[str, list[str]]) -> str:
    """The clinic's own survey, unless only others have results there; then the one with
    the latest month (the Friends and Family Test where nothing has results yet)."""
    if target.own_survey in available or not available:
        return target.own_survey or "fft"
    return sorted(available, key=lambda s: (available[s][0], s), reverse=True)[0]


def _trend_periods(last: str) -> list[str]:
    check_period(last)
    month = words.month_of(last)
    index = month.year * 12 + month.month - 1
    return [
        words.period_of(date(i // 12, i % 12 + 1, 1))
        for i in range(index - TREND_MONTHS + 1, index + 1)
    ]


def _blocks(
    selection: Selection, figures: dict[str, Chart], notes: dict[str, str] | None = None
) -> dict[str, ChartBlock]:
    def url(name: str, kind: str) -> str:
        return url_for(f".download_{kind}", figure=name, **selection.args)

    return {
        name: ChartBlock(
            name, chart, url(name, "csv"), url(name, "svg"), (notes or {}).get(name, "")
        )
        for name, chart in figures.items()
    }


@bp.get("/results")
@requires(Permission.VIEW_RESULTS)
def index() -> tuple[str, int]:
    """The chosen survey's weighted results at the chosen place and month; 400 when the
    form names a place, survey or month that is not on its lists."""
    form = ResultsForm()
    selection = _select(form)
    month = selection.month
    questions = view.question_views(month.chosen)
    notes = {q.name: q.note for q in questions}
    page = render_template(
        "web/results/index.html",
        form=form,
        selection=selection,
        snapshot=month.chosen,
        fft=charts.fft_figures(month.chosen),
        blocks=_blocks(selection, view.results_figures(month), notes),
        questions=questions,
        suppressed_reason=view.suppressed_reason,
    )
    return page, 200 if selection.valid else 400


@bp.get("/results/heard")
@requires(Permission.VIEW_RESULTS)
def heard() -> tuple[str, int]:
    """Who responds and who does not, at the chosen place and month; 400 as `index`."""
    form = ResultsForm()
    selection = _select(form)
    month = selection.month
    flagged_url = None
    if view.flagged_table(month.chosen) is not None:
        flagged_url = url_for(".download_csv", figure="flagged", **selection.args)
    page = render_template(
        "web/results/heard.html",
        form=form,
        selection=selection,
        snapshot=month.chosen,
        blocks=_blocks(selection, view.heard_figures(month)),
        flagged=view.flagged_views(month.chosen),
        flagged_url=flagged_url,
    )
    return page, 200 if selection.valid else 400


# -- downloads ------------------------------------------------------------------------------


def _figure(selection: Selection, name: str) -> Chart | Table | None:
    if name == "flagged":
        return view.flagged_table(selection.month.chosen)
    figures = view.results_figures(selection.month) | view.heard_figures(selection.month)
    return figures.get(name)


def _download(
    name: str, kind: str, send: Callable[[Any, str], Response]
) -> Response | tuple[str, int]:
    form = ResultsForm()
    selection = _select(form)
    if not selection.valid:
        return index()
    found = _figure(selection, name)
    if found is None or selection.target is None or (kind == "svg" and isinstance(found, Table)):
        raise NotFound("no such chart or table for this selection")
    rows = found.rows if isinstance(found, Table) else found.table.rows
    target = selection.target
    record_export(
        target.place,
        target.organisation_id,
        selection.snapshot_ids,
        name,
        len(rows),
        kind,
        get_runtime().clock,
        actor(),
    )
    month = selection.month.periods[-1] if selection.month.periods else ""
    where = target.value.replace(":", "-")
    return send(found, file_name("results", where, selection.survey, month, name))


def _csv(found: Chart | Table, name: str) -> Response:
    return table_file(found if isinstance(found, Table) else found.table, name)


@bp.get("/results/download/<figure>.csv")
@requires(Permission.VIEW_RESULTS)
def download_csv(figure: str) -> Response | tuple[str, int]:
    """A chart's table, or the flagged groups, as CSV."""
    return _download(figure, "csv", _csv)


@bp.get("/results/download/<figure>.svg")
@requires(Permission.VIEW_RESULTS)
def download_svg(figure: str) -> Response | tuple[str, int]:
    """A chart as SVG."""
    return _download(figure, "svg", svg_file)
