"""Patients: find one, read their timeline, change how they are reached, opt them out.

- `/staff/patients`: a search form that POSTs (names and numbers never go in a URL) and
  finds patients by external id, phone number (written any usual way) or name; each
  result links to the timeline by id. Each search is in the audit log, without its terms.
- `/staff/patients/<id>`: the timeline: details, appointments with their reminders,
  every message in and out, survey answers, the consent ledger. Another clinic's patient
  is "not found". Each view is in the audit log.
- `POST /staff/patients/<id>/contact`: change the channel or language; a channel the
  number cannot take is refused with the reason.
- `/staff/patients/<id>/opt-out`: confirm, then opt the patient out on their behalf.

Names, numbers, message texts and answers appear only where the role shows them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from app.casework import service
from app.casework.items import Disclosure
from app.casework.queries import find_patients, search_regions
from app.casework.search import read_terms
from app.casework.timeline import Timeline, patient_timeline
from app.clinics.roles import Permission
from app.core.channels import Channel
from app.core.errors import NotFound
from app.core.inputs import MAX_INT32
from app.core.locales import SUPPORTED_LOCALES
from app.goals.queries import patient_goals
from app.patients import service as patients
from app.patients.models import Patient
from app.runtime import get_runtime
from app.web import casework_labels, goals_view, nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_patients", __name__)

nav.add(
    nav.Section(
        endpoint="staff_patients.search",
        label=_l("Patients"),
        description=_l("Find a patient and see their appointments, messages and consent."),
        permission=Permission.VIEW_PATIENTS,
        blueprints=("staff_patients", "staff_goals"),
        order=20,
    )
)

#: The erasure page, where it exists: the timeline links to it.
ERASE_ENDPOINT = "staff_erasure.confirm"
SEARCH_LENGTH = 100


@bp.context_processor
def _words() -> dict[str, Any]:
    return {
        "labels": casework_labels,
        "label": casework_labels.label,
        "when": casework_labels.when,
        "language_name": casework_labels.language_name,
        "phone_text": casework_labels.phone_text,
    }


class SearchForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    term = StringField(
        _l("Name, phone number or patient ID"),
        validators=[
            DataRequired(_l("Enter a name, phone number or patient ID")),
            Length(
                max=SEARCH_LENGTH,
                message=_l("Enter %(max)s characters or fewer", max=SEARCH_LENGTH),
            ),
        ],
    )


class ContactForm(FlaskForm):  # type: ignore[misc]
    channel = StringField(
        _l("How they get messages"),
        validators=[
            InputRequired(_l("Choose how the patient gets messages")),
            AnyOf([c.value for c in Channel], message=_l("Choose how the patient gets messages")),
        ],
    )
    locale = StringField(
        _l("Language"),
        validators=[
            InputRequired(_l("Choose a language from the list")),
            AnyOf(list(SUPPORTED_LOCALES), message=_l("Choose a language from the list")),
        ],
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button and its CSRF token."""


def _patient(patient_id: int, permission: Permission) -> Patient:
    """The patient, if they are of a clinic where the staff member may do this."""
    if patient_id > MAX_INT32:
        raise NotFound("not found")
    return staff_scope().get(Patient, patient_id, permission)


@bp.route("/patients", methods=["GET", "POST"])
@requires(Permission.VIEW_PATIENTS)
def search() -> tuple[str, int]:
    """The search form; posted, the patients found."""
    form = SearchForm()
    if not form.is_submitted():
        return render_template("web/patients/search.html", form=form, found=None), 200
    if not form.validate():
        return render_template("web/patients/search.html", form=form, found=None), 422
    scope = staff_scope()
    found = find_patients(scope, read_terms(form.term.data, search_regions(scope)))
    by_organisation: dict[int, list[int]] = {}
    for row in found.patients:
        by_organisation.setdefault(row.organisation_id, []).append(row.id)
    service.note_search(
        by_organisation,
        sorted(scope.organisation_ids(Permission.VIEW_PATIENTS)),
        actor=actor(),
        clock=get_runtime().clock,
    )
    show_clinic = len(scope.clinic_ids(Permission.VIEW_PATIENTS)) > 1
    page = render_template(
        "web/patients/search.html", form=form, found=found, show_clinic=show_clinic
    )
    return page, 200


@bp.get("/patients/<int:patient_id>")
@requires(Permission.VIEW_PATIENTS)
def timeline(patient_id: int) -> tuple[str, int]:
    """Everything about one patient that the staff member may see."""
    patient = _patient(patient_id, Permission.VIEW_PATIENTS)
    return _timeline_page(patient, _contact_form(patient))


