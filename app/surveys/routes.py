"""The survey web channel: the form behind a signed link, and the pages around it.

``GET /s/<token>`` shows every question of the session's survey in the patient's
language; ``POST /s/<token>`` stores one submission through `service.record_form`.
A completed survey answers 409, a closed or expired one 410, an unknown or altered
link 404, a form with problems 422 (400 when its form token is stale), with the
answers given kept.

CSRF: the link token is the only credential. It is never put in a cookie, so a page
on another site cannot make a patient's browser send answers without knowing it. As
defence in depth each rendered form carries a signed token bound to its session
(`links.form_token`, one day), checked on POST. No cookie is set, so patients who
block cookies can still answer. A Flask-WTF `CSRFProtect` on the app exempts this
blueprint (see `init_web`).

Every page sends a strict Content-Security-Policy (no script at all), no referrer
(the token is in the URL) and no-store. Nothing here logs a token, a name, a number
or an answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from traceback import format_tb

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.clinics.models import Clinic
from app.core.errors import WeSaidError
from app.extensions import db
from app.messaging import compose
from app.patients.models import Patient
from app.runtime import get_runtime
from app.surveys import service, texts, web_form
from app.surveys.definitions import SurveyDefinition, Text
from app.surveys.links import (
    DEFAULT_LINK_MAX_AGE,
    LinkExpired,
    LinkTampered,
    check_form_token,
    form_token,
    read_link,
)
from app.surveys.models import SessionState, SurveySession, SurveyVersion
from app.surveys.web_texts import WEB_TEXTS

log = logging.getLogger(__name__)
bp = Blueprint("survey_web", __name__)

#: The hidden field of the form token; question ids start with a letter, so never this.
FORM_FIELD = "_form"
DEFAULT_ADDRESS_LIMIT = "60 per minute"
DEFAULT_LINK_LIMIT = "20 per minute"
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
    """Rate-limit the survey pages and exempt them from a CSRFProtect. Idempotent.

    Limits are per client address (SURVEY_WEB_RATE_LIMIT, default 60 per minute) and
    per link (SURVEY_LINK_RATE_LIMIT, 20 per minute), counted in RATELIMIT_STORAGE_URI,
    else REDIS_URL, else in memory (always in memory under TESTING unless
    RATELIMIT_STORAGE_URI is set). Behind a proxy, the client address needs werkzeug's
    ProxyFix. A storage outage lets requests through rather than turning patients away.
    """
    if _EXTENSION in app.extensions:
        return
    limiter = Limiter(
        get_remote_address,
        storage_uri=_limit_storage(app.config),
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="wesaid-survey",
    )
    limiter.init_app(app)
    limiter.limit(_address_limit)(bp)
    limiter.limit(_link_limit, key_func=_link_key)(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    app.extensions[_EXTENSION] = limiter


def _limit_storage(config: Mapping[str, object]) -> str:
    explicit = config.get("RATELIMIT_STORAGE_URI")
    if explicit:
        return str(explicit)
    redis_url = config.get("REDIS_URL")
    return str(redis_url) if redis_url and not config.get("TESTING") else "memory://"


def _address_limit() -> str:
    return str(current_app.config.get("SURVEY_WEB_RATE_LIMIT", DEFAULT_ADDRESS_LIMIT))


def _link_limit() -> str:
    return str(current_app.config.get("SURVEY_LINK_RATE_LIMIT", DEFAULT_LINK_LIMIT))


def _link_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "link:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]


# -- language --------------------------------------------------------------------------


class _Voice:
    """The page's language: a patient's fallback chain and their clinic's wording."""

    def __init__(self, chain: tuple[str, ...], overrides: compose.Overrides) -> None:
        self.chain = chain
        self.overrides = overrides
        self.locale = compose.translator(chain)[1]

    def say(self, message: str) -> str:
        return compose.localise(message, self.chain, self.overrides)[0]

    def resolve(self, value: Text) -> tuple[str, str]:
        """A definition text and its locale, chosen as `service.Speaker.text` chooses."""
        for code in self.chain:
            if code in value.by_locale and not (code == "en" and value.translatable):
                return value.by_locale[code], code
        if value.translatable:
            text, locale = compose.localise(value.english, self.chain, self.overrides)
            # A catalogue without this message gives the English text back.
            return text, "en" if text == value.english else locale
        return value.english, "en" if "en" in value.by_locale else next(iter(value.by_locale))

    def ui(self) -> dict[str, str]:
        return {name: self.say(message) for name, message in WEB_TEXTS.items()}

    def words(self, ui: Mapping[str, str]) -> web_form.Words:
        return web_form.Words(
            **{item.name: ui[item.name] for item in dataclasses.fields(web_form.Words)}
        )


def _english() -> _Voice:
    """The page's language when no session is known."""
    return _Voice(("en",), {})


# -- pages -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Visit:
    session: SurveySession
    clinic: Clinic
    definition: SurveyDefinition
    voice: _Voice


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
    return _store(found, values)


@bp.errorhandler(429)
def _too_many(_error: HTTPException) -> Response:
    response = _message(_english(), None, "too_many", 429)
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(Exception)
def _failed(error: Exception) -> Response | HTTPException:
    if isinstance(error, HTTPException):
        return error
    db.session.rollback()
    # The frames only: an exception's message may quote what was submitted.
    trace = "".join(format_tb(error.__traceback__))
    log.error("survey web page failed: %s\n%s", type(error).__name__, trace)
    return _message(_english(), None, "failed", 500)


