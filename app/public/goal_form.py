"""The goal form behind a signed link, for patients who answer on the web.

``GET /g/<token>`` shows each open goal of the round with a score from 0 (not at all)
to 10 (reached) in the patient's language; ``POST /g/<token>`` stores them all through
`app.goals.web.submit_scores`. Scores sent already answer 409, a round that has ended
410, an unknown or altered link 404, a form with a goal left without a score 422 (400
when its form token is stale), with the scores given kept.

As on the survey form (`app.public.survey_form`): the link token is the only
credential and is never put in a cookie; each rendered form carries a signed token
bound to its round, checked on POST; no cookie is set; every page sends a strict
Content-Security-Policy, no referrer and no-store; rates and body sizes are limited;
nothing here logs a token, a name, a number, a goal or a score.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

from flask import Blueprint, Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from app import limits
from app.core.sms import normalise_invisible
from app.extensions import db
from app.goals import texts as goal_texts
from app.goals.links import LinkRefused, check_form_token, form_token, read_link
from app.goals.web import Closed, GoalVisit, Refused, closed_reason, find_visit, submit_scores
from app.public.survey_form import SECURITY_HEADERS
from app.runtime import get_runtime
from app.surveys import web_form
from app.surveys.web_texts import WEB_TEXTS

log = logging.getLogger(__name__)
bp = Blueprint("goal_web", __name__)

FORM_FIELD = "_form"
ADDRESS_LIMIT = "60 per minute"
LINK_LIMIT = "20 per minute"
#: Eleven radios per goal, three goals: a form is a few hundred bytes.
FORM_MAX_BYTES = 8 * 1024
_EXTENSION = "wesaid.goal_web"
_STATUS = {Closed.NOT_FOUND: 404, Closed.ANSWERED: 409, Closed.CLOSED: 410}


def init_web(app: Flask) -> None:
    """Limit the goal pages' rates (per address and per link) and bodies, and exempt
    them from a CSRFProtect. Idempotent."""
    if _EXTENSION in app.extensions:
        return
    limiter = limits.limiter(app)
    limiter.limit(lambda: str(current_app.config.get("SURVEY_WEB_RATE_LIMIT", ADDRESS_LIMIT)))(bp)
    limiter.limit(
        lambda: str(current_app.config.get("SURVEY_LINK_RATE_LIMIT", LINK_LIMIT)),
        key_func=_link_key,
    )(bp)
    limits.limit_body(app, bp.name, FORM_MAX_BYTES)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    app.extensions[_EXTENSION] = limiter


def _link_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "goal-link:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]


@bp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/g/<token>")
def show_goals(token: str) -> Response:
    """The goal form of a live link."""
    found = _open(token)
    if isinstance(found, Response):
        return found
    return _form(found, {}, [], 200)


@bp.post("/g/<token>")
def submit_goals(token: str) -> Response:
    """Store the scores and thank the patient, or show the form again with problems."""
    found = _open(token)
    if isinstance(found, Response):
        return found
    values = {
        found.field(goal): request.form.get(found.field(goal), "")[:8] for goal in found.goals
    }
    runtime = get_runtime()
    secret = current_app.config["SECRET_KEY"]
    if not check_form_token(request.form.get(FORM_FIELD), secret, found.round.id, runtime.clock):
        return _form(found, values, [], 400, notice="error_form_expired")
    stored = submit_scores(found.round.id, values, runtime.clock.now())
    if isinstance(stored, Refused):
        return _refused(stored, values)
    log.info("goal web form stored: round %d, %d scores", found.round.id, stored)
    return _message(found, "thanks", 200)


@bp.errorhandler(429)
def _too_many(_error: HTTPException) -> Response:
    response = _message(None, "too_many", 429)
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(413)
def _too_large(_error: HTTPException) -> Response:
    return _message(None, "failed", 413)


def _open(token: str) -> GoalVisit | Response:
    """The live round of a link, or the page that says why there is none."""
    runtime = get_runtime()
    try:
        round_id = read_link(token, current_app.config["SECRET_KEY"], runtime.clock)
    except LinkRefused as refused:
        if refused.round_id is None:
            return _message(None, Closed.NOT_FOUND, 404)
        return _message(find_visit(refused.round_id), Closed.CLOSED, 410)
    visit = find_visit(round_id)
    if visit is None:
        return _message(None, Closed.NOT_FOUND, 404)
    closed = closed_reason(visit, runtime.clock.now())
    if closed is not None:
        return _message(visit, closed, _STATUS[closed])
    return visit


def _refused(refused: Refused, values: Mapping[str, str]) -> Response:
    visit = refused.visit
    if visit is None or refused.closed is not None:
        closed = refused.closed or Closed.NOT_FOUND
        return _message(visit, closed, _STATUS[closed])
    return _form(visit, values, refused.missing, 422)


def _words(visit: GoalVisit | None) -> dict[str, str]:
    """The page's words (the survey form's and the goal form's own) in the patient's
    language, or in English for a visitor whose round is not known."""
    if visit is None:
        return {**WEB_TEXTS, **{f"goal_{k}": v for k, v in goal_texts.GOAL_WEB_TEXTS.items()}}
    say = visit.speaker.localise
    words = {name: say(message)[0] for name, message in WEB_TEXTS.items()}
    for name, message in goal_texts.GOAL_WEB_TEXTS.items():
        words[f"goal_{name}"] = say(message)[0]
    return words


def _fill(template: str, **values: object) -> str:
    """`template % values`, or the template as it is if a clinic's wording breaks it."""
    try:
        return normalise_invisible(template % values)
    except (KeyError, ValueError, TypeError):
        return template


