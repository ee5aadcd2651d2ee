"""API tokens, for admins.

- `/staff/tokens`: the tokens of the admin's clinics and whole organisations: what each
  is for, what it may do, when it was made and expires, and whether it is live.
- `/staff/tokens/new`: make one, for a clinic or a whole organisation, with its scopes
  and an optional expiry date; the secret is shown once.
- `/staff/tokens/<token>/revoke`: revoke one, after a confirmation page.

Making and revoking are in the audit log (`app.clinics.tokens`). A token of a clinic or
an organisation the admin's role does not reach is "not found".
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.clinics.models import ApiToken, Clinic, Organisation
from app.clinics.queries import find_token, tokens_within
from app.clinics.roles import Permission
from app.clinics.tokens import Scope, TokenState, create_token, revoke_token, state_of
from app.core.clock import to_utc
from app.core.errors import Invalid, NotFound
from app.core.inputs import whole_number
from app.runtime import get_runtime
from app.web import formats, nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_tokens", __name__)

nav.add(
    nav.Section(
        endpoint="staff_tokens.index",
        label=_l("API tokens"),
        description=_l("Keys that let your other systems send data to WeSaid."),
        permission=Permission.MANAGE_TOKENS,
        blueprints=("staff_tokens",),
        order=90,
    )
)

SCOPE_NAMES = {
    Scope.PATIENTS_WRITE: _l("Import and update patients"),
    Scope.PATIENTS_READ: _l("Read patients' language, channel and consent"),
    Scope.APPOINTMENTS_WRITE: _l("Import, move and cancel appointments"),
    Scope.APPOINTMENTS_READ: _l("Read appointments, their reminders and patients' answers"),
    Scope.OUTCOMES_WRITE: _l("Record attendance and cancellations"),
    Scope.GOALS_WRITE: _l("Record patients' goals"),
    Scope.RESULTS_READ: _l("Read weighted results"),
    Scope.ATTENDANCE_READ: _l("Read attendance reports"),
    Scope.EVENTS_READ: _l("Receive events"),
}
STATE_TAGS = {
    TokenState.LIVE: (_l("Live"), "green"),
    TokenState.EXPIRED: (_l("Expired"), "grey"),
    TokenState.REVOKED: (_l("Revoked"), "red"),
}
_ORGANISATION, _CLINIC = "organisation", "clinic"


def _printable(_form: FlaskForm, field: StringField) -> None:
    if field.data and not field.data.strip().isprintable():
        raise ValidationError(_("Enter a name using letters, digits, spaces and punctuation"))


class TokenForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    name = StringField(
        _l("Name"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter a name for the token")),
            Length(max=100, message=_l("Enter a name of 100 characters or fewer")),
            _printable,
        ],
    )
    owner = RadioField(_l("What the token is for"), validate_choice=False)
    scopes = SelectMultipleField(
        _l("What the token may do"),
        choices=[SelectChoice(scope.value, SCOPE_NAMES[scope]) for scope in Scope],
        validate_choice=False,
    )
    expiry_day = StringField(_l("Day"), validators=[Length(max=2)])
    expiry_month = StringField(_l("Month"), validators=[Length(max=2)])
    expiry_year = StringField(_l("Year"), validators=[Length(max=4)])


def _reach() -> tuple[list[Clinic], list[Organisation]]:
    return (
        staff_scope().clinics(Permission.MANAGE_TOKENS),
        whole_organisations(Permission.MANAGE_TOKENS),
    )


def _owners(clinics: list[Clinic], organisations: list[Organisation]) -> list[SelectChoice]:
    whole = [
        SelectChoice(f"{_ORGANISATION}-{o.id}", _("Every clinic of %(name)s", name=o.name))
        for o in organisations
    ]
    return whole + [SelectChoice(f"{_CLINIC}-{c.id}", c.name) for c in clinics]


def _owner(
    form: TokenForm, clinics: list[Clinic], organisations: list[Organisation]
) -> tuple[int | None, int | None]:
    """The (clinic id, organisation id) chosen, one of them None; an error on the field
    when the choice is not one offered."""
    kind, _sep, number = str(form.owner.data or "").partition("-")
    found = whole_number(number)
    if kind == _CLINIC and found in {c.id for c in clinics}:
        return found, None
    if kind == _ORGANISATION and found in {o.id for o in organisations}:
        return None, found
    form.owner.errors = [_("Choose a clinic or a whole organisation")]
    return None, None


def _scopes(form: TokenForm) -> list[str]:
    chosen = list(form.scopes.data or [])
    if not chosen or any(value not in set(Scope) for value in chosen):
        form.scopes.errors = [_("Choose at least one thing the token may do")]
    return chosen


def _expiry(form: TokenForm, now: datetime) -> datetime | None:
    """The expiry typed (the start of that day, UK time), None for none; an error on the
    field when it is not a real date after today."""
    parts = [form.expiry_day.data or "", form.expiry_month.data or "", form.expiry_year.data or ""]
    if not any(part.strip() for part in parts):
        return None
    day, month, year = (whole_number(part) for part in parts)
    try:
        chosen = date(year or 0, month or 0, day or 0)
    except ValueError:
        form.expiry_day.errors = [_("Enter a real date, like 31 3 2027, or leave it empty")]
        return None
    if chosen <= now.astimezone(formats.STAFF_ZONE).date():
        form.expiry_day.errors = [_("Enter a date after today")]
        return None
    return to_utc(datetime.combine(chosen, time()), formats.STAFF_ZONE)


def _rows(tokens: list[ApiToken], now: datetime) -> list[dict[str, object]]:
    clinics, organisations = _reach()
    clinic_names = {c.id: c.name for c in clinics}
    organisation_names = {o.id: o.name for o in organisations}

    def owner(token: ApiToken) -> str:
        if token.clinic_id is not None:
            return clinic_names.get(token.clinic_id, "")
        name = organisation_names.get(token.organisation_id or 0, "")
        return str(_("Every clinic of %(name)s", name=name))

    return [
        {
            "token": token,
            "owner": owner(token),
            "scopes": [SCOPE_NAMES[scope] for scope in Scope if scope.value in token.scopes],
            "all_scopes": set(token.scopes) >= set(Scope),
            "state": STATE_TAGS[state_of(token, now)],
            "live": state_of(token, now) is TokenState.LIVE,
        }
        for token in tokens
    ]


@bp.get("/tokens")
@requires(Permission.MANAGE_TOKENS)
def index() -> str:
    """The tokens of the admin's clinics and whole organisations."""
    clinics, organisations = _reach()
    tokens = tokens_within([c.id for c in clinics], [o.id for o in organisations])
    now = get_runtime().clock.now()
    return render_template(
        "web/tokens/list.html", rows=_rows(tokens, now), formats=formats, may_create=bool(clinics)
    )


