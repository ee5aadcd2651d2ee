"""Reminder-wording experiments, as the teams that run them follow them.

- `/staff/experiments`: the experiments whose clinics the staff member may all see, with
  their state, clinics, arms and progress towards the planned size (and as CSV).
- `/staff/experiments/new`: a new experiment, saved as a draft: its clinics, its design
  (expected DNA rate, smallest fall worth finding, significance, power, looks, planned
  size) and each arm's wording in each language. The definition check and the template
  lint run before saving; each problem is shown against its field, warnings under the
  wording they are about.
- `/staff/experiments/<id>`: the arms with DNA rates and Wilson intervals, forest plots
  of the risk difference and the odds ratio at each look, progress towards the planned
  size, the O'Brien–Fleming boundary with the |z| of each look, and the decisions
  recorded. Those who manage experiments start a draft, record a look (whose decision
  may end the experiment) and stop a running experiment (with a reason) here.

An experiment pools its clinics, so it is shown only to those whose scope reaches all of
them, and changed only by those who may manage experiments in all of them. Creating,
starting, recording a look and stopping are in the audit log, and so is every download
(EXPORT). The pages show counts and wording, never a patient; they read the arms' stored
counts (`app.attendance.arms`), never the assignments themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.attendance.service import experiment_counts_view, experiments_progress
from app.charts import Chart, Table
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.core.exports import csv_lines
from app.core.locales import SUPPORTED_LOCALES
from app.experiments.models import Experiment, ExperimentStatus
from app.experiments.queries import (
    ExperimentProgress,
    ExperimentView,
    free_slug,
    get_experiment_within,
)
from app.experiments.service import (
    create_experiment,
    record_decision,
    record_export,
    start_experiment,
    stop_experiment,
)
from app.runtime import get_runtime
from app.web import experiment_charts as figures
from app.web import experiment_labels as labels
from app.web import formats, nav
from app.web.chart_files import ChartBlock, csv_file, file_name, svg_file
from app.web.experiment_forms import ARMS, Checked, ExperimentForm, StopForm, check
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_experiments", __name__)
bp.context_processor(lambda: {"formats": formats, "labels": labels})

nav.add(
    nav.Section(
        endpoint="staff_experiments.index",
        label=_l("Experiments"),
        description=_l("Reminder wordings tested against each other, and what they found."),
        permission=Permission.VIEW_EXPERIMENTS,
        blueprints=("staff_experiments",),
        order=45,
    )
)


def _clock() -> Clock:
    return get_runtime().clock


def _seen() -> frozenset[int]:
    """The clinics whose experiments the staff member may read."""
    return staff_scope().clinic_ids(Permission.VIEW_EXPERIMENTS)


def _managed() -> frozenset[int]:
    """The clinics whose experiments the staff member may create, start and stop."""
    return staff_scope().clinic_ids(Permission.MANAGE_EXPERIMENTS)


def _may_manage(experiment: Experiment) -> bool:
    return set(experiment.clinic_ids) <= _managed()


# -- the list ---------------------------------------------------------------------------------


@bp.get("/experiments")
@requires(Permission.VIEW_EXPERIMENTS)
def index() -> str:
    """Every experiment the staff member may read, newest first."""
    rows = experiments_progress(_seen(), _clock())
    clinics = {clinic.id: clinic for clinic in staff_scope().clinics(Permission.VIEW_EXPERIMENTS)}
    return render_template(
        "web/experiments/index.html",
        rows=rows,
        clinic_names=lambda row: _clinic_names(row.experiment, clinics),
        may_create=staff_scope().may(Permission.MANAGE_EXPERIMENTS),
    )


def _clinic_names(experiment: Experiment, clinics: dict[int, Clinic]) -> list[str]:
    return sorted(clinics[i].name for i in experiment.clinic_ids if i in clinics)


def _list_table(rows: Sequence[ExperimentProgress]) -> tuple[list[str], list[list[object]]]:
    clinics = {clinic.id: clinic for clinic in staff_scope().clinics(Permission.VIEW_EXPERIMENTS)}
    headings = [
        _("Experiment"),
        _("State"),
        _("Clinics"),
        _("Arms"),
        _("Planned per arm"),
        _("Attended or DNA in the smaller arm"),
        _("Share of the planned size"),
        _("Assigned"),
        _("Created"),
    ]
    body: list[list[object]] = [
        [
            row.experiment.title,
            labels.state_label(row.experiment.status),
            "; ".join(_clinic_names(row.experiment, clinics)),
            "; ".join(str(arm["name"]) for arm in row.experiment.arms),
            row.experiment.planned_n_per_arm,
            row.n_per_arm,
            round(row.fraction, 4),
            row.assigned,
            row.experiment.created_at.date().isoformat(),
        ]
        for row in rows
    ]
    return headings, body


@bp.get("/experiments.csv")
@requires(Permission.VIEW_EXPERIMENTS)
def index_csv() -> Response:
    """The list of experiments as CSV."""
    rows = experiments_progress(_seen(), _clock())
    headings, body = _list_table(rows)
    clock = _clock()
    if rows:
        record_export([row.experiment.id for row in rows], "list", "csv", len(body), clock, actor())
    return _csv("".join(csv_lines(headings, body)), file_name("experiments"))


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# -- a new experiment -------------------------------------------------------------------------


def _clinic_choices(form: ExperimentForm) -> dict[str, Clinic]:
    clinics = staff_scope().clinics(Permission.MANAGE_EXPERIMENTS)
    form.clinics.choices = [(str(clinic.id), clinic.name) for clinic in clinics]
    if len(clinics) == 1 and not form.clinics.data:
        form.clinics.data = [str(clinics[0].id)]
    return {str(clinic.id): clinic for clinic in clinics}


@bp.route("/experiments/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_EXPERIMENTS)
def new() -> Response | tuple[str, int]:
    """The form; "Check" runs the checks and shows what they find, "Save" saves a draft
    when nothing is wrong (warnings are kept)."""
    form = ExperimentForm()
    clinics = _clinic_choices(form)
    if request.method == "GET":
        return _new_page(form, Checked(None)), 200
    valid = form.validate_on_submit()
    clock = _clock()
    title = form.title.data or ""
    checked = check(form, clinics, free_slug(title) if valid else "draft", clock.now())
    if not valid or checked.spec is None:
        return _new_page(form, checked), 422
    if request.form.get("action") != "save":
        return _new_page(form, checked, checked_only=True), 200
    try:
        experiment = create_experiment(checked.spec, clock, start=False, actor=actor())
    except Invalid as refused:
        checked.problems.append(formats.sentence(str(refused)))
        return _new_page(form, checked), 409
    flash(_("The experiment is saved as a draft. Start it when you are ready."))
    return redirect(url_for(".experiment", experiment_id=experiment.id))


def _new_page(form: ExperimentForm, checked: Checked, checked_only: bool = False) -> str:
    errors = any(field.errors for field in form) or bool(checked.problems)
    others = [locale for locale in SUPPORTED_LOCALES if locale != "en"]
    return render_template(
        "web/experiments/new.html",
        form=form,
        checked=checked,
        checked_only=checked_only,
        has_errors=errors,
        arms=ARMS,
        others=others,
        open_others={
            arm: any(
                form.wording(arm, locale).data or form.wording(arm, locale).errors
                for locale in others
            )
            for arm in ARMS
        },
    )


# -- one experiment ---------------------------------------------------------------------------


def _view(experiment_id: int) -> ExperimentView:
    return experiment_counts_view(experiment_id, _seen(), _clock())


@bp.get("/experiments/<int:experiment_id>")
@requires(Permission.VIEW_EXPERIMENTS)
def experiment(experiment_id: int) -> tuple[str, int]:
    """The experiment's arms, analysis, progress, boundary and decisions."""
    return _page(_view(experiment_id))


