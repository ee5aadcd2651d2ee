"""What "you said, we did" keeps of patients' words, for erasure and the retention purge.

A published quote keeps the masked words it was approved with. When the patient is
erased, or the answer is older than the organisation's retention period, the quote is
withdrawn and its words blanked, whether or not the public page would still show it.
Entries hold staff's words only, so there is nothing of a patient to find in them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Select, select

from app.extensions import db
from app.patients.forgetting import Forgetter
from app.results.models import SurveyInvitation, SurveyResponse
from app.surveys.models import SurveySession
from app.themes.models import ThemeComment
from app.yousaid.models import PublishedQuote


def _quotes() -> Select[PublishedQuote]:
    return (
        select(PublishedQuote)
        .join(ThemeComment, ThemeComment.id == PublishedQuote.comment_id)
        .join(SurveyResponse, SurveyResponse.id == ThemeComment.response_id)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
    )


def _of_patient(patient_id: int, clinic_id: int) -> list[PublishedQuote]:
    query = _quotes().join(SurveySession, SurveySession.id == SurveyInvitation.session_id)
    return list(
        db.session.scalars(
            query.where(
                SurveySession.patient_id == patient_id, SurveySession.clinic_id == clinic_id
            )
        )
    )


def _forget(quotes: Sequence[PublishedQuote], now: datetime) -> int:
    forgotten = 0
    for quote in quotes:
        if quote.text or quote.withdrawn_at is None:
            forgotten += 1
        quote.text = ""
        quote.withdrawn_at = quote.withdrawn_at or now
    return forgotten


def count_patient(patient_id: int, clinic_id: int) -> Mapping[str, int]:
    found = sum(1 for quote in _of_patient(patient_id, clinic_id) if quote.text)
    return {"published_quotes": found} if found else {}


def erase_patient(patient_id: int, clinic_id: int, now: datetime) -> Mapping[str, int]:
    """Withdraw and blank the patient's quotes. Does not commit."""
    forgotten = _forget(_of_patient(patient_id, clinic_id), now)
    return {"quotes_withdrawn": forgotten} if forgotten else {}


def purge_before(clinic_ids: Sequence[int], cutoff: datetime) -> Mapping[str, int]:
    """Withdraw and blank quotes of answers given before `cutoff` in these clinics. Does
    not commit."""
    if not clinic_ids:
        return {}
    quotes = db.session.scalars(
        _quotes().where(
            PublishedQuote.clinic_id.in_(list(clinic_ids)),
            SurveyResponse.responded_at < cutoff,
            PublishedQuote.text != "",
        )
    ).all()
    forgotten = _forget(quotes, cutoff)
    return {"quotes_withdrawn": forgotten} if forgotten else {}


FORGETTER = Forgetter(count=count_patient, erase=erase_patient, purge=purge_before)
