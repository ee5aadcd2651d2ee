"""Voice call webhooks: the TwiML a call follows, one step per request.

Twilio fetches `/webhooks/twilio/voice?m=<message id>` when the patient answers.

- A reminder is read, then one key is taken: 1 confirm, 2 cancel, 3 ask for a new time
  (`/voice/menu?m=…`). The matching confirmation is said and the call hangs up.
- A survey invitation says who is calling, then asks the session's questions one per
  step (`/voice/answer?s=<session id>&q=<question id>`). Choices, yes/no and bounded
  numbers are answered on the keypad; free-text questions are skipped with a word of
  explanation (they are answered better by text).

Every `<Gather>` is followed by a `<Redirect>` to its own action: with no key pressed
Twilio carries on there without `Digits`. No key, or a key that means nothing, asks
once more (`t=1`); the second time the reminder ends and a survey question is recorded
as skipped. An unknown message or session, or a closed conversation, gets 200 with a
polite goodbye, because Twilio reads any error status to the caller as a failure.

Every request's Twilio signature is checked as for the SMS webhooks (403 when bad or
missing); a malformed query string is a 400.

`<Say language>` follows SAY_LANGUAGES. Twilio has no voice for Somali, so a patient
whose language has none hears the next language of their fallback chain that has one,
which is English at worst; the text spoken is in that same language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, request
from twilio.twiml.voice_response import VoiceResponse

from app.appointments import service as appointments
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.messaging import compose
from app.messaging.models import OutboundMessage
from app.messaging.queries import overrides_for
from app.messaging.webhooks import require_signature
from app.patients.models import Patient
from app.runtime import get_runtime
from app.surveys import service as surveys
from app.surveys import texts
from app.surveys.definitions import Question, SurveyDefinition
from app.surveys.flow import answer_from_value, key_press
from app.surveys.models import SessionState, SurveySession, SurveyVersion

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/webhooks/twilio")

#: Project locale → the `<Say language>` code Twilio's text-to-speech speaks it with
#: (Amazon Polly or Google voices; the voice per language is chosen in the Twilio
#: console). Somali has no Twilio voice and is left out on purpose.
SAY_LANGUAGES: dict[str, str] = {
    "en": "en-GB",
    "cy": "cy-GB",
    "pl": "pl-PL",
    "ro": "ro-RO",
    "ur": "ur-IN",
    "pa": "pa-IN",
    "bn": "bn-IN",
    "gu": "gu-IN",
    "ar": "arb",
    "pt": "pt-PT",
    "lt": "lt-LT",
    "es": "es-ES",
    "zh_Hans": "cmn-CN",
}
#: Seconds Twilio waits for a key press.
GATHER_SECONDS = 6
#: How many times the menu or a question is asked again after no key or a wrong one.
MAX_REASKS = 1
_QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")

_MenuAction = Callable[[int, Clock], Appointment]
#: Key → (what it records, the service that records it, what is said after).
_MENU: dict[str, tuple[str, _MenuAction, str]] = {
    "1": ("confirm", appointments.confirm_appointment, compose.CONFIRMED),
    "2": ("cancel", appointments.cancel_by_patient, compose.CANCELLED),
    "3": ("rebook", appointments.request_rebook, compose.REBOOK),
}


def voice_chain(chain: tuple[str, ...]) -> tuple[str, ...]:
    """`chain` without the locales Twilio cannot speak; English is always left."""
    return tuple(code for code in chain if code in SAY_LANGUAGES) or ("en",)


def say_language(locale: str) -> str:
    """The `<Say language>` for a locale from `voice_chain` (en-GB for anything else)."""
    return SAY_LANGUAGES.get(locale, SAY_LANGUAGES["en"])


@dataclass(frozen=True)
class Voice:
    """How to speak to one patient of one clinic on the telephone."""

    speaker: surveys.Speaker
    clinic: Clinic

    @property
    def language(self) -> str:
        return say_language(self.speaker.locale)

    def say(self, response: VoiceResponse, template: str, **values: object) -> None:
        response.say(self.speaker.say(template, **values), language=self.language)

    def when(self, instant: datetime) -> tuple[str, str]:
        """The date and time of `instant` as this patient hears them."""
        return compose.format_when(instant, ZoneInfo(self.clinic.timezone), self.speaker.locale)


def _voice(patient_id: int, clinic_id: int) -> Voice | None:
    patient = db.session.get(Patient, patient_id)
    clinic = db.session.get(Clinic, clinic_id)
    if patient is None or clinic is None:
        return None
    chain = voice_chain(compose.chain_for(patient.locale, clinic.default_locale))
    return Voice(surveys.Speaker(chain, overrides_for(clinic.id)), clinic)


# -- request parsing and response shaping ------------------------------------------------


def _id_arg(name: str) -> int:
    value = request.args.get(name, type=int)
    if value is None or value <= 0:
        abort(400, f"query parameter {name!r} must be a positive whole number")
    return value


def _reasks_arg() -> int:
    raw = request.args.get("t", "0")
    if not raw.isdigit():
        abort(400, "query parameter 't' must be a whole number")
    return min(int(raw), MAX_REASKS)


def _question_arg() -> str:
    value = request.args.get("q", "")
    if not _QUESTION_ID.fullmatch(value):
        abort(400, "query parameter 'q' must be a question id")
    return value


def _url(path: str, **params: int | str) -> str:
    base = get_runtime().public_base_url.rstrip("/")
    return f"{base}/webhooks/twilio{path}?{urlencode(params)}"


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), status=200, mimetype="text/xml")


def _goodbye(response: VoiceResponse, voice: Voice | None = None) -> Response:
    if voice is None:
        response.say(texts.VOICE_GOODBYE, language=SAY_LANGUAGES["en"])
    else:
        voice.say(response, texts.VOICE_GOODBYE)
    response.hangup()
    return _twiml(response)


def _gather(
    response: VoiceResponse, action: str, lines: list[str], language: str, digits: int = 1
) -> None:
    """One step that waits for keys; with none, Twilio follows the Redirect instead."""
    gather = response.gather(
        input="dtmf", num_digits=digits, action=action, method="POST", timeout=GATHER_SECONDS
    )
    for line in lines:
        gather.say(line, language=language)
    response.redirect(action, method="POST")


def _now() -> datetime:
    return get_runtime().clock.now()


# -- the call is answered ----------------------------------------------------------------


@bp.post("/voice")
def call_answered() -> Response:
    """The first TwiML of an outbound call: the reminder or the survey's first step."""
    require_signature("voice")
    message_id = _id_arg("m")
    message = db.session.get(OutboundMessage, message_id)
    voice = _voice(message.patient_id, message.clinic_id) if message is not None else None
    response = VoiceResponse()
    if message is None or voice is None or message.channel != "voice":
        log.warning("voice: no call for message %s", message_id)
        return _goodbye(response)
    if message.kind == "reminder":
        return _reminder(response, message, voice, reasks=0)
    if message.kind == "survey_invite" and message.survey_session_id is not None:
        survey = _find_survey(message.survey_session_id)
        if survey is not None:
            voice.say(response, texts.VOICE_INTRO, clinic=voice.clinic.name)
            return _resume(response, survey)
    return _goodbye(response, voice)


