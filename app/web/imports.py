"""Imports: upload a file of patients, appointments or outcomes, or a FHIR bundle, and
follow its import.

- `/staff/imports`: the upload form (one clinic, the kind of file, what to do with rows
  that have problems) and the latest imports of the staff member's clinics.
- `/staff/imports/<id>`: one import. While it runs, a progress bar (refreshed every
  second by htmx; without JavaScript, a link reloads the page); when it ends, its
  counts and its report, the same `FILE:LINE: FIELD: reason` lines as the command line.
- `/staff/imports/<id>/report.txt`: the whole report, to download.

The file is stored in the database and imported by a worker, with the same services as
the command line; a file that cannot be imported at all is refused on the form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import make_response, redirect, render_template, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import AnyOf, InputRequired

from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.runtime import get_runtime
from app.uploads import service
from app.uploads.files import MAX_FILE_BYTES, FileProblem
from app.uploads.kinds import FINISHED, ImportKind, ImportState
from app.uploads.progress import ProgressBoard, RowCount
from app.uploads.queries import SHOWN_LINES, ListedRun, get_run, recent_runs, report_lines
from app.web import nav
from app.web.nav import Section
from app.web.pages import error_page, requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_imports", __name__)

nav.add(
    Section(
        endpoint="staff_imports.index",
        label=_l("Imports"),
        description=_l("Upload patients, appointments and outcomes, and see how imports went"),
        permission=Permission.IMPORT,
        blueprints=("staff_imports",),
        order=60,
    )
)

KIND_WORDS: dict[ImportKind, Any] = {
    ImportKind.PATIENTS: _l("Patients"),
    ImportKind.APPOINTMENTS: _l("Appointments"),
    ImportKind.OUTCOMES: _l("Outcomes"),
    ImportKind.FHIR: _l("FHIR bundle"),
}
KIND_HINTS: dict[ImportKind, Any] = {
    ImportKind.PATIENTS: _l("A CSV file of patients, one row each"),
    ImportKind.APPOINTMENTS: _l("A CSV file of appointments, for patients already here"),
    ImportKind.OUTCOMES: _l("A CSV file of what happened at appointments already here"),
    ImportKind.FHIR: _l("A FHIR R4 Bundle of Appointment resources, as JSON"),
}
STATE_WORDS: dict[ImportState, Any] = {
    ImportState.QUEUED: _l("Waiting"),
    ImportState.RUNNING: _l("Importing"),
    ImportState.IMPORTED: _l("Imported"),
    ImportState.REFUSED: _l("Nothing imported"),
    ImportState.FAILED: _l("Failed"),
}
STATE_COLOURS = {
    ImportState.QUEUED: "grey",
    ImportState.RUNNING: "blue",
    ImportState.IMPORTED: "green",
    ImportState.REFUSED: "red",
    ImportState.FAILED: "red",
}
FILE_PROBLEMS: dict[FileProblem, Any] = {
    FileProblem.EMPTY: _l("The selected file is empty"),
    FileProblem.TOO_LARGE: _l("The selected file must be smaller than 8 MB"),
    FileProblem.NOT_UTF8: _l(
        "The selected file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again"
    ),
    FileProblem.NOT_CSV: _l("The selected file cannot be read as CSV"),
    FileProblem.WRONG_COLUMNS: _l(
        "The first line of the file must name the columns for this kind of file"
    ),
    FileProblem.NOT_JSON: _l("The selected file is not JSON"),
    FileProblem.NOT_BUNDLE: _l("The selected file is not a FHIR bundle"),
}
STRICT, LENIENT = "nothing", "others"


class UploadForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """The upload. The template draws the choices; the values are checked here."""

    clinic = StringField(_l("Clinic"), validators=[InputRequired(_l("Choose a clinic"))])
    kind = StringField(
        _l("What is in the file?"),
        validators=[
            InputRequired(_l("Choose what is in the file")),
            AnyOf([kind.value for kind in ImportKind], message=_l("Choose what is in the file")),
        ],
    )
    file = FileField(_l("File"), validators=[FileRequired(_l("Select a file to upload"))])
    rows = StringField(
        _l("If some rows have problems"),
        default=LENIENT,
        validators=[
            InputRequired(_l("Choose what to do with rows that have problems")),
            AnyOf([LENIENT, STRICT], message=_l("Choose what to do with rows that have problems")),
        ],
    )

    def for_clinics(self, clinics: list[Clinic]) -> UploadForm:
        """The form for these clinics (the only one chosen already, if there is one)."""
        if len(clinics) == 1 and not self.clinic.data:
            self.clinic.data = str(clinics[0].id)
        return self


@bp.get("/imports")
@requires(Permission.IMPORT)
def index() -> tuple[str, int]:
    """The upload form and the latest imports."""
    return _index(UploadForm(formdata=None), 200)


@bp.post("/imports")
@requires(Permission.IMPORT)
def upload() -> Response | tuple[str, int]:
    """Store the file and queue its import, then show the import (303); 422 with the
    field named (nothing stored) for a form or a file that cannot be taken."""
    clinics = staff_scope().clinics(Permission.IMPORT)
    form = UploadForm().for_clinics(clinics)
    if not form.validate_on_submit():
        return _index(form, 422)
    clinic = next((c for c in clinics if str(c.id) == form.clinic.data), None)
    if clinic is None:
        form.clinic.errors = [_("Choose a clinic")]
        return _index(form, 422)
    stored = form.file.data
    upload = service.Upload(
        clinic_id=clinic.id,
        kind=ImportKind(form.kind.data),
        file_name=stored.filename,
        content=stored.read(MAX_FILE_BYTES + 1),
        strict=form.rows.data == STRICT,
    )
    runtime = get_runtime()
    try:
        run = service.start_import(upload, actor=actor(), clock=runtime.clock, queue=runtime.queue)
    except service.UploadRefused as refused:
        form.file.errors = [str(FILE_PROBLEMS[refused.refusal.problem])]
        return _index(form, 422, details=refused.refusal.details)
    return redirect(url_for("staff_imports.run", run_id=run.id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    """A body over the request limit, refused before it was read: the form again (for
    staff who may import; an error page for anyone else)."""
    if not staff_scope().may(Permission.IMPORT):
        return error_page(413)
    form = UploadForm(formdata=None)
    form.file.errors = [str(FILE_PROBLEMS[FileProblem.TOO_LARGE])]
    return _index(form, 413)


def _index(form: UploadForm, status: int, details: tuple[str, ...] = ()) -> tuple[str, int]:
    scope = staff_scope()
    clinics = scope.clinics(Permission.IMPORT)
    form.for_clinics(clinics)
    page = render_template(
        "web/imports/index.html",
        form=form,
        clinics=clinics,
        details=details,
        runs=recent_runs(scope),
        kinds=list(ImportKind),
        view=_View(),
    )
    return page, status


@bp.get("/imports/<int:run_id>")
@requires(Permission.IMPORT)
def run(run_id: int) -> tuple[str, int]:
    """One import: its progress while it runs, its counts and report when it ends."""
    listed = get_run(staff_scope(), run_id)
    page = render_template(
        "web/imports/run.html",
        listed=listed,
        progress=_progress(listed),
        lines=report_lines(listed.run),
        shown=SHOWN_LINES,
        view=_View(),
        use_htmx=listed.run.state not in FINISHED,
    )
    return page, 200


@bp.get("/imports/<int:run_id>/progress")
@requires(Permission.IMPORT)
def progress(run_id: int) -> Response:
    """The progress part of the import's page (htmx asks for it every second); once the
    import has ended, the whole page is reloaded."""
    listed = get_run(staff_scope(), run_id)
    response = make_response(
        render_template(
            "web/imports/_progress.html",
            listed=listed,
            progress=_progress(listed),
            view=_View(),
        )
    )
    if listed.run.state in FINISHED:
        response.headers["HX-Refresh"] = "true"
    return response


def _progress(listed: ListedRun) -> RowCount | None:
    if listed.run.state in FINISHED:
        return None
    return ProgressBoard(get_runtime().queue.connection).read(listed.run.id)


@bp.get("/imports/<int:run_id>/report.txt")
@requires(Permission.IMPORT)
def report(run_id: int) -> Response:
    """The whole report as a text file: its lines, then the summary (or why the import
    failed), as the command line prints them. In the audit log as an export."""
    listed = get_run(staff_scope(), run_id)
    found = service.report_for_download(listed.run.id, actor=actor(), clock=get_runtime().clock)
    response = make_response(found)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="import-{listed.run.id}-report.txt"'
    )
    return response


class _View:
    """How the templates write kinds, states, times and numbers."""

    def kind(self, kind: ImportKind) -> str:
        return str(KIND_WORDS[kind])

    def kind_hint(self, kind: ImportKind) -> str:
        return str(KIND_HINTS[kind])

    def state(self, state: ImportState) -> str:
        return str(STATE_WORDS[state])

    def state_colour(self, state: ImportState) -> str:
        return STATE_COLOURS[state]

    def when(self, instant: datetime | None, clinic: Clinic) -> str:
        if instant is None:
            return ""
        local = instant.astimezone(ZoneInfo(clinic.timezone))
        return str(
            _(
                "%(date)s at %(time)s",
                date=format_date(local, "d MMMM y", locale=_locale()),
                time=format_time(local, "HH:mm", locale=_locale()),
            )
        )

    def number(self, value: int | None) -> str:
        return format_decimal(value or 0, locale=_locale())

    def bad_rows(self, count: int) -> str:
        return str(ngettext("%(num)d row with problems", "%(num)d rows with problems", count))


def _locale() -> str:
    return str(get_locale() or "en")