def _open(token: str) -> _Visit | Response:
    """The live session of a link, or the page that says why there is none."""
    runtime = get_runtime()
    max_age = int(current_app.config.get("SURVEY_LINK_MAX_AGE_SECONDS", DEFAULT_LINK_MAX_AGE))
    try:
        session_id = read_link(
            token, current_app.config["SECRET_KEY"], max_age, clock=runtime.clock
        )
    except LinkExpired as exc:
        log.info("survey link refused: expired (session %d)", exc.session_id)
        expired = _visit(exc.session_id)
        if expired is None:
            return _message(_english(), None, "closed", 410)
        return _message(expired.voice, expired.clinic, "closed", 410)
    except LinkTampered:
        log.info("survey link refused: not signed by us")
        return _message(_english(), None, "not_found", 404)
    visit = _visit(session_id)
    if visit is None:
        log.info("survey link refused: no session %d", session_id)
        return _message(_english(), None, "not_found", 404)
    return _closed(visit) or visit


def _visit(session_id: int) -> _Visit | None:
    session = db.session.get(SurveySession, session_id)
    if session is None:
        return None
    clinic = db.session.get(Clinic, session.clinic_id)
    patient = db.session.get(Patient, session.patient_id)
    version = db.session.get(SurveyVersion, session.survey_version_id)
    if clinic is None or patient is None or version is None:
        return None
    speaker = service.speaker_for(patient, clinic)
    voice = _Voice(speaker.chain, speaker.overrides)
    return _Visit(session, clinic, service.definition_of(version), voice)


def _closed(visit: _Visit) -> Response | None:
    """The page for a session that takes no more answers; None while it is open."""
    session = visit.session
    if session.state is SessionState.COMPLETED:
        return _message(visit.voice, visit.clinic, "answered", 409)
    if session.state is not SessionState.OPEN or session.expires_at <= get_runtime().clock.now():
        return _message(visit.voice, visit.clinic, "closed", 410)
    return None


def _store(visit: _Visit, values: Mapping[str, str]) -> Response:
    session_id = visit.session.id
    try:
        stored = service.record_form(session_id, values, get_runtime().clock.now())
    except (WeSaidError, IntegrityError, OperationalError) as exc:
        # Another submission of the same link may have won the race.
        db.session.rollback()
        return _refused(session_id, values, str(exc) if isinstance(exc, WeSaidError) else "")
    log.info("survey web form stored: session %d, %d answers", session_id, stored)
    return _thanks(visit)


def _refused(session_id: int, values: Mapping[str, str], reason: str) -> Response:
    db.session.expire_all()
    visit = _visit(session_id)
    if visit is None:
        return _message(_english(), None, "not_found", 404)
    closed = _closed(visit)
    if closed is not None:
        return closed
    # record_form names the question first: "<question id>: why".
    question_id = reason.split(":", 1)[0]
    if question_id in {q.id for q in visit.definition.questions}:
        return _form(visit, values, {question_id: web_form.Problem.INVALID}, 422)
    log.warning("survey web form refused for session %d", session_id)
    return _form(visit, values, {}, 422, notice="failed_body")


def _form(
    visit: _Visit,
    values: Mapping[str, str],
    problems: Mapping[str, web_form.Problem],
    status: int,
    notice: str = "",
) -> Response:
    voice = visit.voice
    ui = voice.ui()
    fields = web_form.build_fields(
        visit.definition, voice.locale, voice.resolve, voice.words(ui), values, problems
    )
    title, title_locale = voice.resolve(visit.definition.title)
    marks = web_form.language_marks(title_locale, voice.locale)
    intro = voice.resolve(visit.definition.intro)[0] if visit.definition.intro else ""
    token = form_token(
        current_app.config["SECRET_KEY"], visit.session.id, clock=get_runtime().clock
    )
    html = render_template(
        "surveys/form.html",
        page=_page(voice, visit.clinic, title),
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


def _thanks(visit: _Visit) -> Response:
    voice = visit.voice
    ui = voice.ui()
    if visit.definition.thanks is not None:
        message = voice.resolve(visit.definition.thanks)[0]
    else:
        message = _fill(voice.say(texts.THANKS), clinic=visit.clinic.name)
    html = render_template(
        "surveys/message.html",
        page=_page(voice, visit.clinic, ui["thanks_title"]),
        ui=ui,
        lines=[message, ui["thanks_body"]],
        kind="thanks",
    )
    return _html(html, 200)


def _message(voice: _Voice, clinic: Clinic | None, kind: str, status: int) -> Response:
    ui = voice.ui()
    html = render_template(
        "surveys/message.html",
        page=_page(voice, clinic, ui[f"{kind}_title"]),
        ui=ui,
        lines=[ui[f"{kind}_body"]],
        kind=kind,
    )
    return _html(html, status)


def _page(voice: _Voice, clinic: Clinic | None, title: str) -> dict[str, str]:
    return {
        "lang": web_form.html_lang(voice.locale),
        "dir": web_form.text_dir(voice.locale),
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
