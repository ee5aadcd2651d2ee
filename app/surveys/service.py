"""Survey commands: versions, conversations and answers (invitations: `invitations.py`).

Replies, key presses and web forms all end in `_store`, which keeps one answer per
question, and `_advance`, which moves the conversation on by the skip logic.

Functions here that say so commit; the rest leave the transaction to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select, update

from app.clinics.models import Clinic
from app.clinics.queries import get_clinic_by_slug
from app.core import parsing
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.events.recording import survey_response_recorded
from app.extensions import db
from app.messaging.inbox import Conversation
from app.messaging.kinds import MessageKind
from app.messaging.speaker import Speaker, speaker_for
from app.patients.models import Patient
from app.results.recording import GivenAnswer, record_response
from app.surveys import flow, speech, texts
from app.surveys.definitions import Question, SurveyDefinition, digest, parse_definition
from app.surveys.flow import Answer, AnswerStatus
from app.surveys.models import (
    SessionState,
    SurveyAnswer,
    SurveySession,
    SurveyVersion,
)

log = logging.getLogger(__name__)

BUILTIN = "builtin"


# -- versions ----------------------------------------------------------------------------


def _owner(clinic_id: int | None) -> str:
    return BUILTIN if clinic_id is None else f"clinic:{clinic_id}"


def register_definition(
    raw: Mapping[str, Any], clinic_id: int | None, now: datetime, source: str = ""
) -> SurveyVersion:
    """Store a definition; an unchanged one returns its existing version. Does not commit.

    Raises DefinitionError (with the path of every problem) for an invalid definition.
    """
    definition = parse_definition(raw, source)
    owner = _owner(clinic_id)
    found = db.session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.owner == owner,
            SurveyVersion.slug == definition.slug,
            SurveyVersion.digest == digest(raw),
        )
    )
    if found is not None:
        return found
    latest = db.session.scalar(
        select(func.max(SurveyVersion.version)).where(
            SurveyVersion.owner == owner, SurveyVersion.slug == definition.slug
        )
    )
    version = SurveyVersion(
        owner=owner,
        clinic_id=clinic_id,
        slug=definition.slug,
        version=(latest or 0) + 1,
        digest=digest(raw),
        definition=dict(raw),
        created_at=now,
    )
    db.session.add(version)
    db.session.flush()
    return version


def load_survey(
    raw: Mapping[str, Any], clinic_slug: str, *, use: bool, source: str, clock: Clock
) -> SurveyVersion:
    """Store a definition for the clinic `clinic_slug`; with `use`, make it the survey the
    clinic sends after visits. Commits. Raises NotFound for an unknown clinic and
    DefinitionError for an invalid definition."""
    clinic = get_clinic_by_slug(clinic_slug)
    version = register_definition(raw, clinic.id, clock.now(), source)
    if use:
        clinic.survey_slug = version.slug
    db.session.commit()
    return version


def current_version(clinic: Clinic, slug: str, now: datetime) -> SurveyVersion | None:
    """The latest version of `slug` for `clinic`: its own, else the built-in one."""
    for owner in (_owner(clinic.id), BUILTIN):
        found = db.session.scalar(
            select(SurveyVersion)
            .where(SurveyVersion.owner == owner, SurveyVersion.slug == slug)
            .order_by(SurveyVersion.version.desc())
            .limit(1)
        )
        if found is not None:
            return found
    if slug == texts.FFT["slug"]:
        return register_definition(texts.FFT, None, now)
    return None


def definition_of(version: SurveyVersion) -> SurveyDefinition:
    return _parsed(version.id, version.digest, _frozen(version.definition))


@lru_cache(maxsize=128)
def _parsed(version_id: int, version_digest: str, raw: Any) -> SurveyDefinition:
    return parse_definition(_thaw(raw))


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ("__map__", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", tuple(_frozen(v) for v in value))
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and value and value[0] == "__map__":
        return {k: _thaw(v) for k, v in value[1]}
    if isinstance(value, tuple) and value and value[0] == "__list__":
        return [_thaw(v) for v in value[1]]
    return value


# -- conversation ------------------------------------------------------------------------


def open_session_for(
    patient_ids: Sequence[int], clinic_id: int, channel: str, now: datetime
) -> SurveySession | None:
    """The patient's open, unexpired conversation on `channel` with this clinic."""
    return db.session.scalar(
        select(SurveySession)
        .where(
            SurveySession.patient_id.in_(list(patient_ids)),
            SurveySession.clinic_id == clinic_id,
            SurveySession.channel == channel,
            SurveySession.state == SessionState.OPEN,
            SurveySession.expires_at > now,
            SurveySession.current_question.is_not(None),
        )
        .order_by(SurveySession.opened_at.desc())
        .limit(1)
        .with_for_update()
    )


