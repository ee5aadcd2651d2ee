"""Clinic settings: the sender, quiet hours, reminder rules, the survey and its timing,
the pathways never surveyed, and the default language.

- `/staff/settings`: the clinics whose settings the staff member may change (straight
  to the one, if one).
- `/staff/settings/<clinic>`: one form for all of them. The service checks every field
  (`app.clinics.settings`) and the page shows each one that is wrong, saving nothing;
  a saved change is in the audit log with the names of the fields that changed.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from app.clinics import settings as rules
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.clinics.service import current_settings, update_settings
from app.clinics.settings import Problem, ReminderInput, SettingsInput, SettingsRefused
from app.core.locales import SUPPORTED_LOCALES
from app.runtime import get_runtime
from app.surveys.queries import survey_slugs
from app.web import formats, nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import clinic_in_scope

bp = staff_blueprint("staff_settings", __name__)

nav.add(
    nav.Section(
        endpoint="staff_settings.index",
        label=_l("Settings"),
        description=_l("Your clinic's number, quiet hours, reminders and survey."),
        permission=Permission.EDIT_SETTINGS,
        blueprints=("staff_settings",),
        order=70,
    )
)

#: What staff read for each field in "Saved: ..." and the audit log's field names.
FIELD_NAMES = {
    "sender": _l("sender"),
    "quiet_start": _l("quiet hours"),
    "quiet_end": _l("quiet hours"),
    "reminder_rules": _l("reminders"),
    "survey_slug": _l("survey"),
    "survey_delay_minutes": _l("survey timing"),
    "survey_window_minutes": _l("survey timing"),
    "survey_interval_days": _l("survey timing"),
    "survey_suppressed_pathways": _l("pathways not surveyed"),
    "default_locale": _l("default language"),
}


def _short(limit: int) -> Length:
    return Length(max=limit, message=_l("Enter %(max)d characters or fewer", max=limit))


def _amount() -> StringField:
    return StringField(_l("How many"), validators=[_short(5)])


def _unit() -> SelectField:
    return SelectField(
        _l("Days or hours"),
        choices=[
            SelectChoice(rules.DAYS, _l("days before")),
            SelectChoice(rules.HOURS, _l("hours before")),
        ],
        validate_choice=False,
    )


def _at() -> StringField:
    return StringField(_l("At (optional)"), validators=[_short(5)])


class SettingsForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    sender = StringField(_l("Number or Messaging Service"), validators=[_short(64)])
    quiet_start = StringField(_l("From"), validators=[_short(5)])
    quiet_end = StringField(_l("Until"), validators=[_short(5)])
    reminder_1_amount, reminder_1_unit, reminder_1_at = _amount(), _unit(), _at()
    reminder_2_amount, reminder_2_unit, reminder_2_at = _amount(), _unit(), _at()
    reminder_3_amount, reminder_3_unit, reminder_3_at = _amount(), _unit(), _at()
    reminder_4_amount, reminder_4_unit, reminder_4_at = _amount(), _unit(), _at()
    survey_slug = SelectField(_l("Survey"), validate_choice=False)
    survey_delay_hours = StringField(_l("Hours after the appointment"), validators=[_short(5)])
    survey_window_hours = StringField(
        _l("Hours it may still go out after that"), validators=[_short(5)]
    )
    survey_interval_days = StringField(
        _l("Ask each patient at most once in this many days"), validators=[_short(5)]
    )
    suppressed_pathways = TextAreaField(_l("Pathways never surveyed"), validators=[_short(4000)])
    default_locale = SelectField(_l("Default language"), validate_choice=False)

    def reminder_rows(self) -> list[tuple[int, Field, Field, Field]]:
        """Each reminder row's number and its three fields."""
        return [
            (
                row,
                self[rules.reminder_field(row, "amount")],
                self[rules.reminder_field(row, "unit")],
                self[rules.reminder_field(row, "at")],
            )
            for row in range(1, rules.MAX_REMINDERS + 1)
        ]

    def as_input(self) -> SettingsInput:
        """What was typed, as the service reads it."""
        return SettingsInput(
            sender=self.sender.data or "",
            quiet_start=self.quiet_start.data or "",
            quiet_end=self.quiet_end.data or "",
            reminders=tuple(
                ReminderInput(amount.data or "", unit.data or "", at.data or "")
                for _row, amount, unit, at in self.reminder_rows()
            ),
            survey_slug=self.survey_slug.data or "",
            survey_delay_hours=self.survey_delay_hours.data or "",
            survey_window_hours=self.survey_window_hours.data or "",
            survey_interval_days=self.survey_interval_days.data or "",
            suppressed_pathways=self.suppressed_pathways.data or "",
            default_locale=self.default_locale.data or "",
        )


def _form_data(raw: SettingsInput) -> dict[str, str]:
    data = {
        "sender": raw.sender,
        "quiet_start": raw.quiet_start,
        "quiet_end": raw.quiet_end,
        "survey_slug": raw.survey_slug,
        "survey_delay_hours": raw.survey_delay_hours,
        "survey_window_hours": raw.survey_window_hours,
        "survey_interval_days": raw.survey_interval_days,
        "suppressed_pathways": raw.suppressed_pathways,
        "default_locale": raw.default_locale,
    }
    for row, reminder in enumerate(raw.reminders, start=1):
        data[rules.reminder_field(row, "amount")] = reminder.amount
        data[rules.reminder_field(row, "unit")] = reminder.unit
        data[rules.reminder_field(row, "at")] = reminder.at
    return data


