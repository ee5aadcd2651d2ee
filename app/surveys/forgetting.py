"""What surveys forget: a patient's words on erasure, old words at the retention purge.

- Erasure ends the patient's open conversations (state `erased`), and blanks their own
  words: every reply's text as they sent it, and the value of every free-text answer,
  in the answers and in the pseudonymous response. The response itself stays, with its
  choices: the results weight it under its pseudonym, so snapshots stay valid.
- The purge blanks the same texts once older than the organisation's retention period.

A response's `updated_at` is not touched: the snapshots' input digest reads it, and
what a snapshot computes (the Friends and Family Test answer and the weights) does not
change when a text is blanked. Registered as a `Forgetter` in `app.wiring`; nothing
here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.extensions import db
from app.patients.forgetting import Forgetter
from app.results.models import SurveyInvitation, SurveyResponse
from app.surveys.models import SessionState, SurveyAnswer, SurveySession, SurveyVersion
from app.surveys.service import definition_of

#: How many answers one purge round loads.
BATCH = 1000


def _free_text_questions(version_id: int) -> frozenset[str]:
    version = db.session.get(SurveyVersion, version_id)
    if version is None:
        return frozenset()
    return frozenset(q.id for q in definition_of(version).questions if q.type == "free_text")


def _session_ids(patient_id: int, clinic_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(SurveySession.id).where(
                SurveySession.patient_id == patient_id, SurveySession.clinic_id == clinic_id
            )
        )
    )


def count_patient(patient_id: int, clinic_id: int) -> dict[str, int]:
    """Open conversations, answers in the patient's own words, and responses kept."""
    sessions = _session_ids(patient_id, clinic_id)
    if not sessions:
        return {"conversations_open": 0, "answers_in_own_words": 0, "responses_kept": 0}
    open_count = db.session.scalar(
        select(func.count(SurveySession.id)).where(
            SurveySession.id.in_(sessions), SurveySession.state == SessionState.OPEN
        )
    )
    worded = db.session.scalar(
        select(func.count(SurveyAnswer.id)).where(
            SurveyAnswer.session_id.in_(sessions), SurveyAnswer.raw_text.is_not(None)
        )
    )
    kept = db.session.scalar(
        select(func.count(SurveyResponse.id))
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(SurveyInvitation.session_id.in_(sessions))
    )
    return {
        "conversations_open": int(open_count or 0),
        "answers_in_own_words": int(worded or 0),
        "responses_kept": int(kept or 0),
    }


def erase_patient(patient_id: int, clinic_id: int, now: datetime) -> dict[str, int]:
    """End the patient's open conversations and blank their words. Does not commit."""
    sessions = _session_ids(patient_id, clinic_id)
    if not sessions:
        return {"conversations_ended": 0, "answers_blanked": 0, "responses_kept": 0}
    ended = db.session.execute(
        update(SurveySession)
        .where(SurveySession.id.in_(sessions), SurveySession.state == SessionState.OPEN)
        .values(state=SessionState.ERASED, closed_at=now, current_question=None)
        .execution_options(synchronize_session=False)
    )
    answers = db.session.scalars(
        select(SurveyAnswer).where(
            SurveyAnswer.session_id.in_(sessions),
            SurveyAnswer.raw_text.is_not(None) | SurveyAnswer.value.is_not(None),
        )
    ).all()
    blanked = sum(_blank_answer(a) for a in answers)
    kept = _blank_responses(sessions)
    return {
        "conversations_ended": int(getattr(ended, "rowcount", 0) or 0),
        "answers_blanked": blanked,
        "responses_kept": kept,
    }


def purge_before(clinic_ids: Sequence[int], cutoff: datetime) -> dict[str, int]:
    """Blank the patients' words in answers given before `cutoff` in these clinics, and
    the free text of their responses. Does not commit."""
    purged = 0
    while clinic_ids:
        answers = db.session.scalars(
            select(SurveyAnswer)
            .join(SurveySession, SurveySession.id == SurveyAnswer.session_id)
            .where(
                SurveySession.clinic_id.in_(list(clinic_ids)),
                SurveyAnswer.raw_text.is_not(None),
                SurveyAnswer.answered_at < cutoff,
            )
            .order_by(SurveyAnswer.id)
            .limit(BATCH)
        ).all()
        if not answers:
            break
        for answer in answers:
            purged += _blank_answer(answer)
        _blank_responses({a.session_id for a in answers})
        db.session.flush()
    return {"survey_texts": purged}


def _blank_answer(answer: SurveyAnswer) -> int:
    """Blank the reply's text, and the value of a free-text answer; 1 if anything was
    there to blank."""
    had_words = answer.raw_text is not None
    answer.raw_text = None
    if answer.question_id in _free_text_questions(answer.survey_version_id):
        had_words = had_words or answer.value is not None
        answer.value = None
    return int(had_words)


def _blank_responses(session_ids: Iterable[int]) -> int:
    """Blank the free-text values of the responses of these conversations; returns how
    many responses there are (each kept, with its choices)."""
    ids = sorted(set(session_ids))
    if not ids:
        return 0
    responses = db.session.scalars(
        select(SurveyResponse)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(SurveyInvitation.session_id.in_(ids))
    ).all()
    for response in responses:
        free = _free_text_questions(response.survey_version_id)
        if any(_has_value(response.answers.get(q)) for q in free):
            # A new mapping, so that the JSON column sees the change.
            response.answers = {
                q: _without_value(a) if q in free else a for q, a in response.answers.items()
            }
    return len(responses)


def _has_value(answer: Any) -> bool:
    return isinstance(answer, Mapping) and answer.get("value") is not None


def _without_value(answer: Any) -> Any:
    return {**answer, "value": None} if isinstance(answer, Mapping) else answer


FORGETTER = Forgetter(count=count_patient, erase=erase_patient, purge=purge_before)
