"""The diary: a day's appointments, their reminders, and a past day's outcomes.

- `/staff/appointments?day=YYYY-MM-DD&clinic=<id>&pathway=<code>`: the day's
  appointments at the staff member's clinics (each clinic's own day, in its own time
  zone), with the patient (their name for staff who may see names, else the clinic's
  id for them) and where the reminders stand. The filters are GET: they hold no
  personal data.
- `/staff/appointments/outcomes?day=...&clinic=<id>`: for staff who record outcomes,
  the day's booked appointments that have started, each with attended, did not attend,
  cancelled by the patient or by the clinic, saved in one go through the outcome
  import: one that cannot be recorded refuses them all, and is named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.appointments.models import AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.core.errors import NotFound
from app.diary import service
from app.diary.queries import DayAppointment, appointments_on_day, pathways_on_day
from app.runtime import get_runtime
from app.web import nav
from app.web.diary_view import (
    DAY_LENGTH,
    OUTCOME_CHOICES,
    DiaryView,
    Filters,
    parse_day,
    shows_name,
)
from app.web.nav import Section
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_appointments", __name__)

nav.add(
    Section(
        endpoint="staff_appointments.day",
        label=_l("Appointments"),
        description=_l("Each day's appointments, their reminders and outcomes"),
        permission=Permission.VIEW_APPOINTMENTS,
        blueprints=("staff_appointments",),
        order=20,
    )
)

_PATHWAY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _real_date(_form: FlaskForm, field: Field) -> None:
    if field.data and parse_day(field.data) is None:
        raise ValidationError(_("Enter a real date, for example 2026-03-02"))


class DayForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """The day and the filters (GET: no personal data in them)."""

    class Meta:
        csrf = False

    day = StringField(
        _l("Date"),
        validators=[
            Optional(),
            Length(max=10, message=_l("Enter a real date, for example 2026-03-02")),
            _real_date,
        ],
    )
    clinic = StringField(
        _l("Clinic"),
        validators=[Optional(), Length(max=12, message=_l("Choose a clinic from the list"))],
    )
    pathway = StringField(
        _l("Pathway"),
        validators=[Optional(), Length(max=64, message=_l("Choose a pathway from the list"))],
    )

    def __init__(self, clinics: Sequence[Clinic], **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)
        self.clinics = list(clinics)

    def validate_clinic(self, field: Field) -> None:
        if field.data and self.chosen_clinic() is None:
            raise ValidationError(_("Choose a clinic from the list"))

    def validate_pathway(self, field: Field) -> None:
        if field.data and not _PATHWAY.match(field.data):
            raise ValidationError(_("Choose a pathway from the list"))

    def chosen_clinic(self) -> Clinic | None:
        return next((c for c in self.clinics if str(c.id) == self.clinic.data), None)


def _filters(form: DayForm, valid: bool) -> Filters:
    clinic = form.chosen_clinic() if valid else None
    zone_clinic = clinic or (form.clinics[0] if form.clinics else None)
    zone = ZoneInfo(zone_clinic.timezone) if zone_clinic else ZoneInfo("Europe/London")
    today = get_runtime().clock.now().astimezone(zone).date()
    day = (parse_day(form.day.data or "") if valid else None) or today
    pathway = (form.pathway.data or None) if valid else None
    return Filters(day, today, clinic, pathway)


@bp.get("/appointments")
@requires(Permission.VIEW_APPOINTMENTS)
def day() -> tuple[str, int]:
    """The day's appointments (400, with the field named, for filters that make no
    sense)."""
    scope = staff_scope()
    form = DayForm(scope.clinics(Permission.VIEW_APPOINTMENTS))
    valid = form.validate()
    filters = _filters(form, valid)
    clinic_id = filters.clinic.id if filters.clinic else None
    rows = appointments_on_day(
        scope,
        Permission.VIEW_APPOINTMENTS,
        filters.day,
        clinic_id=clinic_id,
        pathway=filters.pathway,
    )
    pathways = pathways_on_day(
        scope, Permission.VIEW_APPOINTMENTS, filters.day, clinic_id=clinic_id
    )
    page = render_template(
        "web/appointments/day.html",
        form=form,
        filters=filters,
        rows=rows,
        pathways=sorted(set(pathways) | ({filters.pathway} if filters.pathway else set())),
        clinics=form.clinics,
        outcome_clinics=_outcome_clinics(rows, filters),
        view=DiaryView(),
    )
    _note_names(rows)  # after rendering: the audit commits, which would expire the rows
    return page, 200 if valid else 400


def _outcome_clinics(rows: Sequence[DayAppointment], filters: Filters) -> list[Clinic]:
    """The clinics of the day whose outcomes the staff member may record: those with a
    booked appointment that has started."""
    if filters.day > filters.today:
        return []
    scope, now = staff_scope(), get_runtime().clock.now()
    found: dict[int, Clinic] = {}
    for row in rows:
        waiting = row.appointment.status is AppointmentStatus.BOOKED
        started = row.appointment.starts_at <= now
        if waiting and started and scope.allows(Permission.RECORD_OUTCOMES, row.clinic.id):
            found[row.clinic.id] = row.clinic
    return sorted(found.values(), key=lambda c: c.name)


def _note_names(rows: Sequence[DayAppointment]) -> None:
    """Record, in the audit log, whose names the page shows."""
    shown: dict[int, list[int]] = {}
    for row in rows:
        if shows_name(row):
            shown.setdefault(row.clinic.id, []).append(row.patient.id)
    if shown:
        service.note_day_shown(shown, actor=actor(), clock=get_runtime().clock)


# -- a day's outcomes --------------------------------------------------------------------


class OutcomesForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: each appointment's choice is its own field (`outcome-<id>`)."""


