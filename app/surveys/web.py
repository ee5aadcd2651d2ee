"""The survey web channel's service: the conversation behind a link, and a submission.

A link opens a `Visit` (the session, its clinic, its survey and how to speak to the
patient) or says why it cannot (`Closed`). A submission stores every answer on the
path the answers take, at once, or says what is wrong with it; a submission that lost
a race with another one for the same link comes back as the state the link is in now.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError

from app.clinics.models import Clinic
from app.core.errors import WeSaidError
from app.extensions import db
from app.messaging.speaker import Speaker, speaker_for
from app.patients.models import Patient
from app.surveys import service, speech, web_form
from app.surveys.definitions import SurveyDefinition, Text
from app.surveys.models import SessionState, SurveySession, SurveyVersion
from app.surveys.web_texts import WEB_TEXTS


class Closed(enum.StrEnum):
    """Why a link shows a page instead of the form."""

    NOT_FOUND = "not_found"  # no such conversation (or a link we did not sign)
    ANSWERED = "answered"  # the survey was completed already
    CLOSED = "closed"  # expired, opted out or otherwise over


@dataclass(frozen=True)
class Visit:
    """The live conversation behind a link."""

    session: SurveySession
    clinic: Clinic
    definition: SurveyDefinition
    speaker: Speaker

    def text_of(self, value: Text) -> tuple[str, str]:
        """A definition text in the patient's language, and that language."""
        return speech.text_of(self.speaker, value)

    def ui(self) -> dict[str, str]:
        """The page's own words in the patient's language."""
        return {name: self.speaker.localise(message)[0] for name, message in WEB_TEXTS.items()}

    def words(self, ui: Mapping[str, str]) -> web_form.Words:
        fields = dataclasses.fields(web_form.Words)
        return web_form.Words(**{item.name: ui[item.name] for item in fields})


def english_words() -> dict[str, str]:
    """The page's own words in English, for a visitor whose conversation is not known."""
    return dict(WEB_TEXTS)


def find_visit(session_id: int) -> Visit | None:
    """The conversation `session_id`, open or not; None if there is none."""
    session = db.session.get(SurveySession, session_id)
    if session is None:
        return None
    clinic = db.session.get(Clinic, session.clinic_id)
    patient = db.session.get(Patient, session.patient_id)
    version = db.session.get(SurveyVersion, session.survey_version_id)
    if clinic is None or patient is None or version is None:
        return None
    return Visit(session, clinic, service.definition_of(version), speaker_for(patient, clinic))


def closed_reason(visit: Visit, now: datetime) -> Closed | None:
    """Why the conversation takes no more answers; None while it is open."""
    session = visit.session
    if session.state is SessionState.COMPLETED:
        return Closed.ANSWERED
    if session.state is not SessionState.OPEN or session.expires_at <= now:
        return Closed.CLOSED
    return None


@dataclass(frozen=True)
class Refused:
    """A submission not stored: the visit as it is now (None: gone), and either why it
    is closed, or the problems to show with the form."""

    visit: Visit | None
    closed: Closed | None = None
    problems: Mapping[str, web_form.Problem] = dataclasses.field(default_factory=dict)


def submit(session_id: int, values: Mapping[str, str], now: datetime) -> int | Refused:
    """Store one submission; returns how many answers were stored, or why none were.

    Commits. Another submission of the same link may have won the race: then the
    conversation's state now decides the page (already answered, closed).
    """
    try:
        return service.record_form(session_id, values, now)
    except (WeSaidError, IntegrityError, OperationalError) as exc:
        db.session.rollback()
        reason = str(exc) if isinstance(exc, WeSaidError) else ""
    db.session.expire_all()
    visit = find_visit(session_id)
    if visit is None:
        return Refused(None, Closed.NOT_FOUND)
    closed = closed_reason(visit, now)
    if closed is not None:
        return Refused(visit, closed)
    # record_form names the question first: "<question id>: why".
    question_id = reason.split(":", 1)[0]
    if question_id in {q.id for q in visit.definition.questions}:
        return Refused(visit, problems={question_id: web_form.Problem.INVALID})
    return Refused(visit)
