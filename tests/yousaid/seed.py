"""Surveyed months for the "you said, we did" tests: exactly so many asked and so many
answering, some with words, each month's clinic and organisation snapshots computed by
the results service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from app.clinics.models import Clinic
from app.core.channels import Channel
from app.extensions import db
from app.patients.models import Patient
from app.results import service as results
from app.results.models import ResultSnapshot, SurveyInvitation, SurveyResponse
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import register_definition
from app.themes import service as themes
from tests.results.cohorts import VISIT_SURVEY

SLUG = str(VISIT_SURVEY["slug"])
AGES = ("25-39", "40-54", "55-64", "65-74")
ETHNIC = ("white", "asian", "black", "white", "mixed")
LANGUAGES = ("en", "en", "bn", "ar")
CHANNELS = (Channel.SMS, Channel.SMS, Channel.WEB, Channel.VOICE)


def surveyed_month(
    clinic: Clinic,
    period: str,
    invited: int,
    answered: int,
    words: Sequence[str] = (),
    *,
    organisation: bool = True,
) -> ResultSnapshot:
    """`invited` patients of `clinic` asked in `period`, the first `answered` of them
    answering (good, very good or poor in turn), the first of those writing `words`;
    then the month's clinic snapshot (and the organisation's). Commits."""
    at = datetime.strptime(period, "%Y-%m").replace(day=10, hour=12, tzinfo=UTC)
    version = register_definition(VISIT_SURVEY, clinic.id, at)
    clinic.survey_slug = version.slug
    patient = Patient(
        clinic_id=clinic.id,
        external_id=f"YOUSAID-{clinic.id}-{period}",
        phone="+447400100200",
        locale="en",
        channel_preference="sms",
        created_at=at,
        updated_at=at,
    )
    db.session.add(patient)
    db.session.flush()
    for index in range(invited):
        _invite(clinic, patient.id, version.id, period, at, index, index < answered, words)
    db.session.commit()
    later = at + timedelta(days=30)
    snapshot = results.compute_snapshot(SLUG, "clinic", clinic.id, period, later)
    assert snapshot is not None
    if organisation:
        results.compute_snapshot(SLUG, "organisation", clinic.organisation_id, period, later)
    themes.collect_comments(clinic.organisation_id, later)
    return snapshot


def _invite(
    clinic: Clinic,
    patient_id: int,
    version_id: int,
    period: str,
    at: datetime,
    index: int,
    answers: bool,
    words: Sequence[str],
) -> None:
    channel = CHANNELS[index % len(CHANNELS)]
    language = LANGUAGES[index % len(LANGUAGES)]
    session = SurveySession(
        clinic_id=clinic.id,
        patient_id=patient_id,
        survey_version_id=version_id,
        channel=channel,
        locale=language,
        state=SessionState.COMPLETED if answers else SessionState.EXPIRED,
        current_question=None,
        opened_at=at,
        expires_at=at + timedelta(hours=48),
        last_activity_at=at,
    )
    db.session.add(session)
    db.session.flush()
    invitation = SurveyInvitation(
        session_id=session.id,
        survey_version_id=version_id,
        survey_slug=SLUG,
        organisation_id=clinic.organisation_id,
        clinic_id=clinic.id,
        pathway=None,
        period=period,
        respondent_key=f"{clinic.id}-{session.id}",
        age_band=AGES[index % len(AGES)],
        sex="FM"[index % 2],
        ethnic=ETHNIC[index % len(ETHNIC)],
        imd=str(1 + index % 5),
        language=language,
        channel=channel,
        invited_at=at,
        responded=answers,
    )
    db.session.add(invitation)
    db.session.flush()
    if not answers:
        return
    fft = ("good", "very_good", "poor")[index % 3]
    given = {"fft": {"status": "answered", "value": fft, "language": "en"}}
    if index < len(words):
        given["comment"] = {"status": "answered", "value": words[index], "language": "en"}
    db.session.add(
        SurveyResponse(
            invitation_id=invitation.id,
            respondent_key=invitation.respondent_key,
            survey_version_id=version_id,
            answers=given,
            fft=fft,
            language=language,
            channel=channel,
            responded_at=at + timedelta(hours=2),
            updated_at=at + timedelta(hours=2),
        )
    )
