"""Events for the clinic's own systems: webhook subscriptions, the FHIR write-back, and
the delivery log, for admins and clinic managers.

- `/staff/settings/<clinic>/events`: the clinic's subscriptions (where, which events,
  live or revoked), each with a revoke button, and where the FHIR write-back goes.
- `/staff/settings/<clinic>/events/new`: subscribe an HTTPS endpoint; its signing
  secret is shown once.
- `/staff/settings/<clinic>/events/revoke` (POST): revoke a subscription.
- `/staff/settings/<clinic>/fhir`: the FHIR server patients' answers are written back
  to (or none).
- `/staff/settings/<clinic>/events/log`: each delivery's event, target, attempts, last
  HTTP status and next retry; never what the event said.

Every change is in the audit log (`app.events.service`). A clinic the staff member may
not change the settings of is "not found".
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.core.errors import Invalid, NotFound
from app.core.inputs import whole_number
from app.events import queries, service
from app.events.endpoints import LOOPBACK_ENVIRONMENTS, UrlProblem, UrlRefused
from app.events.models import DeliveryState, EventType, Target
from app.events.payloads import Reason
from app.runtime import get_runtime
from app.web import formats
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor
from app.web.reach import clinic_in_scope

bp = staff_blueprint("staff_events", __name__)

EVENT_NAMES: dict[EventType, LazyString] = {
    EventType.APPOINTMENT_CONFIRMED: _l("A patient confirmed an appointment"),
    EventType.APPOINTMENT_CANCELLED_BY_PATIENT: _l("A patient cancelled an appointment"),
    EventType.APPOINTMENT_REBOOK_REQUESTED: _l("A patient asked for a new time"),
    EventType.PATIENT_OPTED_OUT: _l("A patient opted out of messages"),
    EventType.MESSAGE_FAILED: _l("A message could not reach a patient"),
    EventType.SURVEY_RESPONSE_RECORDED: _l("A survey response came in (no patient details)"),
}
STATE_TAGS: dict[DeliveryState, tuple[LazyString, str]] = {
    DeliveryState.PENDING: (_l("Waiting"), "blue"),
    DeliveryState.CLAIMED: (_l("Waiting"), "blue"),
    DeliveryState.SENDING: (_l("Sending"), "blue"),
    DeliveryState.DELIVERED: (_l("Delivered"), "green"),
    DeliveryState.FAILED: (_l("Failed"), "red"),
    DeliveryState.CANCELLED: (_l("Cancelled"), "grey"),
}
#: What the delivery log says of each reason an attempt did not deliver (the HTTP status,
#: when there was one, is shown beside it; a plain refusal needs no more words).
REASONS: dict[Reason, LazyString] = {
    Reason.TIMEOUT: _l("No answer in time"),
    Reason.UNREACHABLE: _l("Could not connect"),
    Reason.REQUEST_FAILED: _l("Could not send"),
    Reason.SEARCH_FAILED: _l("The search for the appointment failed"),
    Reason.NOT_A_BUNDLE: _l("The FHIR server's answer was not a search result"),
    Reason.NO_MATCH: _l("No appointment has this identifier yet"),
    Reason.SEVERAL_MATCHES: _l("Several appointments have this identifier"),
    Reason.NO_PATIENT: _l("The appointment names no patient"),
    Reason.UPDATE_FAILED: _l("The update was refused"),
    Reason.REVOKED: _l("The address was revoked"),
    Reason.FHIR_OFF: _l("The FHIR write-back was turned off"),
    Reason.UNKNOWN_APPOINTMENT: _l("The appointment is no longer held"),
    Reason.ADDRESS_REFUSED: _l("The address is no longer allowed"),
    Reason.NO_ANSWER_RECORDED: _l("Stopped before an answer came"),
}
URL_PROBLEMS: dict[UrlProblem, LazyString] = {
    UrlProblem.MISSING: _l("Enter the address"),
    UrlProblem.MALFORMED: _l("Enter a web address, like https://pas.example.nhs.uk/hooks"),
    UrlProblem.NOT_HTTPS: _l("Enter an address that starts with https://"),
    UrlProblem.CREDENTIALS: _l("Enter an address without a user name or password in it"),
    UrlProblem.FRAGMENT: _l("Enter an address without a # part"),
    UrlProblem.INTERNAL: _l("Enter an address on the internet, not a private or local one"),
    UrlProblem.SYSTEM: _l("Enter a URI without spaces or |"),
}


class SubscriptionForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    url = StringField(
        _l("Address (URL)"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter the address")),
            Length(max=2000, message=_l("Enter an address of 2,000 characters or fewer")),
        ],
    )
    description = StringField(
        _l("Description (optional)"),
        validators=[Length(max=100, message=_l("Enter 100 characters or fewer"))],
    )
    events = SelectMultipleField(
        _l("Events to send"),
        choices=[SelectChoice(t.value, EVENT_NAMES[t]) for t in EventType],
        validate_choice=False,
    )


class FhirForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    base_url = StringField(
        _l("FHIR server base URL"),
        filters=[lambda value: value.strip() if value else value],
        validators=[Length(max=2000, message=_l("Enter an address of 2,000 characters or fewer"))],
    )
    identifier_system = StringField(
        _l("Appointment identifier system"),
        filters=[lambda value: value.strip() if value else value],
        validators=[Length(max=500, message=_l("Enter 500 characters or fewer"))],
    )


def _loopback() -> bool:
    return current_app.config.get("WESAID_ENV") in LOOPBACK_ENVIRONMENTS


def _clinic(clinic_id: int) -> Clinic:
    return clinic_in_scope(clinic_id, Permission.EDIT_SETTINGS)


@bp.get("/settings/<int:clinic_id>/events")
@requires(Permission.EDIT_SETTINGS)
def subscriptions(clinic_id: int) -> str:
    """The clinic's subscriptions and its FHIR write-back."""
    clinic = _clinic(clinic_id)
    return render_template(
        "web/events/list.html",
        clinic=clinic,
        subscriptions=queries.subscriptions_of(clinic.id),
        fhir=queries.fhir_endpoint_of(clinic.id),
        event_names=EVENT_NAMES,
        event_types=list(EventType),
        revoke_form=FlaskForm(formdata=None),
        formats=formats,
    )


