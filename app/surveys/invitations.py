"""Survey invitations: planning one after an attended visit, and opening the
conversation when it is sent.

An attended appointment plans an invitation (an outbox row of kind ``survey_invite``)
unless the pathway is suppressed, the patient has opted out, or the clinic asked them
within its interval; a DNA withdraws one not yet sent. The session opens when the
invitation is composed for sending (`compose_invitation`, the kind's composer), so the
interval and the expiry count from what the patient actually received. Functions here
do not commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.outbox import has_message, plan_message, withdraw_open
from app.messaging.registry import ComposeContext, Draft, Outgoing, Withheld
from app.messaging.speaker import speaker_for
from app.messaging.states import MessageState
from app.patients.consent import is_opted_out
from app.patients.models import Patient
from app.results.service import Invitee, pseudonym_secret, record_invitation
from app.scheduling.rules import QuietHours, plan_survey
from app.surveys import flow, speech, texts
from app.surveys.links import link_signer
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import current_version, definition_of

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
            OutboundMessage.kind == MessageKind.SURVEY_INVITE,
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
    channel = Channel(patient.channel_preference or Channel.SMS)
    if is_opted_out(patient.id, clinic.id, channel):
        return PlanResult(None, "opted_out")
    if has_message(appointment.id, MessageKind.SURVEY_INVITE):
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
    message = plan_message(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=appointment.id,
        kind=MessageKind.SURVEY_INVITE,
        channel=channel,
        due_at=max(planned.due_at, now),
        expires_at=planned.expires_at,
        now=now,
    )
    return PlanResult(message.id)


def withdraw_invitations(appointment_ids: Collection[int], now: datetime) -> int:
    """Withdraw the appointments' survey invitations that have not gone yet (a visit
    corrected to a DNA is not surveyed)."""
    return withdraw_open(appointment_ids, [MessageKind.SURVEY_INVITE], now)


def compose_invitation(message: Outgoing, context: ComposeContext) -> Draft:
    """The invitation of `message`, composed as it goes: the survey's composer.

    Opens the conversation, and writes its invitation row in the results store. Checks
    the interval again (another invitation may have reached the patient since this one
    was planned), and withholds (suppressed) the invitation then, or when the clinic no
    longer has a survey. By text the body is the invitation and the first question; on
    the web channel it is the invitation with a signed link; for a call it is only a
    record (the call asks the questions). A retry of an invitation whose conversation
    is open already sends the same body again.
    """
    now = context.now
    row = db.session.get(OutboundMessage, message.message_id)
    assert row is not None
    clinic = db.session.get(Clinic, message.clinic_id)
    patient = db.session.get(Patient, message.patient_id)
    assert clinic is not None
    assert patient is not None
    if row.survey_session_id is not None:
        session = db.session.get(SurveySession, row.survey_session_id)
        assert session is not None
        return Draft(row.body or "", session.locale)
    since = now - timedelta(days=clinic.survey_interval_days)
    if row.fallback_for_id is None and _opened_since(patient.id, clinic.id, since):
        raise Withheld(MessageState.SUPPRESSED)
    version = current_version(clinic, clinic.survey_slug or texts.FFT["slug"], now)
    if version is None:
        raise Withheld(MessageState.SUPPRESSED)
    definition = definition_of(version)
    speaker = speaker_for(patient, clinic)
    first = flow.first_question(definition)
    session = SurveySession(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=row.appointment_id,
        survey_version_id=version.id,
        channel=row.channel,
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
    row.survey_session_id = session.id
    appointment = db.session.get(Appointment, row.appointment_id) if row.appointment_id else None
    invitee = Invitee(
        session.id,
        version.id,
        version.slug,
        clinic.id,
        patient.id,
        appointment.pathway if appointment else None,
        session.channel,
    )
    record_invitation(invitee, now, pseudonym_secret(context.secret_key))
    if row.channel == Channel.WEB:
        signer = link_signer(context.secret_key, clock=context.clock)
        link = web_link(context.public_base_url, session.id, signer)
        date_text, _ = speaker.when(session.expires_at, speaker.locale)
        body = speaker.say(texts.WEB_INVITE, clinic=clinic.name, link=link, date=date_text)
    elif row.channel == Channel.VOICE:
        body = speaker.say(texts.VOICE_INTRO, clinic=clinic.name)
    else:
        invite = speaker.say(texts.INVITE, clinic=clinic.name)
        body = f"{invite} {speech.question_text(speaker, first)}"
    return Draft(body, speaker.locale)


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


def close_superseded(message: OutboundMessage, now: datetime) -> None:
    """An invitation that never reached the patient is replaced on another channel: the
    conversation it opened closes as undelivered, so the copy opens its own (a
    superseded listener: `app.messaging.registry.on_superseded`)."""
    if message.survey_session_id is None:
        return
    db.session.execute(
        update(SurveySession)
        .where(
            SurveySession.id == message.survey_session_id,
            SurveySession.state == SessionState.OPEN,
        )
        .values(state=SessionState.UNDELIVERED, closed_at=now, current_question=None)
    )
