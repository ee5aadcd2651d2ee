"""The results' raw material, recorded as surveys run: an invitation when a conversation
opens, a response as its answers come.

Both are pseudonymous: a respondent is a keyed hash of the patient within the clinic
(`respondent_key`, keyed by a secret derived from the app's SECRET_KEY), never the
patient's id. An invitation keeps the patient's weighting categories as they were when
invited (age band, sex, ethnic group, deprivation quintile, language) and the channel;
a response keeps each answer's status, value and language, and the FFT answer apart for
the snapshots (`app.results.service`). Nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.clinics.models import Clinic
from app.extensions import db
from app.patients.models import Patient
from app.results import categories as cat
from app.results.models import SurveyInvitation, SurveyResponse
from app.results.summary import FFT_QUESTION

#: Answer statuses that count as a response.
ANSWERED = ("answered", "dont_know")


@dataclass(frozen=True)
class Invitee:
    """A patient just invited to a survey (a conversation has opened)."""

    session_id: int
    survey_version_id: int
    survey_slug: str
    clinic_id: int
    patient_id: int
    pathway: str | None
    channel: str


@dataclass(frozen=True)
class GivenAnswer:
    """One answer of a conversation, as the response keeps it."""

    question_id: str
    status: str
    value: str | None
    language: str | None


def pseudonym_secret(secret_key: str) -> bytes:
    """The key of respondents' pseudonyms, derived from the app's SECRET_KEY."""
    return hmac.new(secret_key.encode(), b"wesaid.respondent", hashlib.sha256).digest()


def respondent_key(secret: bytes, clinic_id: int, patient_id: int) -> str:
    """A keyed hash of the patient within a clinic: stable, not reversible without `secret`."""
    message = f"{clinic_id}:{patient_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def record_invitation(invitee: Invitee, now: datetime, secret: bytes) -> None:
    """Write the invitation row for a conversation that has just opened, with the
    patient's weighting categories as they are now. Does not commit."""
    patient = db.session.get(Patient, invitee.patient_id)
    clinic = db.session.get(Clinic, invitee.clinic_id)
    assert patient is not None
    assert clinic is not None
    local = now.astimezone(ZoneInfo(clinic.timezone))
    db.session.add(
        SurveyInvitation(
            session_id=invitee.session_id,
            survey_version_id=invitee.survey_version_id,
            survey_slug=invitee.survey_slug,
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            pathway=invitee.pathway,
            period=f"{local.year:04d}-{local.month:02d}",
            respondent_key=respondent_key(secret, clinic.id, patient.id),
            age_band=cat.age_band(patient.birth_year, local.year),
            sex=cat.sex(patient.sex),
            ethnic=cat.ethnic_group(patient.ethnic_category),
            imd=cat.imd(patient.imd_quintile),
            language=patient.locale,
            channel=invitee.channel,
            invited_at=now,
            responded=False,
        )
    )


def record_response(session_id: int, answers: Sequence[GivenAnswer], now: datetime) -> bool:
    """Copy a conversation's answers so far into its pseudonymous response row. Returns
    True when the row is new (the first answer of the conversation). Does not commit."""
    invitation = db.session.scalar(
        select(SurveyInvitation).where(SurveyInvitation.session_id == session_id)
    )
    if invitation is None:
        return False
    stored = {
        a.question_id: {"status": a.status, "value": a.value, "language": a.language}
        for a in answers
    }
    fft = next(
        (a.value for a in answers if a.question_id == FFT_QUESTION and a.status in ANSWERED),
        None,
    )
    response = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
    )
    created = response is None
    if response is None:
        response = SurveyResponse(
            invitation_id=invitation.id,
            respondent_key=invitation.respondent_key,
            survey_version_id=invitation.survey_version_id,
            language=invitation.language,
            channel=invitation.channel,
            responded_at=now,
        )
        db.session.add(response)
    response.answers = stored
    response.fft = fft
    response.updated_at = now
    invitation.responded = any(a.status in ANSWERED for a in answers)
    return created