def take_answer(conversation: Conversation) -> bool:
    """A reply handler: an open survey question on the reply's channel takes the reply
    as its answer (or asks once more). True if one did."""
    session = open_session_for(
        conversation.patient_ids, conversation.clinic.id, conversation.channel, conversation.now
    )
    if session is None:
        return False
    turn = answer_text(session.id, conversation.body, conversation.now)
    conversation.inbound.intent = "survey_answer" if turn.answer is not None else "survey_reask"
    kind = MessageKind.SURVEY_THANKS if turn.finished else MessageKind.SURVEY_QUESTION
    for text in turn.texts:
        conversation.answer_text(
            kind, text, session.locale, session.appointment_id, survey_session_id=session.id
        )
    return True


@dataclass(frozen=True)
class Turn:
    """The result of one reply: what to say back, and whether the survey is over."""

    texts: list[str]
    finished: bool
    answer: Answer | None
    next_question: Question | None


def answer_text(session_id: int, raw: str, now: datetime) -> Turn:
    """A text reply to the session's current question. Does not commit."""
    session, definition, speaker, clinic = _load(session_id)
    question = definition.question(_current(session))
    labels = flow.option_labels(question, lambda value: speech.all_texts(speaker, value))
    step = flow.interpret(question, raw, session.locale, labels, reasks=session.reasks)
    session.last_activity_at = now
    if step.reask:
        session.reasks += 1
        hint = texts.HINT_REQUIRED if _is_skip(raw, session) else texts.HINT
        prefix = speaker.say(hint)
        return Turn([f"{prefix} {speech.question_text(speaker, question)}"], False, None, question)
    assert step.answer is not None
    return _advance(session, definition, speaker, clinic, step.answer, raw, now)


def _is_skip(raw: str, session: SurveySession) -> bool:
    return parsing.parse_number(raw, session.locale).intent is parsing.Intent.SKIP


def answer_value(session_id: int, question_id: str, value: str | None, now: datetime) -> Turn:
    """An answer given as a value (a form field or a key press). Does not commit."""
    session, definition, speaker, clinic = _load(session_id)
    if session.current_question != question_id:
        raise Invalid("that question is not the one waiting for an answer")
    answer = flow.answer_from_value(definition.question(question_id), value)
    session.last_activity_at = now
    return _advance(session, definition, speaker, clinic, answer, None, now)


def record_form(session_id: int, values: Mapping[str, str | None], now: datetime) -> int:
    """One web form submission: every question on the answered path, at once. Commits.

    Follows the skip logic from the first question, so answers to questions the path
    skips are not stored. Raises Invalid (naming the question) for a bad value or a
    required question left empty, and Invalid if the session is no longer open.
    Returns the number of answers stored.
    """
    session = db.session.get(SurveySession, session_id, with_for_update=True)
    if session is None:
        raise NotFound("survey not found")
    if session.state is not SessionState.OPEN or session.expires_at <= now:
        raise Invalid("this survey is closed")
    definition = definition_of(_version(session))
    question: Question | None = flow.first_question(definition)
    stored = 0
    while question is not None:
        value = values.get(question.id)
        if (value is None or not str(value).strip()) and not question.optional:
            raise Invalid(f"{question.id}: please answer this question")
        try:
            answer = flow.answer_from_value(question, value)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        _store(session, answer, value if question.type == "free_text" else None, now)
        stored += 1
        question = flow.next_question(definition, answer)
    _record_response(session, now)
    _close(session, SessionState.COMPLETED, now)
    db.session.commit()
    return stored


