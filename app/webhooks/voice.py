"""Voice call webhooks: the TwiML a call follows, one step per request.

Twilio fetches `/webhooks/twilio/voice?m=<message id>` when the patient answers; the
message's kind says what the call does (`app.messaging.calls.start_call`). Each step
that takes keys posts them to one of the routes below:

- `/voice/menu?m=…&t=…`: the key pressed after a reminder (`app.replies.reminders`);
- `/voice/answer?s=<session>&q=<question>&t=…`: a survey answer (`app.surveys.calls`);
- `/voice/goal?r=<round>&g=<goal>&t=…`: a goal's score, 0 to 9 or star for 10
  (`app.goals.calls`).

`t` counts the times the step was asked again. Every request's Twilio signature is
checked as for the SMS webhooks (403 when bad or missing); a malformed query string is
a 400. Everything else answers 200 with TwiML, a goodbye at worst, because Twilio reads
any error status to the caller as a failure.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, request

from app.core.channels import Channel
from app.core.inputs import provider_sid, record_id, whole_number
from app.goals.calls import press_goal_key
from app.messaging.calls import start_call
from app.messaging.channels.twilio_voice import render_twiml
from app.messaging.voice import MAX_REASKS, Gather, VoiceStep
from app.replies.reminders import press_reminder_key
from app.runtime import get_runtime
from app.surveys.calls import answer_key
from app.webhooks.twilio import require_signature

bp = Blueprint("voice", __name__, url_prefix="/webhooks/twilio")

_QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_KEYS = re.compile(r"[0-9*#]{0,12}")


def _id_arg(name: str) -> int:
    value = record_id(request.args.get(name))
    if value is None:
        abort(400, f"query parameter {name!r} must be an id")
    return value


def _reasks_arg() -> int:
    value = whole_number(request.args.get("t", "0"))
    if value is None:
        abort(400, "query parameter 't' must be a whole number")
    return min(value, MAX_REASKS)


def _question_arg() -> str:
    value = request.args.get("q", "")
    if not _QUESTION_ID.fullmatch(value):
        abort(400, "query parameter 'q' must be a question id")
    return value


def _keys() -> str:
    """The keys pressed: digits, star and hash only, at most a dozen; anything else is
    taken as no key at all (the step is asked again)."""
    keys = request.form.get("Digits", "").strip()
    return keys if _KEYS.fullmatch(keys) else ""


def _url_for(gather: Gather) -> str:
    base = get_runtime().public_base_url.rstrip("/")
    return f"{base}/webhooks/twilio/voice/{gather.step}?{urlencode(gather.params)}"


def _twiml(step: VoiceStep) -> Response:
    return Response(render_twiml(step, _url_for), status=200, mimetype="text/xml")


@bp.post("/voice")
def call_answered() -> Response:
    """The first TwiML of an outbound call."""
    require_signature(Channel.VOICE)
    message_id = _id_arg("m")
    return _twiml(start_call(message_id, get_runtime().clock.now()))


@bp.post("/voice/menu")
def reminder_menu() -> Response:
    """The key pressed after a reminder: 1 confirm, 2 cancel, 3 ask for a new time."""
    require_signature(Channel.VOICE)
    message_id, reasks = _id_arg("m"), _reasks_arg()
    digits = _keys()
    call_sid = provider_sid(request.form.get("CallSid")) or ""
    step = press_reminder_key(message_id, digits, reasks, call_sid, get_runtime().clock)
    return _twiml(step)


@bp.post("/voice/answer")
def survey_answer() -> Response:
    """The keys pressed for one survey question (none: the Gather timed out)."""
    require_signature(Channel.VOICE)
    session_id, question_id, reasks = _id_arg("s"), _question_arg(), _reasks_arg()
    digits = _keys()
    step = answer_key(session_id, question_id, digits, reasks, get_runtime().clock.now())
    return _twiml(step)


@bp.post("/voice/goal")
def goal_answer() -> Response:
    """The key pressed for one goal's score (none: the Gather timed out)."""
    require_signature(Channel.VOICE)
    round_id, goal_id, reasks = _id_arg("r"), _id_arg("g"), _reasks_arg()
    keys = _keys()
    step = press_goal_key(round_id, goal_id, keys, reasks, get_runtime().clock.now())
    return _twiml(step)