def _contact_form(patient: Patient) -> ContactForm:
    form = ContactForm(formdata=None)
    form.channel.data = patient.channel_preference.value
    form.locale.data = patient.locale
    return form


def _timeline_page(
    patient: Patient, form: ContactForm, status: int = 200, problem: str | None = None
) -> tuple[str, int]:
    scope = staff_scope()
    found = patient_timeline(patient, Disclosure.of(scope))
    clinic_id = patient.clinic_id
    goals = None
    if scope.allows(Permission.VIEW_GOALS, clinic_id):
        may_edit_goals = scope.allows(Permission.EDIT_GOALS, clinic_id)
        goals = goals_view.goals_panel(
            patient_goals(patient.id), found.patient.timezone, may_edit=may_edit_goals
        )
    _audit_view(found, goals is not None)
    may_erase = scope.allows(Permission.ERASE_PATIENTS, clinic_id)
    page = render_template(
        "web/patients/timeline.html",
        timeline=found,
        patient=found.patient,
        form=form,
        problem=problem,
        channels=[(c.value, casework_labels.label(casework_labels.CHANNELS, c)) for c in Channel],
        languages=_languages(),
        may_edit=scope.allows(Permission.EDIT_PATIENTS, clinic_id),
        erase_url=_erase_url(patient) if may_erase else None,
        goals=goals,
    )
    return page, status


def _audit_view(found: Timeline, goals: bool) -> None:
    shown = {
        "names": found.shows_name,
        "phone": found.shows_phone,
        "messages": found.shows_messages,
        "answers": found.surveys is not None,
    }
    if goals:  # their words, shown only to roles that work with goals
        shown["goals"] = True
    service.note_timeline_shown(
        found.patient.id, found.patient.clinic_id, shown, actor=actor(), clock=get_runtime().clock
    )


def _languages() -> list[tuple[str, str]]:
    named = [(code, casework_labels.language_name(code)) for code in SUPPORTED_LOCALES]
    return sorted(named, key=lambda pair: pair[1].casefold())


def _erase_url(patient: Patient) -> str | None:
    """The erasure page for this patient, if the workspace has one."""
    if ERASE_ENDPOINT not in current_app.view_functions:
        return None
    try:
        return url_for(ERASE_ENDPOINT, patient_id=patient.id)
    except BuildError:
        return None


@bp.post("/patients/<int:patient_id>/contact")
@requires(Permission.EDIT_PATIENTS)
def change_contact(patient_id: int) -> Response | tuple[str, int]:
    """Change the channel or language; 422 (nothing saved) with the reason if refused."""
    patient = _patient(patient_id, Permission.EDIT_PATIENTS)
    form = ContactForm()
    if not form.validate():
        return _timeline_page(patient, form, 422)
    try:
        changed = patients.change_contact(
            patient.id,
            channel=Channel(form.channel.data),
            locale=form.locale.data,
            actor=actor(),
            clock=get_runtime().clock,
        )
    except patients.ChannelRefused as refused:
        reason = casework_labels.label(casework_labels.CHANNEL_REFUSALS, refused.reason_code)
        form.channel.errors = [*form.channel.errors, reason]
        return _timeline_page(patient, form, 422)
    if changed:
        flash(_("Saved. Messages use the new channel and language from now on."))
    else:
        flash(_("Nothing changed: that is how they are reached already."))
    return redirect(url_for("staff_patients.timeline", patient_id=patient.id), 303)


@bp.route("/patients/<int:patient_id>/opt-out", methods=["GET", "POST"])
@requires(Permission.EDIT_PATIENTS)
def opt_out(patient_id: int) -> Response | tuple[str, int]:
    """Confirm, then opt the patient out of every message of the clinic."""
    patient = _patient(patient_id, Permission.EDIT_PATIENTS)
    form = ConfirmForm()
    if not form.validate_on_submit():
        shown = Disclosure.of(staff_scope())
        name = shown.name(patient)
        service.note_timeline_shown(
            patient.id,
            patient.clinic_id,
            {"names": name is not None, "page": "opt_out"},
            actor=actor(),
            clock=get_runtime().clock,
        )
        page = render_template("web/patients/opt_out.html", patient=patient, name=name, form=form)
        return page, 200
    changed = patients.opt_out_for_patient(patient.id, actor=actor(), clock=get_runtime().clock)
    if changed:
        flash(_("Opted out. The patient gets no more messages from the clinic."))
    else:
        flash(_("The patient had already opted out."))
    return redirect(url_for("staff_patients.timeline", patient_id=patient.id), 303)