def _load(session_id: int) -> tuple[SurveySession, SurveyDefinition, Speaker, Clinic]:
    session = db.session.get(SurveySession, session_id)
    if session is None:
        raise NotFound("survey session not found")
    clinic = db.session.get(Clinic, session.clinic_id)
    patient = db.session.get(Patient, session.patient_id)
    assert clinic is not None
    assert patient is not None
    return session, definition_of(_version(session)), speaker_for(patient, clinic), clinic


def _version(session: SurveySession) -> SurveyVersion:
    version = db.session.get(SurveyVersion, session.survey_version_id)
    assert version is not None
    return version


def _current(session: SurveySession) -> str:
    if session.state is not SessionState.OPEN or session.current_question is None:
        raise Invalid("this survey is closed")
    return session.current_question


def _advance(
    session: SurveySession,
    definition: SurveyDefinition,
    speaker: Speaker,
    clinic: Clinic,
    answer: Answer,
    raw: str | None,
    now: datetime,
) -> Turn:
    _store(session, answer, raw, now)
    _record_response(session, now)
    following = flow.next_question(definition, answer)
    session.reasks = 0
    if following is None:
        _close(session, SessionState.COMPLETED, now)
        return Turn([speaker.say(texts.THANKS, clinic=clinic.name)], True, answer, None)
    session.current_question = following.id
    return Turn([speech.question_text(speaker, following)], False, answer, following)


def _record_response(session: SurveySession, now: datetime) -> None:
    """Copy the conversation's answers so far into the results store."""
    db.session.flush()
    answers = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.session_id == session.id))
    given = [GivenAnswer(a.question_id, a.status, a.value, a.raw_locale) for a in answers]
    if record_response(session.id, given, now):
        survey_response_recorded(session.clinic_id, _version(session).slug, now)


def _store(session: SurveySession, answer: Answer, raw: str | None, now: datetime) -> None:
    db.session.add(
        SurveyAnswer(
            session_id=session.id,
            survey_version_id=session.survey_version_id,
            question_id=answer.question_id,
            status=answer.status.value,
            value=answer.value,
            raw_text=raw,
            raw_locale=session.locale,
            channel=session.channel,
            answered_at=now,
        )
    )


def _close(session: SurveySession, state: SessionState, now: datetime) -> None:
    session.state = state
    session.current_question = None
    session.closed_at = now


def close_for_opt_out(patient_id: int, clinic_id: int, now: datetime) -> None:
    """An opt-out ends every open conversation of the patient with the clinic (an
    opt-out listener: `app.patients.consent.on_opt_out`). Does not commit."""
    db.session.execute(
        update(SurveySession)
        .where(
            SurveySession.patient_id == patient_id,
            SurveySession.clinic_id == clinic_id,
            SurveySession.state == SessionState.OPEN,
        )
        .values(state=SessionState.OPTED_OUT, closed_at=now, current_question=None)
        .execution_options(synchronize_session=False)
    )


def expire_sessions(now: datetime) -> int:
    """Close every open conversation past its lifetime; answers so far are kept. Commits."""
    result = db.session.execute(
        update(SurveySession)
        .where(SurveySession.state == SessionState.OPEN, SurveySession.expires_at <= now)
        .values(state=SessionState.EXPIRED, closed_at=now, current_question=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def answer_statuses() -> tuple[str, ...]:
    return tuple(status.value for status in AnswerStatus)