def _blocks(view: ExperimentView) -> dict[str, ChartBlock]:
    def url(kind: str, name: str) -> str:
        return url_for(f".download_{kind}", experiment_id=view.experiment.id, figure=name)

    notes = figures.notes(view)
    return {
        name: ChartBlock(name, chart, url("csv", name), url("svg", name), notes.get(name, ""))
        for name, chart in figures.charts(view).items()
    }


def _page(
    view: ExperimentView,
    stop_form: StopForm | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    stop_form = stop_form or StopForm(formdata=None)
    tables = figures.tables(view)
    page = render_template(
        "web/experiments/experiment.html",
        view=view,
        experiment=view.experiment,
        analysis=view.analysis,
        blocks=_blocks(view),
        tables=tables,
        table_urls={
            name: url_for(".download_csv", experiment_id=view.experiment.id, figure=name)
            for name in tables
        },
        may_manage=_may_manage(view.experiment),
        stop_form=stop_form,
        problem=problem,
        has_errors=bool(stop_form.errors or problem),
        statuses=ExperimentStatus,
        locales=SUPPORTED_LOCALES,
    )
    return page, status


@bp.post("/experiments/<int:experiment_id>/start")
@requires(Permission.MANAGE_EXPERIMENTS)
def start(experiment_id: int) -> Response | tuple[str, int]:
    """Start a draft: its clinics' booked appointments are assigned to the arms."""
    found = get_experiment_within(experiment_id, _managed())
    try:
        assigned = start_experiment(found.id, _clock(), actor())
    except Invalid as refused:
        return _page(_view(experiment_id), problem=formats.sentence(str(refused)), status=409)
    flash(
        _(
            "The experiment has started. %(count)s booked appointments were given an arm; "
            "new bookings join as they come.",
            count=f"{assigned.total:,}",
        )
    )
    return redirect(url_for(".experiment", experiment_id=found.id))


@bp.post("/experiments/<int:experiment_id>/look")
@requires(Permission.MANAGE_EXPERIMENTS)
def look(experiment_id: int) -> Response | tuple[str, int]:
    """Record the analysis as it stands as a look, with the decision it gives: "stop"
    and "adopt" end the experiment."""
    found = get_experiment_within(experiment_id, _managed())
    try:
        _analysis, decision = record_decision(found.slug, _clock(), actor())
    except Invalid as refused:
        return _page(_view(experiment_id), problem=formats.sentence(str(refused)), status=409)
    flash(
        _("The look is recorded: %(decision)s.", decision=labels.decision_label(decision.decision))
    )
    return redirect(url_for(".experiment", experiment_id=found.id, _anchor="decisions"))


@bp.post("/experiments/<int:experiment_id>/stop")
@requires(Permission.MANAGE_EXPERIMENTS)
def stop(experiment_id: int) -> Response | tuple[str, int]:
    """Stop a running experiment now, with the reason given; reminders go back to the
    usual wording."""
    found = get_experiment_within(experiment_id, _managed())
    form = StopForm()
    if not form.validate_on_submit():
        return _page(_view(experiment_id), stop_form=form, status=422)
    try:
        stop_experiment(found.id, form.reason.data, _clock(), actor())
    except Invalid as refused:
        return _page(_view(experiment_id), problem=formats.sentence(str(refused)), status=409)
    flash(_("The experiment has stopped. Reminders use the usual wording again."))
    return redirect(url_for(".experiment", experiment_id=found.id))


# -- downloads --------------------------------------------------------------------------------


def _download(
    experiment_id: int, name: str, kind: str, send: Callable[[Chart, str], Response]
) -> Response:
    view = _view(experiment_id)
    named = file_name("experiment", str(view.experiment.id), name)
    tables: dict[str, Table] = figures.tables(view) if kind == "csv" else {}
    chart = figures.charts(view).get(name)
    if name in tables:
        found = tables[name]
        rows = len(found.rows)
        response = _csv("".join(csv_lines(found.headings, found.rows)), named)
    elif chart is not None:
        rows = len(chart.table.rows)
        response = send(chart, named)
    else:
        raise NotFound("no such figure for this experiment")
    record_export([view.experiment.id], name, kind, rows, _clock(), actor())
    return response


@bp.get("/experiments/<int:experiment_id>/download/<figure>.csv")
@requires(Permission.VIEW_EXPERIMENTS)
def download_csv(experiment_id: int, figure: str) -> Response:
    """A table or a chart's table as CSV."""
    return _download(experiment_id, figure, "csv", csv_file)


@bp.get("/experiments/<int:experiment_id>/download/<figure>.svg")
@requires(Permission.VIEW_EXPERIMENTS)
def download_svg(experiment_id: int, figure: str) -> Response:
    """A chart as SVG."""
    return _download(experiment_id, figure, "svg", svg_file)
