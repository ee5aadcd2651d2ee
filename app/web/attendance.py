"""Attendance as a board reads it: DNA rates by month on "Making Data Count" charts.

- `/staff/attendance?first=YYYY-MM&last=YYYY-MM`: every clinic the staff member may see,
  each with its latest month's DNA rate, mean, process limits, target and the variation
  and assurance icons (one grouped read of the stored counts for all of them); the
  table downloads as CSV.
- `/staff/attendance/<clinic>`: the clinic's XmR chart of the DNA rate by month. Those
  who change the clinic's settings set its target and the months where a new period
  starts (rebasing), both in the audit log.
- `/staff/attendance/<clinic>/breakdowns`: DNA rates by patient group, reminder exposure
  and booking lead time, with Wilson intervals, and patients' cancellations by notice.
- `/staff/attendance/funnel`: the clinics' DNA rates over a period on a funnel plot, with
  95% and 99.8% limits around their pooled rate.

Every chart is inline SVG with its table, and downloads as CSV (every cell escaped) and
SVG; each download is in the audit log (EXPORT). Pages read the stored daily counts
(`app.attendance`), never appointments, and show no patient. A bad period is a 400 page
naming the field; a bad target or month a 422 page; another clinic is not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.attendance.board import DnaChart
from app.attendance.reports import AttendanceReport
from app.attendance.service import (
    clinic_attendance,
    dna_board,
    dna_funnel,
    record_export,
    set_dna_target,
    set_rebase,
)
from app.charts import Chart
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.core.clock import Clock
from app.core.errors import NotFound
from app.runtime import get_runtime
from app.web import attendance_board as board
from app.web import attendance_charts as charts
from app.web import attendance_labels as labels
from app.web import nav
from app.web.attendance_forms import (
    REMOVE,
    SAVE,
    Period,
    PeriodForm,
    RebaseForm,
    TargetForm,
    read_period,
)
from app.web.chart_files import ChartBlock, csv_file, file_name, svg_file, table_file
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import clinic_in_scope

bp = staff_blueprint("staff_attendance", __name__)

nav.add(
    nav.Section(
        endpoint="staff_attendance.index",
        label=_l("Attendance"),
        description=_l("DNA rates by month on SPC charts, targets, and clinics compared."),
        permission=Permission.VIEW_ATTENDANCE,
        blueprints=("staff_attendance",),
        order=40,
    )
)

#: Months a chart shows unless the staff member chooses: two years to the last month.
CHART_MONTHS = 24
#: Months the funnel plot and the breakdowns cover by default: the last year.
YEAR_MONTHS = 12

Send = Callable[[Chart, str], Response]


@bp.context_processor
def _words() -> dict[str, Any]:
    return {"board": board, "charts": charts, "labels": labels, "SAVE": SAVE, "REMOVE": REMOVE}


def _clock() -> Clock:
    return get_runtime().clock


def _status(period: Period) -> int:
    return 200 if period.valid else 400


# -- every clinic ---------------------------------------------------------------------------


def _board(period: Period) -> list[board.BoardRow]:
    scope = staff_scope()
    found: dict[int, DnaChart] = {}
    if period.valid:
        ids = scope.clinic_ids(Permission.VIEW_ATTENDANCE)
        found = dna_board(ids, period.first, period.last, _clock())
    # Loaded after the board's refresh commits: clinics loaded before it would each be
    # read again, one statement apiece.
    clinics = scope.clinics(Permission.VIEW_ATTENDANCE)
    return [board.BoardRow(clinic, found.get(clinic.id)) for clinic in clinics]


@bp.get("/attendance")
@requires(Permission.VIEW_ATTENDANCE)
def index() -> tuple[str, int]:
    """Every clinic's latest DNA rate, mean, limits, target and icons; 400 for a bad
    period."""
    form = PeriodForm()
    period = read_period(form, CHART_MONTHS)
    rows = _board(period)
    page = render_template("web/attendance/index.html", form=form, period=period, rows=rows)
    return page, _status(period)


@bp.get("/attendance/board.csv")
@requires(Permission.VIEW_ATTENDANCE)
def board_csv() -> Response | tuple[str, int]:
    """The summary table of every clinic as CSV (in the audit log)."""
    period = read_period(PeriodForm(), CHART_MONTHS)
    if not period.valid:
        return index()
    rows = _board(period)
    table = board.board_table(rows)
    record_export([row.clinic for row in rows], "board", len(table.rows), "csv", _clock(), actor())
    return table_file(table, file_name("dna-by-clinic", *period.args.values()))


# -- one clinic's chart ---------------------------------------------------------------------


def _clinic(clinic_id: int) -> Clinic:
    return clinic_in_scope(clinic_id, Permission.VIEW_ATTENDANCE)


def _block(name: str, chart: Chart, clinic: Clinic, period: Period) -> ChartBlock:
    def url(kind: str) -> str:
        return url_for(f".download_{kind}", clinic_id=clinic.id, chart=name, **period.args)

    return ChartBlock(name, chart, url("csv"), url("svg"))


@bp.get("/attendance/<int:clinic_id>")
@requires(Permission.VIEW_ATTENDANCE)
def clinic(clinic_id: int) -> tuple[str, int]:
    """The clinic's DNA chart, its target and its rebase months."""
    return _clinic_page(_clinic(clinic_id))


