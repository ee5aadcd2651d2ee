"""The survey web channel: the form behind a signed link, and the pages around it.

``GET /s/<token>`` shows every question of the session's survey in the patient's
language; ``POST /s/<token>`` stores one submission through `app.surveys.web.submit`.
A completed survey answers 409, a closed or expired one 410, an unknown or altered
link 404, a form with problems 422 (400 when its form token is stale), with the
answers given kept.

CSRF: the link token is the only credential. It is never put in a cookie, so a page
on another site cannot make a patient's browser send answers without knowing it. As
defence in depth each rendered form carries a signed token bound to its session
(`links.form_token`, one day), checked on POST. No cookie is set, so patients who
block cookies can still answer. A Flask-WTF `CSRFProtect` on the app exempts this
blueprint (see `init_web`).

Every page sends a strict Content-Security-Policy (scripts from our own origin only,
none inline), no referrer (the token is in the URL) and no-store. Nothing here logs a
token, a name, a number or an answer.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from traceback import format_tb

from flask import Blueprint, Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from app import limits
from app.clinics.models import Clinic
from app.extensions import db
from app.runtime import get_runtime
from app.surveys import texts, web_form
from app.surveys.links import (
    DEFAULT_LINK_MAX_AGE,
    LinkExpired,
    LinkTampered,
    check_form_token,
    form_token,
    read_link,
)
from app.surveys.web import Closed, Refused, Visit, closed_reason, english_words, find_visit, submit

log = logging.getLogger(__name__)
bp = Blueprint("survey_web", __name__)

#: The hidden field of the form token; question ids start with a letter, so never this.
FORM_FIELD = "_form"
DEFAULT_ADDRESS_LIMIT = "60 per minute"
DEFAULT_LINK_LIMIT = "20 per minute"
#: A form of many long free-text answers in any script stays well under this.
FORM_MAX_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
_EXTENSION = "wesaid.survey_web"


def init_web(app: Flask) -> None:
    """Limit the survey pages' rates and bodies and exempt them from a CSRFProtect.
    Idempotent.

    Rates are per client address (SURVEY_WEB_RATE_LIMIT, default 60 per minute) and per
    link (SURVEY_LINK_RATE_LIMIT, 20 per minute), counted by the app's limiter
    (`app.limits`: RATELIMIT_STORAGE_URI, else REDIS_URL, else memory; memory under
    TESTING unless RATELIMIT_STORAGE_URI is set). Behind a proxy the client address is
    the one WESAID_TRUSTED_PROXIES lets through. A storage outage lets requests through
    rather than turning patients away. A body over SURVEY_FORM_MAX_BYTES (64 KiB) is
    refused with 413 before it is read.
    """
    if _EXTENSION in app.extensions:
        return
    limiter = limits.limiter(app)
    limiter.limit(_address_limit)(bp)
    limiter.limit(_link_limit, key_func=_link_key)(bp)
    limits.limit_body(app, bp.name, int(app.config.get("SURVEY_FORM_MAX_BYTES", FORM_MAX_BYTES)))
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    app.extensions[_EXTENSION] = limiter


def _address_limit() -> str:
    return str(current_app.config.get("SURVEY_WEB_RATE_LIMIT", DEFAULT_ADDRESS_LIMIT))


def _link_limit() -> str:
    return str(current_app.config.get("SURVEY_LINK_RATE_LIMIT", DEFAULT_LINK_LIMIT))


def _link_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "link:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]


# -- pages -----------------------------------------------------------------------------


@bp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/s/<token>")
def show_form(token: str) -> Response:
    """The survey form of a live link."""
    found = _open(token)
    if isinstance(found, Response):
        return found
    return _form(found, {}, {}, 200)


@bp.post("/s/<token>")
def submit_form(token: str) -> Response:
    """Store one submission and thank the patient, or show the form again with problems."""
    found = _open(token)
    if isinstance(found, Response):
        return found
    values = web_form.submitted_values(found.definition, request.form)
    if not check_form_token(
        request.form.get(FORM_FIELD),
        current_app.config["SECRET_KEY"],
        found.session.id,
        clock=get_runtime().clock,
    ):
        return _form(found, values, {}, 400, notice="error_form_expired")
    problems = web_form.find_problems(found.definition, values)
    if problems:
        return _form(found, values, problems, 422)
    session_id = found.session.id
    stored = submit(session_id, values, get_runtime().clock.now())
    if isinstance(stored, Refused):
        return _refused(stored, values)
    log.info("survey web form stored: session %d, %d answers", session_id, stored)
    return _thanks(found)


@bp.errorhandler(429)
def _too_many(_error: HTTPException) -> Response:
    response = _message(None, None, "too_many", 429)
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(413)
def _too_large(_error: HTTPException) -> Response:
    # The body was never read, so there are no answers to show again.
    return _message(None, None, "failed", 413)


@bp.errorhandler(Exception)
def _failed(error: Exception) -> Response | HTTPException:
    if isinstance(error, HTTPException):
        return error
    db.session.rollback()
    # The frames only: an exception's message may quote what was submitted.
    trace = "".join(format_tb(error.__traceback__))
    log.error("survey web page failed: %s\n%s", type(error).__name__, trace)
    return _message(None, None, "failed", 500)


_STATUS = {Closed.NOT_FOUND: 404, Closed.ANSWERED: 409, Closed.CLOSED: 410}


def _open(token: str) -> Visit | Response:
    """The live conversation of a link, or the page that says why there is none."""
    runtime = get_runtime()
    max_age = int(current_app.config.get("SURVEY_LINK_MAX_AGE_SECONDS", DEFAULT_LINK_MAX_AGE))
    try:
        session_id = read_link(
            token, current_app.config["SECRET_KEY"], max_age, clock=runtime.clock
        )
    except LinkExpired as exc:
        log.info("survey link refused: expired (session %d)", exc.session_id)
        expired = find_visit(exc.session_id)
        return _message(expired, expired.clinic if expired else None, Closed.CLOSED, 410)
    except LinkTampered:
        log.info("survey link refused: not signed by us")
        return _message(None, None, Closed.NOT_FOUND, 404)
    visit = find_visit(session_id)
    if visit is None:
        log.info("survey link refused: no session %d", session_id)
        return _message(None, None, Closed.NOT_FOUND, 404)
    closed = closed_reason(visit, runtime.clock.now())
    if closed is not None:
        return _message(visit, visit.clinic, closed, _STATUS[closed])
    return visit


def _refused(refused: Refused, values: Mapping[str, str]) -> Response:
    visit = refused.visit
    if visit is None or refused.closed is not None:
        closed = refused.closed or Closed.NOT_FOUND
        return _message(visit, visit.clinic if visit else None, closed, _STATUS[closed])
    if refused.problems:
        return _form(visit, values, refused.problems, 422)
    log.warning("survey web form refused for session %d", visit.session.id)
    return _form(visit, values, {}, 422, notice="failed_body")


def _form(
    visit: Visit,
    values: Mapping[str, str],
    problems: Mapping[str, web_form.Problem],
    status: int,
    notice: str = "",
) -> Response:
    locale = visit.speaker.locale
    ui = visit.ui()
    fields = web_form.build_fields(
        visit.definition, locale, visit.text_of, visit.words(ui), values, problems
    )
    title, title_locale = visit.text_of(visit.definition.title)
    marks = web_form.language_marks(title_locale, locale)
    intro = visit.text_of(visit.definition.intro)[0] if visit.definition.intro else ""
    token = form_token(
        current_app.config["SECRET_KEY"], visit.session.id, clock=get_runtime().clock
    )
    html = render_template(
        "surveys/form.html",
        page=_page(locale, visit.clinic, title),
        title_marks=dict(zip(("lang", "dir"), marks, strict=True)),
        ui=ui,
        intro=intro,
        fields=fields,
        errors=[field for field in fields if field.error],
        notice=ui.get(notice, ""),
        form_field=FORM_FIELD,
        form_token=token,
    )
    return _html(html, status)


def _thanks(visit: Visit) -> Response:
    ui = visit.ui()
    if visit.definition.thanks is not None:
        message = visit.text_of(visit.definition.thanks)[0]
    else:
        message = _fill(visit.speaker.localise(texts.THANKS)[0], clinic=visit.clinic.name)
    html = render_template(
        "surveys/message.html",
        page=_page(visit.speaker.locale, visit.clinic, ui["thanks_title"]),
        ui=ui,
        lines=[message, ui["thanks_body"]],
        kind="thanks",
    )
    return _html(html, 200)


def _message(visit: Visit | None, clinic: Clinic | None, kind: str, status: int) -> Response:
    """A page that says why there is no form, in the patient's language if known."""
    ui = visit.ui() if visit is not None else english_words()
    locale = visit.speaker.locale if visit is not None else "en"
    html = render_template(
        "surveys/message.html",
        page=_page(locale, clinic, ui[f"{kind}_title"]),
        ui=ui,
        lines=[ui[f"{kind}_body"]],
        kind=kind,
    )
    return _html(html, status)


def _page(locale: str, clinic: Clinic | None, title: str) -> dict[str, str]:
    return {
        "lang": web_form.html_lang(locale),
        "dir": web_form.text_dir(locale),
        "title": title,
        "clinic": clinic.name if clinic is not None else "",
    }


def _fill(template: str, **values: object) -> str:
    """`template % values`, or the template as it is if a clinic's wording breaks it."""
    try:
        return template % values
    except (KeyError, ValueError, TypeError):
        return template


def _html(html: str, status: int) -> Response:
    return Response(html, status=status, mimetype="text/html")