@dataclass(frozen=True)
class _Problem:
    appointment_id: int
    text: str


def _outcome_page(
    clinic_id_text: str | None,
) -> tuple[Clinic, Filters, list[DayAppointment]]:
    """The clinic (NotFound unless the staff member records its outcomes), the day, and
    its booked appointments that have started."""
    scope = staff_scope()
    clinic = next(
        (
            c
            for c in scope.clinics(Permission.RECORD_OUTCOMES)
            if str(c.id) == (clinic_id_text or "")
        ),
        None,
    )
    if clinic is None:
        raise NotFound("not found")
    zone = ZoneInfo(clinic.timezone)
    now = get_runtime().clock.now()
    today = now.astimezone(zone).date()
    day = parse_day(request.args.get("day", "")[:DAY_LENGTH]) or today
    rows = [
        row
        for row in appointments_on_day(
            scope,
            Permission.RECORD_OUTCOMES,
            day,
            clinic_id=clinic.id,
            statuses=(AppointmentStatus.BOOKED,),
        )
        if row.appointment.starts_at <= now
    ]
    return clinic, Filters(day, today, clinic, None), rows


@bp.get("/appointments/outcomes")
@requires(Permission.RECORD_OUTCOMES)
def outcomes() -> tuple[str, int]:
    """The form: the day's booked appointments that have started, one choice each."""
    clinic, filters, rows = _outcome_page(request.args.get("clinic"))
    page = _render_outcomes(clinic, filters, rows, OutcomesForm(), {}, [], None, 200)
    _note_names(rows)  # after rendering: the audit commits, which would expire the rows
    return page


@bp.post("/appointments/outcomes")
@requires(Permission.RECORD_OUTCOMES)
def record_outcomes() -> Response | tuple[str, int]:
    """Save the chosen outcomes, all or none: 400 for a form that no longer matches the
    list, 422 (nothing saved) for a choice that cannot be recorded, with its row named."""
    clinic, filters, rows = _outcome_page(request.args.get("clinic"))
    form = OutcomesForm()
    chosen = _chosen(request.form)
    listed = {row.appointment.id: row for row in rows}
    if not form.validate_on_submit():
        return _render_outcomes(clinic, filters, rows, form, chosen, [], None, 400)
    if set(chosen) - set(listed):
        problem = _("The list has changed since you opened it. Check the outcomes and save again.")
        return _render_outcomes(clinic, filters, rows, form, {}, [], problem, 400)
    problems = [
        _Problem(appointment_id, _("Choose an outcome from the list"))
        for appointment_id, value in chosen.items()
        if value not in _CHOICE_VALUES
    ]
    choices = [
        (appointment_id, AppointmentStatus(value))
        for appointment_id, value in chosen.items()
        if value in _CHOICE_VALUES
    ]
    if not problems and not choices:
        first = _Problem(rows[0].appointment.id, "") if rows else None
        problem = _("Choose an outcome for at least one appointment")
        return _render_outcomes(
            clinic, filters, rows, form, chosen, [], problem, 422, point_to=first
        )
    if not problems:
        refused = service.record_outcomes(
            clinic.id, choices, actor=actor(), clock=get_runtime().clock
        )
        problems = [_Problem(p.appointment_id, p.reason) for p in refused]
    if problems:
        return _render_outcomes(clinic, filters, rows, form, chosen, problems, None, 422)
    flash(
        ngettext(
            "Outcome saved for %(num)d appointment.",
            "Outcomes saved for %(num)d appointments.",
            len(choices),
        )
    )
    return redirect(url_for("staff_appointments.day", **filters.args()), 303)


_CHOICE_VALUES = frozenset(status.value for status, _label in OUTCOME_CHOICES)
_FIELD = re.compile(r"^outcome-(\d{1,12})$")


def _chosen(posted: Mapping[str, str]) -> dict[int, str]:
    """Each appointment's choice by its id, from the `outcome-<id>` fields ("" is none)."""
    found: dict[int, str] = {}
    for key in posted:
        match = _FIELD.match(key)
        value = str(posted.get(key, ""))
        if match and value:
            found[int(match.group(1))] = value[:32]
    return found


def _render_outcomes(
    clinic: Clinic,
    filters: Filters,
    rows: Sequence[DayAppointment],
    form: OutcomesForm,
    chosen: Mapping[int, str],
    problems: Sequence[_Problem],
    problem: str | None,
    status: int,
    point_to: _Problem | None = None,
) -> tuple[str, int]:
    """The form, with each row's problem under it and in the summary (linked to the
    row), or a `problem` with the whole form (linked to the `point_to` row, if any)."""
    listed = {row.appointment.id: row for row in rows}
    view = DiaryView()
    errors = {p.appointment_id: p.text for p in problems}
    summary = [
        {
            "href": f"#outcome-{p.appointment_id}",
            "text": f"{view.time(listed[p.appointment_id])} "
            f"{view.patient(listed[p.appointment_id])}: {p.text}",
        }
        for p in problems
        if p.appointment_id in listed
    ]
    if problem and point_to is not None:
        summary, problem = [{"href": f"#outcome-{point_to.appointment_id}", "text": problem}], None
    page = render_template(
        "web/appointments/outcomes.html",
        clinic=clinic,
        filters=filters,
        rows=rows,
        form=form,
        chosen=chosen,
        errors=errors,
        error_list=summary,
        problem=problem,
        choices=[(status.value, str(label)) for status, label in OUTCOME_CHOICES],
        view=view,
    )
    return page, status
