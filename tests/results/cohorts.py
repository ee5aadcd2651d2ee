"""Surveyed clinics for the results pages' tests: months of invitations and responses,
written as the survey conversations write them, then each month's snapshot computed by
the results service.

Who answers is fixed, not drawn: in each cell (age band × channel) a share `p` of those
invited answer, spread evenly over the cell, so the figures a test expects follow from
the table below. Patients aged 16-24 answer far less than the rest (by any channel), and
patients aged 75+ answer voice calls far more than texts: both groups are flagged, and
the second has a channel to suggest.

| age band | share of invitations | channel (of the band)         | answer |
|----------|----------------------|-------------------------------|--------|
| 16-24    | 15%                  | SMS                           | 4%     |
| 25-39    | 20%                  | SMS 70%, WhatsApp 20%, web 10%| 55%    |
| 40-54    | 20%                  | SMS 80%, web 20%              | 60%    |
| 55-64    | 15%                  | SMS                           | 60%    |
| 65-74    | 10%                  | SMS                           | 55%    |
| 75+      | 20%                  | SMS 85%, voice call 15%       | SMS 5%, voice 60% |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.clinics.models import Clinic
from app.core.channels import Channel
from app.extensions import db
from app.patients.models import Patient
from app.results import service as results
from app.results.models import ResultSnapshot, SurveyInvitation, SurveyResponse
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import register_definition

FFT_OPTIONS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
FFT_LABELS = ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")
VISIT_SURVEY: dict[str, Any] = {
    "slug": "clinic-visit",
    "title": "After your visit",
    "questions": [
        {
            "id": "fft",
            "type": "single_choice",
            "text": "Overall, how was your experience of our service?",
            "options": [
                {"key": key, "label": label}
                for key, label in zip(FFT_OPTIONS, FFT_LABELS, strict=True)
            ],
        },
        {"id": "clean", "type": "yes_no", "text": "Was the clinic clean?"},
        {
            "id": "pain",
            "type": "scale",
            "text": "How much pain are you in today?",
            "min": 1,
            "max": 5,
        },
        {
            "id": "waited",
            "type": "number",
            "text": "How many days did you wait?",
            "min": 0,
            "max": 365,
        },
        {"id": "interpreter", "type": "yes_no", "text": "Did you have the interpreter you needed?"},
        {"id": "comment", "type": "free_text", "text": "Anything else?", "optional": True},
    ],
}

#: (age band, birth year in 2026, share of invitations, [(channel, share, answer rate)]).
CELLS: tuple[tuple[str, float, tuple[tuple[str, float, float], ...]], ...] = (
    ("16-24", 0.15, (("sms", 1.0, 0.04),)),
    ("25-39", 0.20, (("sms", 0.7, 0.55), ("whatsapp", 0.2, 0.55), ("web", 0.1, 0.55))),
    ("40-54", 0.20, (("sms", 0.8, 0.6), ("web", 0.2, 0.6))),
    ("55-64", 0.15, (("sms", 1.0, 0.6),)),
    ("65-74", 0.10, (("sms", 1.0, 0.55),)),
    ("75+", 0.20, (("sms", 0.85, 0.05), ("voice", 0.15, 0.6))),
)
# Lengths prime to the cells' answer patterns (every 5th, 20th or 25th), so that no sex,
# ethnic group or quintile answers more than another by the accident of the pattern.
SEXES = ("F", "M", "F", "M", "F", "M", "unknown")
ETHNIC = ("white", "white", "asian", "white", "black", "mixed", "white", "other", "white")
IMD = ("1", "2", "3", "4", "5", "3", "1", "2", "4", "5", "3")


@dataclass(frozen=True)
class Invitee:
    age_band: str
    sex: str
    ethnic: str
    imd: str
    language: str
    channel: str
    answers: bool


def invitees(count: int) -> list[Invitee]:
    """`count` invitations spread over the cells, each cell answering at its rate."""
    people: list[Invitee] = []
    for band, share, channels in CELLS:
        for channel, channel_share, rate in channels:
            size = round(count * share * channel_share)
            for k in range(size):
                index = len(people)
                people.append(
                    Invitee(
                        age_band=band,
                        sex=SEXES[index % len(SEXES)],
                        ethnic=ETHNIC[index % len(ETHNIC)],
                        imd=IMD[index % len(IMD)],
                        language="bn" if index % 50 == 7 else "en",
                        channel=channel,
                        answers=int((k + 1) * rate) > int(k * rate),
                    )
                )
    return people


def _answers(person: Invitee, index: int, month: int) -> dict[str, Any]:
    older = person.age_band in ("65-74", "75+")
    fft = FFT_OPTIONS[(index * 7 + month + (0 if older else 2)) % (5 if older else 6)]
    answers: dict[str, Any] = {
        "fft": {"status": "answered", "value": fft, "language": "en"},
        "clean": {"status": "answered", "value": "yes" if index % 4 else "no", "language": "en"},
        "pain": {"status": "answered", "value": str(1 + (index * 3) % 5), "language": "en"},
        "waited": {"status": "answered", "value": str(5 + index % 20), "language": "en"},
    }
    if index % 9 == 4:
        answers["pain"] = {"status": "skipped", "value": None, "language": "en"}
    if person.language != "en":
        answers["interpreter"] = {"status": "answered", "value": "yes", "language": "bn"}
    if index % 3 == 0:
        answers["comment"] = {"status": "answered", "value": "words", "language": "en"}
    return answers


def survey_months(
    clinic: Clinic,
    months: Sequence[str],
    per_month: int,
    *,
    pathway: str | None = None,
    survey: dict[str, Any] | None = None,
) -> list[ResultSnapshot]:
    """Invite `per_month` patients of `clinic` in each of `months` ("YYYY-MM") to the
    survey (the visit survey unless given), record who answered, and compute each month's
    clinic snapshot. Commits; returns the snapshots, oldest first."""
    definition = survey or VISIT_SURVEY
    first = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=UTC)
    version = register_definition(definition, clinic.id, first)
    clinic.survey_slug = version.slug
    patient = Patient(
        clinic_id=clinic.id,
        external_id=f"COHORT-{clinic.id}",
        phone="+447400100200",
        locale="en",
        channel_preference="sms",
        created_at=first,
        updated_at=first,
    )
    db.session.add(patient)
    db.session.flush()
    snapshots = []
    for month, period in enumerate(months):
        invited_at = datetime.strptime(period, "%Y-%m").replace(day=10, hour=12, tzinfo=UTC)
        count = per_month + 20 * (month % 3)
        slug = str(definition["slug"])
        _invite(clinic, patient.id, version.id, slug, period, invited_at, count, pathway, month)
        db.session.commit()
        snapshot = results.compute_snapshot(
            str(definition["slug"]), "clinic", clinic.id, period, invited_at + timedelta(days=30)
        )
        assert snapshot is not None
        snapshots.append(snapshot)
    return snapshots


def _invite(
    clinic: Clinic,
    patient_id: int,
    version_id: int,
    slug: str,
    period: str,
    invited_at: datetime,
    count: int,
    pathway: str | None,
    month: int,
) -> None:
    people = invitees(count)
    sessions = [
        SurveySession(
            clinic_id=clinic.id,
            patient_id=patient_id,
            survey_version_id=version_id,
            channel=person.channel,
            locale=person.language,
            state=SessionState.COMPLETED if person.answers else SessionState.EXPIRED,
            current_question=None,
            opened_at=invited_at,
            expires_at=invited_at + timedelta(hours=48),
            last_activity_at=invited_at,
        )
        for person in people
    ]
    db.session.add_all(sessions)
    db.session.flush()
    invitations = [
        SurveyInvitation(
            session_id=session.id,
            survey_version_id=version_id,
            survey_slug=slug,
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            pathway=pathway,
            period=period,
            respondent_key=f"{clinic.id}-{session.id}",
            age_band=person.age_band,
            sex=person.sex,
            ethnic=person.ethnic,
            imd=person.imd,
            language=person.language,
            channel=Channel(person.channel),
            invited_at=invited_at,
            responded=person.answers,
        )
        for session, person in zip(sessions, people, strict=True)
    ]
    db.session.add_all(invitations)
    db.session.flush()
    for index, (invitation, person) in enumerate(zip(invitations, people, strict=True)):
        if not person.answers:
            continue
        answers = _answers(person, index, month)
        db.session.add(
            SurveyResponse(
                invitation_id=invitation.id,
                respondent_key=invitation.respondent_key,
                survey_version_id=version_id,
                answers=answers,
                fft=answers["fft"]["value"],
                language=person.language,
                channel=invitation.channel,
                responded_at=invited_at + timedelta(hours=2),
                updated_at=invited_at + timedelta(hours=2),
            )
        )