def problem_text(problem: Problem, clinic: Clinic, field: str) -> str | LazyString:
    """What staff read for a problem with a field: what to do about it."""
    if problem is Problem.OUT_OF_RANGE:
        low, high = rules.RANGES[field]
        return _("Enter a whole number from %(low)d to %(high)d", low=low, high=high)
    if problem is Problem.REMINDER_TOO_CLOSE:
        hours = rules.min_reminder_hours(clinic.expiry_margin_minutes)
        return _(
            "Choose %(hours)d hours or more: a reminder closer to the appointment is never sent",
            hours=hours,
        )
    if problem is Problem.REMINDER_TOO_FAR:
        return _("Choose %(days)d days or fewer", days=rules.MAX_REMINDER_DAYS)
    if problem is Problem.TOO_MANY_PATHWAYS:
        return _("Enter %(count)d pathways or fewer", count=rules.MAX_PATHWAYS)
    return PROBLEMS[problem]


PROBLEMS: dict[Problem, LazyString] = {
    Problem.SENDER_MISSING: _l("Enter the number or Messaging Service your clinic sends from"),
    Problem.SENDER_INVALID: _l(
        "Enter a UK phone number, like 020 7183 8750, or a Messaging Service SID starting MG"
    ),
    Problem.SENDER_TAKEN: _l("Another clinic sends from this number: enter a different one"),
    Problem.TIME_INVALID: _l("Enter a time in 24-hour format, like 21:00"),
    Problem.REMINDERS_NONE: _l("Enter at least one reminder"),
    Problem.REMINDER_AMOUNT: _l("Enter how many days or hours before, as a whole number, like 7"),
    Problem.REMINDER_UNIT: _l("Choose days or hours"),
    Problem.REMINDER_TIME_WITH_HOURS: _l("Leave the time empty for a reminder counted in hours"),
    Problem.REMINDER_TIME_QUIET: _l("Choose a time outside quiet hours"),
    Problem.REMINDER_OVERLAP: _l(
        "Another reminder goes this long before the appointment: change or remove one of them"
    ),
    Problem.SURVEY_UNKNOWN: _l("Choose a survey from the list"),
    Problem.NUMBER_INVALID: _l("Enter a whole number, like 2"),
    Problem.PATHWAY_INVALID: _l(
        "Enter pathways in lower-case letters, digits and dashes, one on each line"
    ),
    Problem.LOCALE_UNKNOWN: _l("Choose a language from the list"),
}


def _choices(form: SettingsForm, surveys: list[str]) -> None:
    form.survey_slug.choices = [SelectChoice("", _("No survey"))] + [
        SelectChoice(slug, _("Friends and Family Test") if slug == "fft" else slug)
        for slug in surveys
    ]
    form.default_locale.choices = [
        SelectChoice(code, formats.language_name(code)) for code in SUPPORTED_LOCALES
    ]


@bp.get("/settings")
@requires(Permission.EDIT_SETTINGS)
def index() -> Response | str:
    """The clinics whose settings the staff member may change."""
    clinics = staff_scope().clinics(Permission.EDIT_SETTINGS)
    if len(clinics) == 1:
        return redirect(url_for("staff_settings.clinic_settings", clinic_id=clinics[0].id))
    return render_template("web/settings/clinics.html", clinics=clinics)


@bp.route("/settings/<int:clinic_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def clinic_settings(clinic_id: int) -> Response | tuple[str, int]:
    """The clinic's settings, and the form that changes them."""
    clinic = clinic_in_scope(clinic_id, Permission.EDIT_SETTINGS)
    surveys = survey_slugs(clinic.id)
    stored = rules.as_input(current_settings(clinic))
    form = SettingsForm() if request.method == "POST" else SettingsForm(data=_form_data(stored))
    _choices(form, surveys)
    if not form.is_submitted():
        return _page(clinic, form)
    if not form.validate_on_submit():
        return _page(clinic, form, 422)
    try:
        changed = update_settings(
            clinic.id,
            form.as_input(),
            surveys=surveys,
            clock=get_runtime().clock,
            actor=actor(),
        )
    except SettingsRefused as refused:
        for field, problem in refused.problems.items():
            form[field].errors = [problem_text(problem, clinic, field)]
        return _page(clinic, form, 422)
    if changed:
        names = dict.fromkeys(str(FIELD_NAMES.get(name, name)) for name in changed)
        flash(_("Saved. You changed: %(names)s.", names=", ".join(names)))
    else:
        flash(_("Nothing was changed."))
    return redirect(url_for("staff_settings.clinic_settings", clinic_id=clinic.id))


def _page(clinic: Clinic, form: SettingsForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "web/settings/clinic.html",
            clinic=clinic,
            form=form,
            min_hours=rules.min_reminder_hours(clinic.expiry_margin_minutes),
            max_reminders=rules.MAX_REMINDERS,
        ),
        status,
    )