# -- reminders ---------------------------------------------------------------------------


def _booked(message: OutboundMessage) -> Appointment | None:
    if message.appointment_id is None:
        return None
    appointment = db.session.get(Appointment, message.appointment_id)
    if appointment is None or appointment.status is not AppointmentStatus.BOOKED:
        return None
    return appointment


def _reminder(
    response: VoiceResponse, message: OutboundMessage, voice: Voice, *, reasks: int
) -> Response:
    appointment = _booked(message)
    if appointment is None:
        return _goodbye(response, voice)
    date_text, time_text = voice.when(appointment.starts_at)
    text = voice.speaker.say(
        texts.VOICE_REMINDER, clinic=voice.clinic.name, date=date_text, time=time_text
    )
    action = _url("/voice/menu", m=message.id, t=reasks)
    _gather(response, action, [text], voice.language)
    return _twiml(response)


@bp.post("/voice/menu")
def reminder_menu() -> Response:
    """The key pressed after a reminder: 1 confirm, 2 cancel, 3 ask for a new time."""
    require_signature("voice")
    message_id, reasks = _id_arg("m"), _reasks_arg()
    message = db.session.get(OutboundMessage, message_id)
    voice = _voice(message.patient_id, message.clinic_id) if message is not None else None
    response = VoiceResponse()
    if message is None or voice is None or message.kind != "reminder":
        return _goodbye(response, voice)
    choice = _MENU.get(request.form.get("Digits", ""))
    if choice is None:
        if reasks >= MAX_REASKS:
            return _goodbye(response, voice)
        voice.say(response, texts.VOICE_NOT_HEARD)
        return _reminder(response, message, voice, reasks=reasks + 1)
    appointment = _booked(message)
    if appointment is None:
        return _goodbye(response, voice)
    date_text, time_text = voice.when(appointment.starts_at)
    name, action, template = choice
    try:
        action(appointment.id, get_runtime().clock)
        db.session.commit()
    except (Invalid, NotFound):
        db.session.rollback()
        return _goodbye(response, voice)
    log.info("voice: message %s: %s by key press", message_id, name)
    voice.say(response, template, clinic=voice.clinic.name, date=date_text, time=time_text)
    response.hangup()
    return _twiml(response)


