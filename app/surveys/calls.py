"""Surveys on the telephone: one question per step, answered on the keypad.

A survey invitation's call says who is calling, then asks the conversation's questions
(`survey_call`, the kind's call script). Choices, yes/no and bounded numbers are answered
with keys (`answer_key`); free-text questions are skipped with a word of explanation
(they are answered better by text). No key, or a key that means nothing, asks once more;
the second time the question is recorded as skipped. A closed or expired conversation
gets a polite goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.clinics.models import Clinic
from app.core.errors import Invalid
from app.extensions import db
from app.messaging import calls
from app.messaging.models import OutboundMessage
from app.messaging.speaker import Speaker
from app.messaging.voice import MAX_REASKS, VoiceStep
from app.surveys import service, speech, texts
from app.surveys.definitions import Question, SurveyDefinition
from app.surveys.flow import answer_from_value, key_press
from app.surveys.models import SessionState, SurveySession, SurveyVersion

#: The voice webhook step that takes a survey answer.
ANSWER_STEP = "answer"


@dataclass(frozen=True)
class _Call:
    session: SurveySession
    definition: SurveyDefinition
    speaker: Speaker
    clinic: Clinic


def survey_call(message: OutboundMessage, speaker: Speaker, now: datetime) -> VoiceStep | None:
    """The first step of an invitation's call: who is calling, then the first question
    still unanswered. Commits what it records. None when there is no open conversation."""
    if message.survey_session_id is None:
        return None
    call = _find_call(message.survey_session_id, now)
    if call is None:
        return None
    step = calls.step_for(speaker).say(speaker.say(texts.VOICE_INTRO, clinic=call.clinic.name))
    return _resume(step, call, now)


def answer_key(
    session_id: int, question_id: str, digits: str, reasks: int, now: datetime
) -> VoiceStep:
    """The keys pressed for one survey question (none: the call waited in vain). Commits."""
    call = _find_call(session_id, now)
    if call is None:
        return calls.goodbye()
    step = calls.step_for(call.speaker)
    if call.session.current_question != question_id:
        # A repeated or late request: carry on from where the conversation is.
        return _resume(step, call, now)
    question = call.definition.question(question_id)
    value = key_value(question, digits.strip())
    if value is None and reasks < MAX_REASKS:
        step.say(calls.not_heard(call.speaker))
        return _ask(step, call, question, reasks + 1)
    try:
        turn = service.answer_value(session_id, question_id, value or "skip", now)
    except Invalid:
        db.session.rollback()
        return calls.goodbye(call.speaker)
    return _carry_on(step, call, turn.next_question, now)


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


def _find_call(session_id: int, now: datetime) -> _Call | None:
    """The open, unexpired conversation, locked until the request commits."""
    session = db.session.get(SurveySession, session_id, with_for_update=True)
    if session is None or session.state is not SessionState.OPEN:
        return None
    if session.current_question is None or session.expires_at <= now:
        return None
    version = db.session.get(SurveyVersion, session.survey_version_id)
    speaker = calls.call_speaker(session.patient_id, session.clinic_id)
    clinic = db.session.get(Clinic, session.clinic_id)
    if version is None or speaker is None or clinic is None:
        return None
    return _Call(session, service.definition_of(version), speaker, clinic)


def _keyed(question: Question) -> bool:
    """Whether the keypad can answer `question`."""
    if question.type in ("single_choice", "yes_no"):
        return True
    bounded = question.minimum is not None and question.maximum is not None
    return question.type in ("scale", "number") and bounded


def _key_prompts(question: Question, speaker: Speaker) -> list[str]:
    if question.type == "single_choice":
        lines = [
            speaker.say(texts.VOICE_CHOOSE, digit=i, label=speech.text(speaker, option.label))
            for i, option in enumerate(question.options, 1)
        ]
    elif question.type == "yes_no":
        lines = [speaker.say(texts.VOICE_YES_NO)]
    else:
        lines = [speaker.say(texts.VOICE_SCALE, min=question.minimum, max=question.maximum)]
    if question.optional:
        lines.append(speaker.say(texts.VOICE_SKIP))
    return lines


def _ask(step: VoiceStep, call: _Call, question: Question, reasks: int) -> VoiceStep:
    speaker = call.speaker
    prompts = [speech.text(speaker, question.text), *_key_prompts(question, speaker)]
    digits = len(str(question.maximum)) if question.maximum is not None else 1
    params: dict[str, str | int] = {"s": call.session.id, "q": question.id, "t": reasks}
    return step.ask(ANSWER_STEP, params, prompts, digits)


def _carry_on(step: VoiceStep, call: _Call, question: Question | None, now: datetime) -> VoiceStep:
    """Ask `question`, skipping (and recording as skipped) what the keypad cannot
    answer; thank and hang up at the end. Commits what it records."""
    speaker = call.speaker
    while question is not None and not _keyed(question):
        step.say(speaker.say(texts.VOICE_FREE_TEXT))
        turn = service.answer_value(call.session.id, question.id, "skip", now)
        question = turn.next_question
    db.session.commit()
    if question is None:
        return step.say(speaker.say(texts.THANKS, clinic=call.clinic.name)).end()
    return _ask(step, call, question, reasks=0)


def _resume(step: VoiceStep, call: _Call, now: datetime) -> VoiceStep:
    current = call.session.current_question
    assert current is not None  # _find_call returns open sessions only
    return _carry_on(step, call, call.definition.question(current), now)