@bp.route("/settings/<int:clinic_id>/events/new", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def new(clinic_id: int) -> tuple[str, int]:
    """Subscribe an endpoint; the secret is shown once."""
    clinic = _clinic(clinic_id)
    form = SubscriptionForm()
    if not form.is_submitted():
        return _new_page(clinic, form), 200
    valid = form.validate_on_submit()
    chosen = [value for value in (form.events.data or []) if value in set(EventType)]
    if not chosen:
        form.events.errors = [_("Choose at least one event")]
    if not valid or not chosen:
        return _new_page(clinic, form), 422
    given = service.NewSubscription(form.url.data or "", chosen, form.description.data or "")
    try:
        subscription, secret = service.subscribe(
            clinic, given, actor(), get_runtime().clock.now(), allow_loopback_http=_loopback()
        )
    except UrlRefused as refused:
        form.url.errors = [str(URL_PROBLEMS[refused.problem])]
        return _new_page(clinic, form), 422
    except service.TooManySubscriptions:
        form.url.errors = [
            _(
                "This clinic has %(most)d addresses already: revoke one first",
                most=service.MAX_SUBSCRIPTIONS,
            )
        ]
        return _new_page(clinic, form), 422
    except Invalid:
        form.description.errors = [_("Enter 100 characters or fewer, without line breaks")]
        return _new_page(clinic, form), 422
    page = render_template(
        "web/events/created.html",
        clinic=clinic,
        subscription=subscription,
        secret=secret,
    )
    return page, 200


def _new_page(clinic: Clinic, form: SubscriptionForm) -> str:
    return render_template("web/events/new.html", clinic=clinic, form=form)


@bp.post("/settings/<int:clinic_id>/events/revoke")
@requires(Permission.EDIT_SETTINGS)
def revoke(clinic_id: int) -> Response:
    """Revoke one subscription: nothing more is sent to it."""
    clinic = _clinic(clinic_id)
    form = FlaskForm()
    subscription_id = whole_number(request.form.get("subscription", ""))
    if not form.validate_on_submit() or subscription_id is None:
        raise NotFound("not found")
    subscription = service.revoke(clinic, subscription_id, actor(), get_runtime().clock.now())
    flash(_("Revoked: nothing more is sent to %(url)s.", url=subscription.url))
    return redirect(url_for(".subscriptions", clinic_id=clinic.id))


@bp.route("/settings/<int:clinic_id>/fhir", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def fhir(clinic_id: int) -> Response | tuple[str, int]:
    """Where patients' confirmations and cancellations are written back, if anywhere."""
    clinic = _clinic(clinic_id)
    current = queries.fhir_endpoint_of(clinic.id)
    form = FhirForm()
    if not form.is_submitted():
        if current is not None:
            form.base_url.data = current.base_url
            form.identifier_system.data = current.identifier_system
        return _fhir_page(clinic, form), 200
    if not form.validate_on_submit():
        return _fhir_page(clinic, form), 422
    try:
        saved = service.set_fhir_endpoint(
            clinic,
            form.base_url.data or "",
            form.identifier_system.data or "",
            actor(),
            get_runtime().clock.now(),
            allow_loopback_http=_loopback(),
        )
    except UrlRefused as refused:
        field = form.base_url if refused.field == "base_url" else form.identifier_system
        field.errors = [str(URL_PROBLEMS[refused.problem])]
        return _fhir_page(clinic, form), 422
    if saved is None:
        flash(_("Saved: nothing is written back to a FHIR server."))
    else:
        flash(_("Saved: patients' confirmations and cancellations are written back."))
    return redirect(url_for(".subscriptions", clinic_id=clinic.id))


def _fhir_page(clinic: Clinic, form: FhirForm) -> str:
    return render_template("web/events/fhir.html", clinic=clinic, form=form)


@bp.get("/settings/<int:clinic_id>/events/log")
@requires(Permission.EDIT_SETTINGS)
def log(clinic_id: int) -> str:
    """The clinic's deliveries, newest first, a page at a time."""
    clinic = _clinic(clinic_id)
    before = whole_number(request.args.get("before", ""))
    rows = queries.delivery_log(clinic.id, before)
    older = rows[-1].id if len(rows) == queries.LOG_PAGE else None
    return render_template(
        "web/events/log.html",
        clinic=clinic,
        rows=rows,
        older=older,
        event_names=EVENT_NAMES,
        state_tags=STATE_TAGS,
        reasons={reason.value: label for reason, label in REASONS.items()},
        webhook=Target.WEBHOOK,
        formats=formats,
    )
