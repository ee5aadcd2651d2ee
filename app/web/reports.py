"""The monthly board report, made in the background and downloaded as a PDF.

- `/staff/reports`: choose an organisation and a month and ask for the report (a POST
  form); below, the reports the staff member asked for, newest first;
- `/staff/reports/<id>`: one report: waiting, being made (the page updates itself), or
  ready to download, or why it could not be made;
- `/staff/reports/<id>/board.pdf`: the PDF (see `app.web.board_report`), in the audit log.

A report holds only what the staff member's permissions reached when they asked for it,
in that organisation: attendance where they may read attendance, results where they may
read results (the organisation as a whole only if that reaches all its clinics),
experiments where they may read experiments. Only they may see or download it. Laying out
two years of forty clinics takes longer than a page may, so a worker makes it
(`workers.jobs.board_report`).
"""

from __future__ import annotations

from datetime import date

from flask import Response, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectField

from app.clinics.models import Organisation
from app.clinics.roles import Permission
from app.core.errors import NotFound
from app.reports.models import FINISHED, BoardReportRun, ReportState
from app.reports.service import (
    ReportAreas,
    find_run,
    recent_runs,
    record_report_download,
    request_board_report,
)
from app.runtime import get_runtime
from app.web import formats, nav
from app.web.attendance_forms import last_whole_month, shift
from app.web.attendance_labels import month_name
from app.web.chart_files import file_name
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_reports", __name__)
bp.context_processor(lambda: {"formats": formats, "month_name": month_name, "states": ReportState})

nav.add(
    nav.Section(
        endpoint="staff_reports.index",
        label=_l("Board report"),
        description=_l("The month's charts and tables for a trust board, as a PDF."),
        permission=Permission.BOARD_REPORT,
        blueprints=("staff_reports",),
        order=48,
    )
)

#: How many months back the month list reaches.
CHOICE_MONTHS = 24


class ReportForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """Which report to make."""

    organisation = SelectField(_l("Organisation"), validate_choice=False)
    month = SelectField(_l("Month"), validate_choice=False)


def _organisations() -> list[Organisation]:
    scope = staff_scope()
    found = {c.organisation_id: c.organisation for c in scope.clinics(Permission.BOARD_REPORT)}
    return sorted(found.values(), key=lambda o: (o.name, o.id))


def _months() -> list[date]:
    latest = last_whole_month()
    return [shift(latest, -back) for back in range(CHOICE_MONTHS)]


def _fill(form: ReportForm) -> tuple[list[Organisation], list[date]]:
    organisations, months = _organisations(), _months()
    form.organisation.choices = [(str(o.id), o.name) for o in organisations]
    form.month.choices = [(m.strftime("%Y-%m"), month_name(m)) for m in months]
    return organisations, months


def _chosen(form: ReportForm) -> tuple[Organisation | None, date | None]:
    """The organisation and month the posted form names, each None (with the field's
    error) when it is not on its list."""
    organisations, months = _fill(form)
    organisation = next((o for o in organisations if str(o.id) == form.organisation.data), None)
    if organisation is None:
        form.organisation.errors = [_("Choose an organisation from the list")]
    month = next((m for m in months if m.strftime("%Y-%m") == form.month.data), None)
    if month is None:
        form.month.errors = [_("Choose a month from the list")]
    return organisation, month


def _areas(organisation: Organisation) -> ReportAreas:
    scope = staff_scope()
    allowed = scope.clinic_ids(Permission.BOARD_REPORT)
    inside = {c.id for c in organisation.clinics}

    def clinic_ids(permission: Permission) -> list[int]:
        return sorted(allowed & inside & scope.clinic_ids(permission))

    whole = organisation in whole_organisations(Permission.VIEW_RESULTS) and inside <= allowed
    return ReportAreas(
        attendance=clinic_ids(Permission.VIEW_ATTENDANCE),
        results=clinic_ids(Permission.VIEW_RESULTS),
        experiments=clinic_ids(Permission.VIEW_EXPERIMENTS),
        whole_organisation_results=whole,
        goals=clinic_ids(Permission.VIEW_GOAL_OUTCOMES),
    )


def _index(form: ReportForm, status: int) -> tuple[str, int]:
    runs = recent_runs(staff_scope().user_id)
    names = {o.id: o.name for o in _organisations()}
    page = render_template("web/reports/index.html", form=form, runs=runs, names=names)
    return page, status


@bp.get("/reports")
@requires(Permission.BOARD_REPORT)
def index() -> tuple[str, int]:
    """The form, with last month chosen, and the reports asked for."""
    form = ReportForm()
    organisations, months = _fill(form)
    if organisations and not form.organisation.data:
        form.organisation.data = str(organisations[0].id)
    form.month.data = form.month.data or months[0].strftime("%Y-%m")
    return _index(form, 200)


@bp.post("/reports")
@requires(Permission.BOARD_REPORT)
def ask() -> WerkzeugResponse | tuple[str, int]:
    """Ask for the chosen report; 400 (the form with its errors) for an organisation or
    month that is not on the lists."""
    form = ReportForm()
    organisation, month = _chosen(form)
    if organisation is None or month is None:
        return _index(form, 400)
    run = request_board_report(
        organisation,
        month,
        _areas(organisation),
        str(get_locale() or "en"),
        actor=actor(),
        clock=get_runtime().clock,
        queue=get_runtime().queue,
    )
    return redirect(url_for(".report", report_id=run.id), code=303)


def _run(report_id: int) -> BoardReportRun:
    return find_run(report_id, staff_scope().user_id)


@bp.get("/reports/<int:report_id>")
@requires(Permission.BOARD_REPORT)
def report(report_id: int) -> tuple[str, int]:
    """One report: waiting, being made, ready, or why it could not be made."""
    run = _run(report_id)
    names = {o.id: o.name for o in _organisations()}
    page = render_template(
        "web/reports/report.html", run=run, names=names, use_htmx=run.state not in FINISHED
    )
    return page, 200


@bp.get("/reports/<int:report_id>/status")
@requires(Permission.BOARD_REPORT)
def status(report_id: int) -> Response:
    """The part of a report's page that says how far it has got (htmx asks for it every
    two seconds); once it has ended, the whole page is reloaded."""
    run = _run(report_id)
    response = make_response(render_template("web/reports/_status.html", run=run))
    if run.state in FINISHED:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.get("/reports/<int:report_id>/board.pdf")
@requires(Permission.BOARD_REPORT)
def board_pdf(report_id: int) -> Response:
    """The report's PDF, once it is ready (404 before); in the audit log."""
    run = _run(report_id)
    if run.state is not ReportState.READY or run.pdf is None:
        raise NotFound("this report is not ready")
    record_report_download(run, actor(), get_runtime().clock)
    name = file_name("board-report", run.organisation.slug, run.month.strftime("%Y-%m"))
    return Response(
        run.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
