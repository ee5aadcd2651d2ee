"""Signing in to the staff workspace: password, second factor, enrolment, invitations.

- `/staff/welcome/<secret>`: an invitation link (made by `wesaid user invite` or an
  admin) sets the password, once.
- `/staff/sign-in`: email and password. Roles that need a second factor go on to
  `/staff/second-factor` (or `/staff/enrol` the first time: a QR code for an
  authenticator app, then ten recovery codes shown once) before the session is verified.
- `/staff/sign-out` (POST) ends the session.

Each step posts a form with a CSRF token; failures say only that the details were not
recognised. Every outcome is in the audit log (`app.clinics.accounts`).
"""

from __future__ import annotations

import segno
from flask import abort, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.audit.service import Actor
from app.clinics import accounts, passwords, signing_in, staff_sessions
from app.clinics import second_factor as factors
from app.clinics.models import StaffUser
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.runtime import get_runtime
from app.web.language import clear_session
from app.web.pages import staff_blueprint
from app.web.principal import actor, load_principal, second_factor_required

bp = staff_blueprint("staff_auth", __name__)

#: Keys of the Flask session during a sign-in that needs a second factor.
PENDING = "wesaid.pending_session"
ENROLMENT = "wesaid.enrolment_secret"


class SignInForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address")),
            Length(max=254, message=_l("An email address is up to 254 characters")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password")),
            Length(max=256, message=_l("A password is up to 256 characters")),
        ],
    )


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Security code"),
        validators=[
            DataRequired(_l("Enter the code from your authenticator app")),
            Length(max=32, message=_l("A code is up to 32 characters")),
        ],
    )


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a password")),
            Length(max=256, message=_l("A password is up to 256 characters")),
        ],
    )
    confirm = PasswordField(
        _l("Enter the password again"),
        validators=[
            DataRequired(_l("Enter the password again")),
            EqualTo("password", message=_l("The two passwords are not the same")),
        ],
    )


def _page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    return render_template(f"web/{template}", **context), status


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int]:
    """Email and password; then the second factor where the user's roles need one."""
    form = SignInForm()
    if not form.validate_on_submit():
        return _page("sign_in.html", 422 if form.is_submitted() else 200, form=form)
    clock = get_runtime().clock
    who = actor()
    try:
        user = signing_in.sign_in(form.email.data, form.password.data, clock, who.address)
    except signing_in.SignInRefused:
        problem = _("The email address or password is not right, or the account is locked.")
        return _page("sign_in.html", 401, form=form, problem=problem)
    needs_code = second_factor_required() and signing_in.needs_second_factor(user.id)
    secret = staff_sessions.open_session(
        user.id, verified=not needs_code, clock=clock, actor=actor_for(user)
    )
    clear_session()  # nothing from before the sign-in survives it but the page language
    if not needs_code:
        return _start(secret)
    session[PENDING] = secret
    if user.totp_secret is None:
        return redirect(url_for("staff_auth.enrol"))
    return redirect(url_for("staff_auth.second_factor"))


def actor_for(user: StaffUser) -> Actor:
    return Actor(user_id=user.id, address=actor().address)


def _start(secret: str) -> Response:
    principal = load_principal(secret)
    if principal is None:
        abort(401)
    login_user(principal)
    session.permanent = True
    return redirect(url_for("staff_home.home"))


def _pending_user() -> tuple[str, StaffUser]:
    secret = session.get(PENDING)
    if not isinstance(secret, str):
        abort(401)
    found = staff_sessions.find_session(secret, get_runtime().clock, verified_only=False)
    user = db.session.get(StaffUser, found.user_id) if found else None
    if found is None or user is None:
        abort(401)
    return secret, user


@bp.route("/second-factor", methods=["GET", "POST"])
def second_factor() -> Response | tuple[str, int]:
    """The code from the authenticator app, or a recovery code."""
    secret, user = _pending_user()
    form = CodeForm()
    if not form.validate_on_submit():
        return _page("second_factor.html", 422 if form.is_submitted() else 200, form=form)
    clock = get_runtime().clock
    if not factors.check_second_factor(user.id, form.code.data, clock, actor_for(user)):
        problem = _("That code is not right. Codes change every 30 seconds.")
        return _page("second_factor.html", 401, form=form, problem=problem)
    staff_sessions.verify_session(secret, clock, actor_for(user))
    session.pop(PENDING, None)
    return _start(secret)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> Response | tuple[str, int]:
    """Set up the second factor: scan the QR code, give the first code, keep the
    recovery codes."""
    secret, user = _pending_user()
    totp_secret = session.get(ENROLMENT) or factors.new_totp_secret()
    session[ENROLMENT] = totp_secret
    form = CodeForm()
    uri = factors.totp_uri(totp_secret, user.email)
    qr = segno.make(uri, error="m").svg_inline(scale=5, title=_("QR code for your app"))
    context = {"form": form, "qr": qr, "totp_secret": totp_secret}
    if not form.validate_on_submit():
        return _page("enrol.html", 422 if form.is_submitted() else 200, **context)
    clock = get_runtime().clock
    try:
        codes = factors.enrol_second_factor(
            user.id, totp_secret, form.code.data, clock, actor_for(user)
        )
    except Invalid:
        problem = _("That code does not match. Try the newest code your app shows.")
        return _page("enrol.html", 422, problem=problem, **context)
    staff_sessions.verify_session(secret, clock, actor_for(user))
    session.pop(ENROLMENT, None)
    session.pop(PENDING, None)
    principal = load_principal(secret)
    if principal is None:
        abort(401)
    login_user(principal)
    session.permanent = True
    return _page("recovery_codes.html", codes=codes)


@bp.route("/welcome/<secret>", methods=["GET", "POST"])
def welcome(secret: str) -> Response | tuple[str, int]:
    """An invitation: set a password, once."""
    clock = get_runtime().clock
    if len(secret) > 100 or accounts.find_link(secret, clock) is None:
        return _page("link_used.html", 404)
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page("welcome.html", 422 if form.is_submitted() else 200, form=form)
    try:
        accounts.set_password(secret, form.password.data, clock, actor())
    except Invalid:
        form.password.errors.append(
            _(
                "Choose a password of at least %(count)d characters, with more than a few "
                "different ones",
                count=passwords.MIN_PASSWORD_LENGTH,
            )
        )
        return _page("welcome.html", 422, form=form)
    except NotFound:
        return _page("link_used.html", 404)
    return redirect(url_for("staff_auth.sign_in"))


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session."""
    from_session = session.get("_user_id")
    if from_session:
        staff_sessions.end_session(from_session, get_runtime().clock, actor())
    logout_user()
    clear_session()
    return redirect(url_for("staff_auth.sign_in"))