def _form(
    visit: GoalVisit, values: Mapping[str, str], missing: list[int], status: int, notice: str = ""
) -> Response:
    ui = _words(visit)
    speaker = visit.speaker
    locale = speaker.locale
    date_text, _ = speaker.when(visit.round.expires_at, locale)
    question = speaker.localise(goal_texts.VOICE_QUESTION)[0]
    goals = [
        {
            "field": visit.field(goal),
            "legend": _fill(question, goal=goal.text),
            "lang": web_form.html_lang(goal.text_locale) if goal.text_locale != locale else "",
            "value": values.get(visit.field(goal), ""),
            "error": ui["goal_choose"] if goal.id in missing else "",
        }
        for goal in visit.goals
    ]
    token = form_token(current_app.config["SECRET_KEY"], visit.round.id, get_runtime().clock)
    html = render_template(
        "goals/form.html",
        page=_page(visit, ui["goal_title"]),
        ui=ui,
        intro=_fill(ui["goal_intro"], date=date_text),
        goals=goals,
        errors=[goal for goal in goals if goal["error"]],
        notice=ui.get(notice, ""),
        form_field=FORM_FIELD,
        form_token=token,
    )
    return Response(html, status=status, mimetype="text/html")


def _message(visit: GoalVisit | None, kind: str, status: int) -> Response:
    """A page that says why there is no form (or thanks), in the patient's language if
    the round is known."""
    ui = _words(visit)
    titles = {
        "thanks": ui["thanks_title"],
        Closed.ANSWERED: ui["answered_title"],
        Closed.CLOSED: ui["goal_closed_title"],
        Closed.NOT_FOUND: ui["not_found_title"],
        "too_many": ui["too_many_title"],
        "failed": ui["failed_title"],
    }
    bodies = {
        "thanks": ui["goal_thanks"],
        Closed.ANSWERED: ui["goal_answered"],
        Closed.CLOSED: ui["goal_closed"],
        Closed.NOT_FOUND: ui["goal_not_found"],
        "too_many": ui["too_many_body"],
        "failed": ui["failed_body"],
    }
    html = render_template(
        "surveys/message.html",
        page=_page(visit, titles[kind]),
        ui=ui,
        lines=[bodies[kind]],
        kind=kind,
    )
    if visit is not None:
        db.session.rollback()  # nothing was written; leave no lock behind
    return Response(html, status=status, mimetype="text/html")


def _page(visit: GoalVisit | None, title: str) -> dict[str, str]:
    locale = visit.speaker.locale if visit is not None else "en"
    return {
        "lang": web_form.html_lang(locale),
        "dir": web_form.text_dir(locale),
        "title": title,
        "clinic": visit.clinic.name if visit is not None else "",
    }