# -- surveys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Survey:
    session: SurveySession
    definition: SurveyDefinition
    voice: Voice


def _find_survey(session_id: int) -> _Survey | None:
    """The open, unexpired conversation, locked until the request commits."""
    session = db.session.get(SurveySession, session_id, with_for_update=True)
    if session is None or session.state is not SessionState.OPEN:
        return None
    if session.current_question is None or session.expires_at <= _now():
        return None
    version = db.session.get(SurveyVersion, session.survey_version_id)
    voice = _voice(session.patient_id, session.clinic_id)
    if version is None or voice is None:
        return None
    return _Survey(session, surveys.definition_of(version), voice)


def _keyed(question: Question) -> bool:
    """Whether the keypad can answer `question`."""
    if question.type in ("single_choice", "yes_no"):
        return True
    bounded = question.minimum is not None and question.maximum is not None
    return question.type in ("scale", "number") and bounded


def _key_prompts(question: Question, voice: Voice) -> list[str]:
    speaker = voice.speaker
    if question.type == "single_choice":
        lines = [
            speaker.say(texts.VOICE_CHOOSE, digit=i, label=speaker.text(option.label))
            for i, option in enumerate(question.options, 1)
        ]
    elif question.type == "yes_no":
        lines = [speaker.say(texts.VOICE_YES_NO)]
    else:
        lines = [speaker.say(texts.VOICE_SCALE, min=question.minimum, max=question.maximum)]
    if question.optional:
        lines.append(speaker.say(texts.VOICE_SKIP))
    return lines


def _ask(response: VoiceResponse, survey: _Survey, question: Question, reasks: int) -> None:
    voice = survey.voice
    lines = [voice.speaker.text(question.text), *_key_prompts(question, voice)]
    action = _url("/voice/answer", s=survey.session.id, q=question.id, t=reasks)
    digits = len(str(question.maximum)) if question.maximum is not None else 1
    _gather(response, action, lines, voice.language, digits=max(digits, 1))


def _carry_on(response: VoiceResponse, survey: _Survey, question: Question | None) -> Response:
    """Ask `question`, skipping (and recording as skipped) what the keypad cannot
    answer; thank and hang up at the end. Commits what it records."""
    voice = survey.voice
    while question is not None and not _keyed(question):
        voice.say(response, texts.VOICE_FREE_TEXT)
        turn = surveys.answer_value(survey.session.id, question.id, "skip", _now())
        question = turn.next_question
    db.session.commit()
    if question is None:
        voice.say(response, texts.THANKS, clinic=voice.clinic.name)
        response.hangup()
        return _twiml(response)
    _ask(response, survey, question, reasks=0)
    return _twiml(response)


def _resume(response: VoiceResponse, survey: _Survey) -> Response:
    current = survey.session.current_question
    assert current is not None  # _find_survey returns open sessions only
    return _carry_on(response, survey, survey.definition.question(current))


def key_value(question: Question, digits: str) -> str | None:
    """The answer value the keys `digits` give `question` ("skip" for star), or None
    when they mean nothing for it."""
    if len(digits) == 1:
        answer = key_press(question, digits)
        return answer.rule_value if answer is not None else None
    if digits.isdigit() and question.type in ("scale", "number"):
        try:
            return answer_from_value(question, digits).rule_value
        except ValueError:
            return None
    return None


@bp.post("/voice/answer")
def survey_answer() -> Response:
    """The keys pressed for one survey question (none: the Gather timed out)."""
    require_signature("voice")
    session_id, question_id, reasks = _id_arg("s"), _question_arg(), _reasks_arg()
    survey = _find_survey(session_id)
    response = VoiceResponse()
    if survey is None:
        return _goodbye(response)
    if survey.session.current_question != question_id:
        # A repeated or late request: carry on from where the conversation is.
        return _resume(response, survey)
    question = survey.definition.question(question_id)
    value = key_value(question, request.form.get("Digits", "").strip())
    if value is None and reasks < MAX_REASKS:
        survey.voice.say(response, texts.VOICE_NOT_HEARD)
        _ask(response, survey, question, reasks + 1)
        return _twiml(response)
    try:
        turn = surveys.answer_value(session_id, question_id, value or "skip", _now())
    except Invalid:
        db.session.rollback()
        return _goodbye(response, survey.voice)
    return _carry_on(response, survey, turn.next_question)