def _clinic_page(
    found: Clinic,
    target_form: TargetForm | None = None,
    rebase_form: RebaseForm | None = None,
) -> tuple[str, int]:
    form = PeriodForm()
    period = read_period(form, CHART_MONTHS)
    chart = None
    if period.valid:
        chart = dna_board([found.id], period.first, period.last, _clock())[found.id]
    spc = charts.dna_spc(chart, found.name) if chart is not None else None
    if target_form is None:
        shown = labels.percent_input(chart.target if chart is not None else None)
        target_form = TargetForm(formdata=None, data={"target": shown})
    rebase_form = rebase_form or RebaseForm(formdata=None)
    page = render_template(
        "web/attendance/clinic.html",
        clinic=found,
        form=form,
        period=period,
        chart=chart,
        row=board.BoardRow(found, chart) if chart is not None else None,
        block=_block("dna", spc, found, period) if spc is not None else None,
        may_edit=staff_scope().allows(Permission.EDIT_SETTINGS, found.id),
        target_form=target_form,
        rebase_form=rebase_form,
    )
    failed = target_form.errors or rebase_form.errors
    return page, 422 if failed and period.valid else _status(period)


@bp.post("/attendance/<int:clinic_id>/target")
@requires(Permission.EDIT_SETTINGS)
def target(clinic_id: int) -> Response | tuple[str, int]:
    """Set or remove the clinic's target DNA rate; 422 (nothing saved) for a rate that
    is not a percentage from 0 to 99.9."""
    found = clinic_in_scope(clinic_id, Permission.EDIT_SETTINGS)
    posted = TargetForm()
    if not posted.validate_on_submit():
        return _clinic_page(found, target_form=posted)
    rate = posted.rate()
    if not set_dna_target(found.id, rate, _clock(), actor()):
        flash(_("Nothing was changed."))
    elif rate is None:
        flash(_("The target is removed."))
    else:
        flash(_("Target saved: %(rate)s.", rate=labels.percent_text(rate)))
    return _back(found)


@bp.post("/attendance/<int:clinic_id>/rebase")
@requires(Permission.EDIT_SETTINGS)
def rebase(clinic_id: int) -> Response | tuple[str, int]:
    """Start a new period of the clinic's chart at a month, or stop doing so; 422
    (nothing saved) for a month that is not one of the list."""
    found = clinic_in_scope(clinic_id, Permission.EDIT_SETTINGS)
    posted = RebaseForm()
    if not posted.validate_on_submit():
        return _clinic_page(found, rebase_form=posted)
    month, start = posted.chosen(), not posted.removes()
    name = labels.month_name(month)
    if not set_rebase(found.id, month, start, _clock(), actor()):
        flash(_("Nothing was changed."))
    elif start:
        flash(_("A new period starts in %(month)s.", month=name))
    else:
        flash(_("%(month)s no longer starts a new period.", month=name))
    return _back(found)


def _back(found: Clinic) -> Response:
    """To the clinic's chart, for the period the form was posted from (the form's action
    carries it), or the default one if that was not a period."""
    period = read_period(PeriodForm(), CHART_MONTHS)
    args = period.args if period.valid else {}
    return redirect(url_for(".clinic", clinic_id=found.id, **args), 303)


# -- one clinic's breakdowns ----------------------------------------------------------------


@bp.get("/attendance/<int:clinic_id>/breakdowns")
@requires(Permission.VIEW_ATTENDANCE)
def breakdowns(clinic_id: int) -> tuple[str, int]:
    """DNA rates by group, reminder exposure and lead time; cancellations by notice."""
    found = _clinic(clinic_id)
    form = PeriodForm()
    period = read_period(form, YEAR_MONTHS)
    report, blocks = None, []
    if period.valid:
        report = _report(found, period)
        blocks = [_block(name, chart, found, period) for name, chart in _breakdowns(report)]
    page = render_template(
        "web/attendance/breakdowns.html",
        clinic=found,
        form=form,
        period=period,
        report=report,
        blocks=blocks,
    )
    return page, _status(period)


