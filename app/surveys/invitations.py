"""Survey invitations: planning one after an attended visit, and opening the
conversation when it is sent.

An attended appointment plans an invitation (an outbox row of kind ``survey_invite``)
unless the pathway is suppressed, the patient has opted out, or the clinic asked them
within its interval. The session opens when the invitation is sent, so the interval
and the expiry count from what the patient actually received. Functions here do not
commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.messaging import compose
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.consent import is_opted_out
from app.patients.models import Patient
from app.results.service import record_invitation
from app.scheduling.rules import QuietHours, plan_survey
from app.surveys import flow, texts
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import current_version, definition_of, speaker_for

# -- invitations -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    message_id: int | None
    #: Why no invitation was planned: "no_survey", "suppressed_pathway", "opted_out",
    #: "recently_asked", "already_planned", "too_late"; "" when one was.
    reason: str = ""


def asked_recently(patient_id: int, clinic_id: int, since: datetime) -> bool:
    """Whether the clinic has invited the patient since `since` (or has one on the way)."""
    sessions = db.session.scalar(
        select(func.count(SurveySession.id)).where(
            SurveySession.patient_id == patient_id,
            SurveySession.clinic_id == clinic_id,
            SurveySession.opened_at >= since,
            SurveySession.state != SessionState.UNDELIVERED,
        )
    )
    pending = db.session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.patient_id == patient_id,
            OutboundMessage.clinic_id == clinic_id,
            OutboundMessage.kind == "survey_invite",
            OutboundMessage.state.in_([MessageState.PENDING, MessageState.CLAIMED]),
        )
    )
    return bool(sessions) or bool(pending)


def plan_invitation(appointment_id: int, clock: Clock) -> PlanResult:
    """Plan the survey invitation for an attended appointment. Does not commit."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"appointment {appointment_id} not found")
    if appointment.status is not AppointmentStatus.ATTENDED:
        raise Invalid("only an attended appointment is surveyed")
    clinic = db.session.get(Clinic, appointment.clinic_id)
    patient = db.session.get(Patient, appointment.patient_id)
    assert clinic is not None
    assert patient is not None
    now = clock.now()
    if not clinic.survey_slug:
        return PlanResult(None, "no_survey")
    if appointment.pathway and appointment.pathway in (clinic.survey_suppressed_pathways or []):
        return PlanResult(None, "suppressed_pathway")
    channel = patient.channel_preference or "sms"
    if is_opted_out(patient.id, clinic.id, channel):
        return PlanResult(None, "opted_out")
    existing = db.session.scalar(
        select(OutboundMessage.id).where(
            OutboundMessage.appointment_id == appointment.id,
            OutboundMessage.kind == "survey_invite",
        )
    )
    if existing is not None:
        return PlanResult(None, "already_planned")
    if asked_recently(patient.id, clinic.id, now - timedelta(days=clinic.survey_interval_days)):
        return PlanResult(None, "recently_asked")
    planned = plan_survey(
        appointment.starts_at,
        ZoneInfo(clinic.timezone),
        timedelta(minutes=clinic.survey_delay_minutes),
        QuietHours(clinic.quiet_start, clinic.quiet_end),
        timedelta(minutes=clinic.survey_window_minutes),
    )
    if planned.expires_at <= now:
        return PlanResult(None, "too_late")
    message = OutboundMessage(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=appointment.id,
        kind="survey_invite",
        rule="",
        plan_version=1,
        channel=channel,
        state=MessageState.PENDING,
        due_at=max(planned.due_at, now),
        expires_at=planned.expires_at,
        created_at=now,
        updated_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return PlanResult(message.id)


@dataclass(frozen=True)
class Opened:
    """What to send for an invitation that is going out now."""

    session_id: int
    body: str
    locale: str


def open_session(
    message_id: int,
    now: datetime,
    public_base_url: str,
    link_signer: Any = None,
    pseudonym_secret: bytes = b"",
) -> Opened | None:
    """Open the conversation for an invitation being sent; None if it must not go.

    Checks the interval again (another clinic message may have asked the patient since
    it was planned). For a text channel the body is the invitation and the first
    question; for the web channel it is the invitation with a signed link; for voice the
    body is only a record (the call fetches its questions). Does not commit.
    """
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.kind != "survey_invite":
        return None
    clinic = db.session.get(Clinic, message.clinic_id)
    patient = db.session.get(Patient, message.patient_id)
    assert clinic is not None
    assert patient is not None
    if message.survey_session_id is not None:  # a retry of the same invitation
        session = db.session.get(SurveySession, message.survey_session_id)
        assert session is not None
        return Opened(session.id, message.body or "", session.locale)
    since = now - timedelta(days=clinic.survey_interval_days)
    if message.fallback_for_id is None and _opened_since(patient.id, clinic.id, since):
        return None
    version = current_version(clinic, clinic.survey_slug or texts.FFT["slug"], now)
    if version is None:
        return None
    definition = definition_of(version)
    speaker = speaker_for(patient, clinic)
    first = flow.first_question(definition)
    session = SurveySession(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=message.appointment_id,
        survey_version_id=version.id,
        channel=message.channel,
        locale=speaker.locale,
        state=SessionState.OPEN,
        current_question=first.id,
        reasks=0,
        opened_at=now,
        expires_at=now + timedelta(hours=clinic.survey_session_hours),
        last_activity_at=now,
    )
    db.session.add(session)
    db.session.flush()
    message.survey_session_id = session.id
    record_invitation(session, version.slug, now, pseudonym_secret)
    if message.channel == "web":
        link = web_link(public_base_url, session.id, link_signer)
        zone = ZoneInfo(clinic.timezone)
        date_text, _ = compose.format_when(session.expires_at, zone, speaker.locale)
        body = speaker.say(texts.WEB_INVITE, clinic=clinic.name, link=link, date=date_text)
    elif message.channel == "voice":
        body = speaker.say(texts.VOICE_INTRO, clinic=clinic.name)
    else:
        invite = speaker.say(texts.INVITE, clinic=clinic.name)
        body = f"{invite} {speaker.question(first)}"
    return Opened(session.id, body, speaker.locale)


def _opened_since(patient_id: int, clinic_id: int, since: datetime) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(SurveySession.id)).where(
                SurveySession.patient_id == patient_id,
                SurveySession.clinic_id == clinic_id,
                SurveySession.opened_at >= since,
                SurveySession.state != SessionState.UNDELIVERED,
            )
        )
    )


def web_link(public_base_url: str, session_id: int, signer: Any) -> str:
    """The signed link to a session's web form (the token holds only the session id)."""
    token = signer.dumps({"s": session_id}) if signer is not None else str(session_id)
    return f"{public_base_url.rstrip('/')}/s/{token}"


def mark_undelivered(session_id: int, now: datetime) -> None:
    """The invitation never reached the patient (a fallback may try another channel)."""
    db.session.execute(
        update(SurveySession)
        .where(SurveySession.id == session_id, SurveySession.state == SessionState.OPEN)
        .values(state=SessionState.UNDELIVERED, closed_at=now, current_question=None)
    )
