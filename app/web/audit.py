"""The audit log: `/staff/audit`, for auditors and admins (VIEW_AUDIT).

- A search by dates, action, staff member, record type and record id, newest first,
  a page at a time; the form posts (the search is in no URL) and every search is itself
  in the log (VIEW_AUDIT).
- `/staff/audit/export` downloads the same search as CSV, formula cells escaped; the
  export is in the log too (EXPORT).
- `/staff/audit/retention` sets how long the organisation keeps message texts and
  free-text answers (admins: ERASE_PATIENTS, since the purge erases them).

A staff member sees the events of their own organisations only: the query keeps to
them (`app.audit.queries.AuditSearch`), including sign-ins, which carry no organisation
and are shown only for staff of those organisations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field, SelectField, StringField
from wtforms.validators import DataRequired, ValidationError

from app.audit.models import AuditAction
from app.audit.queries import AuditSearch, record_types
from app.clinics.roles import Permission
from app.core.errors import Invalid
from app.core.exports import csv_lines
from app.privacy import queries
from app.privacy import service as privacy
from app.privacy.queries import EventRow
from app.privacy.rules import MAX_RETENTION_MONTHS, MIN_RETENTION_MONTHS
from app.runtime import get_runtime
from app.web import nav
from app.web.audit_labels import action_label, readable, record_type_label
from app.web.nav import Section
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_audit", __name__)

nav.add(
    Section(
        endpoint="staff_audit.search",
        label=_l("Audit log"),
        description=_l("See who viewed or changed what, when, and from where"),
        permission=Permission.VIEW_AUDIT,
        blueprints=("staff_audit",),
        order=90,
    )
)

#: Staff read times in UK time.
STAFF_ZONE = ZoneInfo("Europe/London")
#: Events on one page.
PAGE_SIZE = 50
#: Dates a search may name (beyond them, a date is a typing mistake).
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: The boxes of a date, in the order they are shown.
DATE_PARTS = ("day", "month", "year")
#: Pages past this are not asked for (the offset would be absurd).
MAX_PAGE = 100_000


def _day(form: FlaskForm, prefix: str) -> date | None:
    """The date typed in the day, month and year boxes named `prefix`_…, or None when
    all three are empty; ValidationError (saying what to do) for anything else."""
    parts = [(getattr(form, f"{prefix}_{unit}").data or "").strip() for unit in DATE_PARTS]
    if not any(parts):
        return None
    if not all(part.isascii() and part.isdigit() and len(part) <= 4 for part in parts):
        raise ValidationError(_("Enter a real date, for example 2 3 2026"))
    day, month, year = (int(part) for part in parts)
    try:
        found = date(year, month, day)
    except ValueError:
        raise ValidationError(_("Enter a real date, for example 2 3 2026")) from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise ValidationError(_("Enter a year from 2000 to 2100"))
    return found


class ChoiceField(SelectField):  # type: ignore[misc]  # wtforms ships no types
    """A select whose refusal of a value not offered says what to do."""

    def __init__(self, label: Any, message: Any, **kwargs: Any) -> None:
        super().__init__(label, default="", **kwargs)
        self.refusal = message

    def pre_validate(self, form: Any) -> None:
        if self.data not in {str(value) for value, _label in self.choices or ()}:
            raise ValidationError(str(self.refusal))


class SearchForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    since_day = StringField(_l("Day"))
    since_month = StringField(_l("Month"))
    since_year = StringField(_l("Year"))
    until_day = StringField(_l("Day"))
    until_month = StringField(_l("Month"))
    until_year = StringField(_l("Year"))
    action = ChoiceField(_l("Action"), _l("Choose an action from the list"))
    user = ChoiceField(_l("Staff member"), _l("Choose a staff member from the list"))
    record_type = ChoiceField(_l("Record type"), _l("Choose a record type from the list"))
    record_id = StringField(_l("Record ID"))

    def validate_since_day(self, field: Field) -> None:
        _day(self, "since")

    def validate_until_day(self, field: Field) -> None:
        until = _day(self, "until")
        try:
            since = _day(self, "since")
        except ValidationError:
            return
        if since and until and until < since:
            raise ValidationError(_("The ‘To’ date must be the same as or after the ‘From’ date"))

    def validate_record_id(self, field: Field) -> None:
        raw = (field.data or "").strip()
        if raw and not (
            raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) < 2**31
        ):
            raise ValidationError(_("Enter a record ID as a whole number, like 42"))


def _search_form(members: Sequence[Any]) -> SearchForm:
    form = SearchForm()
    actions = sorted(((a.value, action_label(a.value)) for a in AuditAction), key=lambda p: p[1])
    form.action.choices = [("", _("Any action")), *actions]
    form.user.choices = [("", _("Anyone"))] + [
        (str(m.id), f"{m.name} ({m.email})" if m.name else m.email) for m in members
    ]
    types = [(t, record_type_label(t)) for t in record_types()]
    form.record_type.choices = [("", _("Any type")), *types]
    return form


@dataclass(frozen=True)
class Reach:
    """Whose events the signed-in staff member may see."""

    organisation_ids: list[int]
    clinic_ids: list[int]
    members: list[Any]

    def search(self, **filters: Any) -> AuditSearch:
        return AuditSearch(
            organisation_ids=self.organisation_ids,
            clinic_ids=self.clinic_ids,
            member_ids=[m.id for m in self.members],
            **filters,
        )


def _reach() -> Reach:
    scope = staff_scope()
    organisations = sorted(scope.organisation_ids(Permission.VIEW_AUDIT))
    clinics = sorted(scope.clinic_ids(Permission.VIEW_AUDIT))
    return Reach(organisations, clinics, queries.members_of(organisations))


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=STAFF_ZONE)


def _filters(form: SearchForm) -> dict[str, Any]:
    """The search the (valid) form asks for."""
    since, until = _day(form, "since"), _day(form, "until")
    record_id = (form.record_id.data or "").strip()
    return {
        "since": _instant(since) if since else None,
        "until": _instant(until + timedelta(days=1)) if until else None,
        "action": AuditAction(form.action.data) if form.action.data else None,
        "user_id": int(form.user.data) if form.user.data else None,
        "record_type": form.record_type.data or None,
        "record_id": int(record_id) if record_id else None,
    }


def _page_number() -> int:
    raw = request.form.get("page", "0")
    if not (raw.isascii() and raw.isdigit()):
        return 0
    return MAX_PAGE if len(raw) > 6 else min(int(raw), MAX_PAGE)


@bp.route("/audit", methods=["GET", "POST"])
@requires(Permission.VIEW_AUDIT)
def search() -> tuple[str, int]:
    """The search form and one page of events (the newest, before any search)."""
    reach = _reach()
    form = _search_form(reach.members)
    if form.is_submitted() and not form.validate():
        return _render(form, reach, None, []), 422
    runtime = get_runtime()
    filters = _filters(form) if form.is_submitted() else {}
    found, rows = privacy.search_audit_log(
        reach.search(**filters), _page_number(), PAGE_SIZE, runtime.clock, actor()
    )
    return _render(form, reach, found, rows), 200


def _render(form: SearchForm, reach: Reach, found: Any, rows: list[EventRow]) -> str:
    scope = staff_scope()
    return render_template(
        "web/audit/search.html",
        form=form,
        found=found,
        rows=[_shown(row) for row in rows],
        retention=queries.organisations(reach.organisation_ids),
        can_set_retention=scope.may(Permission.ERASE_PATIENTS),
        page_size=PAGE_SIZE,
    )


def _when(instant: datetime) -> str:
    return format_datetime(
        instant.astimezone(STAFF_ZONE), "d MMM y, HH:mm:ss", locale=get_locale() or "en"
    )


def _actor_text(row: EventRow) -> str:
    if row.actor_kind == "staff":
        return row.actor_name
    if row.actor_kind == "token":
        return str(_("API token %(name)s", name=row.actor))
    return str(_("System"))


def _records_text(row: EventRow) -> str:
    ids = ", ".join(str(i) for i in row.record_ids)
    return f"{record_type_label(row.record_type)} {ids}".strip()


def _shown(row: EventRow) -> dict[str, Any]:
    return {
        "when": _when(row.at),
        "who": _actor_text(row),
        "email": row.actor_email,
        "what": action_label(row.action),
        "where": row.clinic or row.organisation,
        "records": _records_text(row),
        "detail": ", ".join(f"{readable(key)}: {value}" for key, value in row.detail),
        "address": row.address or _("Not recorded"),
    }


EXPORT_HEADER = (
    "when_utc",
    "action",
    "who",
    "staff_user_id",
    "api_token",
    "organisation",
    "clinic",
    "record_type",
    "record_ids",
    "address",
    "detail",
)


def _export_actor(row: EventRow) -> str:
    if row.actor_kind == "staff":
        return row.actor
    return "system" if row.actor_kind == "system" else ""


def _export_rows(rows: Iterator[EventRow]) -> Iterator[Sequence[object]]:
    for row in rows:
        yield (
            row.at.isoformat(),
            row.action,
            _export_actor(row),
            row.actor_user_id,
            row.actor if row.actor_kind == "token" else "",
            row.organisation,
            row.clinic,
            row.record_type,
            " ".join(str(i) for i in row.record_ids),
            row.address,
            "; ".join(f"{key}={value}" for key, value in row.detail),
        )


@bp.post("/audit/export")
@requires(Permission.VIEW_AUDIT)
def export() -> BaseResponse | tuple[str, int]:
    """The search as a CSV file: every event it finds, newest first."""
    reach = _reach()
    form = _search_form(reach.members)
    if not form.validate():
        return _render(form, reach, None, []), 422
    runtime = get_runtime()
    rows = privacy.export_audit_log(reach.search(**_filters(form)), runtime.clock, actor())
    name = f"audit-log-{runtime.clock.now():%Y%m%d-%H%M%S}.csv"
    return Response(
        stream_with_context(csv_lines(EXPORT_HEADER, _export_rows(rows))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- retention ------------------------------------------------------------------------------


def _months(form: FlaskForm, field: Field) -> None:
    raw = (field.data or "").strip()
    allowed = range(MIN_RETENTION_MONTHS, MAX_RETENTION_MONTHS + 1)
    if not (raw.isascii() and raw.isdigit() and len(raw) < 5 and int(raw) in allowed):
        raise ValidationError(
            _(
                "Enter a whole number of months from %(low)d to %(high)d",
                low=MIN_RETENTION_MONTHS,
                high=MAX_RETENTION_MONTHS,
            )
        )


class RetentionForm(FlaskForm):  # type: ignore[misc]
    organisation = ChoiceField(_l("Organisation"), _l("Choose an organisation from the list"))
    months = StringField(
        _l("Months to keep message texts and free-text answers"),
        validators=[DataRequired(_l("Enter a number of months")), _months],
    )


@bp.route("/audit/retention", methods=["GET", "POST"])
@requires(Permission.ERASE_PATIENTS)
def retention() -> BaseResponse | tuple[str, int]:
    """How many months the organisation keeps texts before the nightly purge."""
    organisations = queries.organisations(staff_scope().organisation_ids(Permission.ERASE_PATIENTS))
    form = RetentionForm()
    form.organisation.choices = [(str(o.id), o.name) for o in organisations]
    if not form.is_submitted() and organisations:
        form.organisation.data = str(organisations[0].id)
        form.months.data = str(organisations[0].retention_months)
    if form.validate_on_submit():
        runtime = get_runtime()
        try:
            privacy.set_retention(
                int(form.organisation.data), int(form.months.data), runtime.clock, actor()
            )
        except Invalid as exc:
            form.months.errors.append(str(exc))
        else:
            flash(_("The retention period has been saved"))
            return redirect(url_for("staff_audit.search"), code=303)
    status = 422 if form.is_submitted() else 200
    page = render_template("web/audit/retention.html", form=form, organisations=organisations)
    return page, status