def _report(found: Clinic, period: Period) -> AttendanceReport:
    return clinic_attendance(found.id, period.first, period.last, _clock()).report


def _breakdowns(report: AttendanceReport) -> list[tuple[str, Chart]]:
    found = [*charts.group_charts(report), *charts.exposure_charts(report)]
    lead, notice = charts.lead_chart(report), charts.notice_chart(report.notice)
    found += [(name, chart) for name, chart in (("lead", lead), ("notice", notice)) if chart]
    return found


# -- one clinic's downloads -----------------------------------------------------------------


def _clinic_chart(found: Clinic, name: str, period: Period) -> Chart | None:
    if name == "dna":
        chart = dna_board([found.id], period.first, period.last, _clock())[found.id]
        return charts.dna_spc(chart, found.name)
    return dict(_breakdowns(_report(found, period))).get(name)


def _download(clinic_id: int, name: str, kind: str, send: Send) -> Response | tuple[str, int]:
    found = _clinic(clinic_id)
    period = read_period(PeriodForm(), CHART_MONTHS if name == "dna" else YEAR_MONTHS)
    if not period.valid:
        return _clinic_page(found)
    chart = _clinic_chart(found, name, period)
    if chart is None:
        raise NotFound("no such chart for this clinic and period")
    record_export([found], name, len(chart.table.rows), kind, _clock(), actor())
    return send(chart, file_name(found.slug, name, *period.args.values()))


@bp.get("/attendance/<int:clinic_id>/download/<chart>.csv")
@requires(Permission.VIEW_ATTENDANCE)
def download_csv(clinic_id: int, chart: str) -> Response | tuple[str, int]:
    """A chart's table as CSV (in the audit log)."""
    return _download(clinic_id, chart, "csv", csv_file)


@bp.get("/attendance/<int:clinic_id>/download/<chart>.svg")
@requires(Permission.VIEW_ATTENDANCE)
def download_svg(clinic_id: int, chart: str) -> Response | tuple[str, int]:
    """A chart as SVG (in the audit log)."""
    return _download(clinic_id, chart, "svg", svg_file)


# -- clinics compared -----------------------------------------------------------------------


def _funnel(period: Period) -> tuple[list[Clinic], Chart | None]:
    ids = staff_scope().clinic_ids(Permission.VIEW_ATTENDANCE)
    funnel = dna_funnel(ids, period.first, period.last, _clock())
    # The funnel's clinics are read after its refresh commits (see `_board`).
    clinics = sorted(funnel.clinics.values(), key=lambda clinic: clinic.name)
    return clinics, charts.dna_funnel_plot(funnel)


@bp.get("/attendance/funnel")
@requires(Permission.VIEW_ATTENDANCE)
def funnel() -> tuple[str, int]:
    """The clinics' DNA rates over a period against funnel limits."""
    form = PeriodForm()
    period = read_period(form, YEAR_MONTHS)
    clinics: list[Clinic] = []
    block = None
    if period.valid:
        clinics, chart = _funnel(period)
        if chart is not None:
            csv_url = url_for(".funnel_csv", **period.args)
            block = ChartBlock("funnel", chart, csv_url, url_for(".funnel_svg", **period.args))
    page = render_template(
        "web/attendance/funnel.html", form=form, period=period, clinics=clinics, block=block
    )
    return page, _status(period)


def _funnel_download(kind: str, send: Send) -> Response | tuple[str, int]:
    period = read_period(PeriodForm(), YEAR_MONTHS)
    if not period.valid:
        return funnel()
    clinics, chart = _funnel(period)
    if chart is None:
        raise NotFound("no funnel plot for this period")
    record_export(clinics, "funnel", len(chart.table.rows), kind, _clock(), actor())
    return send(chart, file_name("dna-funnel", *period.args.values()))


@bp.get("/attendance/funnel.csv")
@requires(Permission.VIEW_ATTENDANCE)
def funnel_csv() -> Response | tuple[str, int]:
    """The funnel plot's table as CSV (in the audit log)."""
    return _funnel_download("csv", csv_file)


@bp.get("/attendance/funnel.svg")
@requires(Permission.VIEW_ATTENDANCE)
def funnel_svg() -> Response | tuple[str, int]:
    """The funnel plot as SVG (in the audit log)."""
    return _funnel_download("svg", svg_file)