@bp.route("/tokens/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_TOKENS)
def new() -> tuple[str, int]:
    """Make a token; its secret is shown once."""
    clinics, organisations = _reach()
    if not clinics and not organisations:
        raise NotFound("no clinic to make a token for")
    form = TokenForm()
    form.owner.choices = _owners(clinics, organisations)
    if not form.is_submitted():
        return render_template("web/tokens/new.html", form=form), 200
    valid = form.validate_on_submit()
    clock = get_runtime().clock
    clinic_id, organisation_id = _owner(form, clinics, organisations)
    scopes = _scopes(form)
    expires_at = _expiry(form, clock.now())
    if not valid or form.errors:
        return render_template("web/tokens/new.html", form=form), 422
    try:
        issued = create_token(
            label=form.name.data,
            clock=clock,
            clinic_id=clinic_id,
            organisation_id=organisation_id,
            scopes=scopes,
            expires_at=expires_at,
            actor=actor(),
        )
    except Invalid:
        form.name.errors = [_("Enter a name of 1 to 100 letters, digits and punctuation")]
        return render_template("web/tokens/new.html", form=form), 422
    return render_template(
        "web/tokens/created.html",
        secret=issued.secret,
        name=form.name.data,
        expires_at=expires_at,
        formats=formats,
    ), 200


def _token(token_id: int) -> ApiToken:
    clinics, organisations = _reach()
    found = find_token(token_id, [c.id for c in clinics], [o.id for o in organisations])
    if found is None:
        raise NotFound("not found")
    return found


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@requires(Permission.MANAGE_TOKENS)
def revoke(token_id: int) -> Response | tuple[str, int]:
    """Ask to be sure, then revoke the token."""
    token = _token(token_id)
    clock = get_runtime().clock
    form = FlaskForm()
    if not form.validate_on_submit():
        [row] = _rows([token], clock.now())
        return render_template("web/tokens/revoke.html", row=row, formats=formats), 200
    revoke_token(token.id, clock, actor())
    flash(_("The token is revoked. Anything that used it can no longer reach WeSaid."))
    return redirect(url_for(".index"))
