"""The staff workspace: pages for clinic staff, on the NHS.UK design system.

`init_app` sets up what every staff page shares: sessions (Flask-Login, with the session
secret as the user's id), CSRF on every form (Flask-WTF), the staff pages' language
(English or Welsh, the "staff" domain of Flask-Babel, chosen as `app.web.language`
says), strict security headers, and the error pages. Each area of the workspace is a
blueprint of its own module; `BLUEPRINTS` lists them.

Clinic isolation is not checked here or in any route: every query about clinic data
goes through the signed-in user's `StaffScope` (`app.clinics.scope`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    request,
)
from flask_babel import get_locale

from app import limits
from app.config import ConfigError
from app.extensions import babel, csrf, login_manager
from app.web import (
    appointments,
    attendance,
    audit,
    auth,
    coding,
    erasure,
    events,
    experiments,
    goal_outcomes,
    goal_pathways,
    goals,
    home,
    imports,
    language,
    patients,
    reports,
    results,
    settings,
    themes,
    tokens,
    users,
    wording,
    worklist,
    yousaid,
)
from app.web.nav import ShownSection, sections_for
from app.web.pages import STAFF_PREFIX
from app.web.principal import load_principal, staff_scope

#: Every blueprint of the workspace (sign-in first).
BLUEPRINTS: tuple[Blueprint, ...] = (
    auth.bp,
    home.bp,
    wording.bp,
    settings.bp,
    users.bp,
    tokens.bp,
    erasure.bp,
    audit.bp,
    worklist.bp,
    patients.bp,
    appointments.bp,
    imports.bp,
    language.bp,
    attendance.bp,
    experiments.bp,
    results.bp,
    reports.bp,
    goals.bp,
    goal_outcomes.bp,
    goal_pathways.bp,
    events.bp,
    yousaid.bp,
    coding.bp,
    themes.bp,
)
#: The staff pages' languages.
STAFF_LOCALES = language.STAFF_LOCALES
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"

#: No script, style, frame or form leaves our own origin; nothing may frame a page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Set up the workspace on `app` and register its blueprints."""
    app.config.setdefault("STAFF_SECOND_FACTOR", True)
    if not app.config["STAFF_SECOND_FACTOR"] and app.config.get("WESAID_ENV") == "production":
        raise ConfigError("STAFF_SECOND_FACTOR cannot be turned off in production")
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=12))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    login_manager.init_app(app)
    login_manager.user_loader(load_principal)
    login_manager.session_protection = None  # the server-side session is the protection
    login_manager.login_view = "staff_auth.sign_in"
    login_manager.login_message = ""
    # Forms are checked here, for staff pages only: webhooks, the API and the patients'
    # survey pages have their own protections (signatures, tokens, signed links).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    app.before_request(_check_form)
    babel.init_app(
        app,
        locale_selector=language.page_locale,
        default_domain="staff",
        default_translation_directories=str(TRANSLATIONS),
    )
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    # Guessing passwords or codes: a few forms a minute from one address on the sign-in
    # pages (the account itself locks after ten failures in a row, from anywhere).
    limits.limiter(app).limit(_sign_in_limit, key_func=limits.client_address, methods=["POST"])(
        auth.bp
    )
    app.context_processor(_page_context)
    app.after_request(_secure)


def _sign_in_limit() -> str:
    return str(current_app.config.get("SIGN_IN_RATE_LIMIT", "10 per minute"))


def _page_context() -> dict[str, object]:
    return {
        "staff_sections": _sections,
        "staff_locale": _current_locale,
        "staff_language_switch": _language_switch,
    }


def _sections() -> list[ShownSection]:
    return sections_for(staff_scope())


def _current_locale() -> str:
    return str(get_locale() or "en")


def _language_switch() -> language.Switch:
    return language.switch(_current_locale())


def is_staff_page() -> bool:
    """Whether the request is for a workspace page."""
    return request.path == STAFF_PREFIX or request.path.startswith(STAFF_PREFIX + "/")


def _check_form() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS") and is_staff_page():
        csrf.protect()


def _secure(response: Response) -> Response:
    if is_staff_page():
        response.headers.update(SECURITY_HEADERS)
    if current_app.config.get("WESAID_ENV") == "production":
        response.headers["Strict-Transport-Security"] = HSTS
    return response
