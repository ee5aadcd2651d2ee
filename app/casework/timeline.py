"""A patient's timeline: their details, appointments with their reminders, every message in
and out, survey conversations with their answers, and the consent ledger.

The caller has already fetched the patient through the staff member's scope (so another
clinic's patient is never read here); the `Disclosure` decides what personal data the
timeline carries: names, the number, message texts, survey answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.casework.items import Disclosure
from app.clinics.models import Clinic, StaffUser
from app.core.channels import Channel
from app.core.sms import measure
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import InboundMessage, OutboundMessage
from app.patients.consent import ALL_CHANNELS
from app.patients.models import ConsentAction, ConsentEvent, Patient
from app.patients.service import STAFF_SOURCE_PREFIX
from app.surveys.definitions import DefinitionError, SurveyDefinition, parse_definition
from app.surveys.flow import AnswerStatus
from app.surveys.models import SessionState, SurveyAnswer, SurveySession, SurveyVersion

#: Messages listed on one timeline, the latest kept when there are more.
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class PatientDetails:
    id: int
    clinic_id: int
    clinic_name: str
    organisation_id: int
    timezone: str
    external_id: str
    name: str | None
    phone: str | None
    locale: str
    channel: str
    #: The channels (or "all") the patient has opted out of, as the ledger stands.
    opted_out: tuple[str, ...]


@dataclass(frozen=True)
class ReminderLine:
    id: int
    rule: str
    channel: str
    state: str
    due_at: datetime
    delivered_at: datetime | None
    error_code: int | None
    #: Sent again on another channel after this one failed.
    is_fallback: bool


@dataclass(frozen=True)
class AppointmentLine:
    id: int
    external_id: str
    starts_at: datetime
    pathway: str | None
    status: AppointmentStatus
    confirmed_at: datetime | None
    rebook_requested_at: datetime | None
    cancelled_at: datetime | None
    reminders: list[ReminderLine]


@dataclass(frozen=True)
class MessageLine:
    """One message in or out; `text` only where the viewer may read messages."""

    id: int
    incoming: bool
    at: datetime
    channel: str
    #: Out: the message kind. In: what the reply was understood as, if anything.
    kind: str | None
    #: Out: a MessageState. In: an InboundState.
    state: str
    encoding: str | None
    segments: int | None
    error_code: int | None
    flag_reason: str | None
    text: str | None


@dataclass(frozen=True)
class AnswerLine:
    question: str
    status: AnswerStatus
    #: The answer as the survey words it (an option's label), or as given.
    value: str | None
    #: The patient's own words, as sent.
    words: str | None
    answered_at: datetime


@dataclass(frozen=True)
class SurveyLine:
    id: int
    title: str
    version: int
    channel: str
    state: SessionState
    opened_at: datetime
    closed_at: datetime | None
    #: When the invitation went (or is due), if one was sent by message.
    invited_at: datetime | None
    answers: list[AnswerLine]


@dataclass(frozen=True)
class ConsentLine:
    id: int
    at: datetime
    action: ConsentAction
    channel: str
    #: "reply", "provider", "import", or "staff" with the staff member below.
    source: str
    staff_user_id: int | None
    staff_name: str | None


@dataclass(frozen=True)
class Timeline:
    patient: PatientDetails
    appointments: list[AppointmentLine]
    messages: list[MessageLine]
    #: None when the viewer may not see survey answers in this clinic.
    surveys: list[SurveyLine] | None
    consent: list[ConsentLine]
    #: What personal data the page shows (for the audit log).
    shows_name: bool
    shows_phone: bool
    shows_messages: bool


def patient_timeline(patient: Patient, shown: Disclosure) -> Timeline:
    """Everything recorded about `patient` (fetched through the viewer's scope), with
    what `shown` allows of their personal data."""
    clinic = db.session.get(Clinic, patient.clinic_id)
    assert clinic is not None
    may_read = patient.clinic_id in shown.messages
    consent = _consent(patient.id)
    details = PatientDetails(
        id=patient.id,
        clinic_id=clinic.id,
        clinic_name=clinic.name,
        organisation_id=clinic.organisation_id,
        timezone=clinic.timezone,
        external_id=patient.external_id,
        name=shown.name(patient),
        phone=shown.phone(clinic.id, patient.phone),
        locale=patient.locale,
        channel=patient.channel_preference,
        opted_out=_opted_out(consent),
    )
    surveys = _surveys(patient.id) if patient.clinic_id in shown.answers else None
    return Timeline(
        patient=details,
        appointments=_appointments(patient.id),
        messages=_messages(patient.id, may_read),
        surveys=surveys,
        consent=consent,
        shows_name=details.name is not None,
        shows_phone=details.phone is not None,
        shows_messages=may_read,
    )


def _appointments(patient_id: int) -> list[AppointmentLine]:
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.patient_id == patient_id)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    reminders: dict[int, list[ReminderLine]] = {}
    rows = db.session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.patient_id == patient_id,
            OutboundMessage.kind == MessageKind.REMINDER,
        )
        .order_by(OutboundMessage.due_at, OutboundMessage.id)
    )
    for row in rows:
        if row.appointment_id is not None:
            reminders.setdefault(row.appointment_id, []).append(_reminder(row))
    return [
        AppointmentLine(
            id=a.id,
            external_id=a.external_id,
            starts_at=a.starts_at,
            pathway=a.pathway,
            status=a.status,
            confirmed_at=a.confirmed_at,
            rebook_requested_at=a.rebook_requested_at,
            cancelled_at=a.cancelled_at,
            reminders=reminders.get(a.id, []),
        )
        for a in appointments
    ]


def _reminder(row: OutboundMessage) -> ReminderLine:
    return ReminderLine(
        id=row.id,
        rule=row.rule,
        channel=row.channel,
        state=row.state,
        due_at=row.due_at,
        delivered_at=row.delivered_at,
        error_code=row.error_code,
        is_fallback=row.fallback_for_id is not None,
    )


def _messages(patient_id: int, may_read: bool) -> list[MessageLine]:
    outgoing = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.patient_id == patient_id)
    )
    incoming = db.session.scalars(
        select(InboundMessage).where(InboundMessage.patient_id == patient_id)
    )
    lines = [_outgoing(m, may_read) for m in outgoing] + [_incoming(m, may_read) for m in incoming]
    lines.sort(key=lambda line: (line.at, line.incoming, line.id))
    return lines[-MESSAGE_LIMIT:]


def _outgoing(message: OutboundMessage, may_read: bool) -> MessageLine:
    # When it went, or was last meant to: a message not yet sent sits at its due time.
    at = message.accepted_at or message.sending_at or message.due_at
    return MessageLine(
        id=message.id,
        incoming=False,
        at=at,
        channel=message.channel,
        kind=message.kind,
        state=message.state,
        encoding=message.encoding,
        segments=message.segments,
        error_code=message.error_code,
        flag_reason=None,
        text=message.body if may_read else None,
    )


def _incoming(message: InboundMessage, may_read: bool) -> MessageLine:
    # A reply's cost is not stored; it is measured from its text (not for a key press).
    measured = measure(message.body) if message.body and message.channel != Channel.VOICE else None
    return MessageLine(
        id=message.id,
        incoming=True,
        at=message.received_at,
        channel=message.channel,
        kind=message.intent,
        state=message.state,
        encoding=measured.encoding if measured else None,
        segments=measured.segments if measured else None,
        error_code=None,
        flag_reason=message.flag_reason,
        text=message.body if may_read else None,
    )


def _surveys(patient_id: int) -> list[SurveyLine]:
    sessions = list(
        db.session.execute(
            select(SurveySession, SurveyVersion)
            .join(SurveyVersion, SurveyVersion.id == SurveySession.survey_version_id)
            .where(SurveySession.patient_id == patient_id)
            .order_by(SurveySession.opened_at, SurveySession.id)
        )
    )
    ids = [session.id for session, _version in sessions]
    answers: dict[int, list[SurveyAnswer]] = {}
    invited: dict[int, datetime] = {}
    if ids:
        for answer in db.session.scalars(
            select(SurveyAnswer)
            .where(SurveyAnswer.session_id.in_(ids))
            .order_by(SurveyAnswer.answered_at, SurveyAnswer.id)
        ):
            answers.setdefault(answer.session_id, []).append(answer)
        for session_id, due_at in db.session.execute(
            select(OutboundMessage.survey_session_id, OutboundMessage.due_at).where(
                OutboundMessage.survey_session_id.in_(ids),
                OutboundMessage.kind == MessageKind.SURVEY_INVITE,
            )
        ):
            if session_id is not None:
                invited.setdefault(session_id, due_at)
    return [
        _survey(session, version, answers.get(session.id, []), invited.get(session.id))
        for session, version in sessions
    ]


def _survey(
    session: SurveySession,
    version: SurveyVersion,
    answers: Sequence[SurveyAnswer],
    invited_at: datetime | None,
) -> SurveyLine:
    definition = _definition(version.definition)
    return SurveyLine(
        id=session.id,
        title=definition.title.english if definition else version.slug,
        version=version.version,
        channel=session.channel,
        state=session.state,
        opened_at=session.opened_at,
        closed_at=session.closed_at,
        invited_at=invited_at,
        answers=[_answer(answer, definition) for answer in answers],
    )


def _definition(raw: dict[str, Any]) -> SurveyDefinition | None:
    try:
        return parse_definition(raw)
    except DefinitionError:  # stored versions were checked when loaded; show ids if not
        return None


def _answer(answer: SurveyAnswer, definition: SurveyDefinition | None) -> AnswerLine:
    question, value = answer.question_id, answer.value
    if definition is not None:
        try:
            asked = definition.question(answer.question_id)
        except KeyError:
            asked = None
        if asked is not None:
            question = asked.text.english
            option = asked.option(value) if value is not None else None
            value = option.label.english if option is not None else value
    return AnswerLine(question, answer.status, value, answer.raw_text, answer.answered_at)


def _consent(patient_id: int) -> list[ConsentLine]:
    events = list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.patient_id == patient_id)
            .order_by(ConsentEvent.created_at, ConsentEvent.id)
        )
    )
    staff_ids = {i for i in (_staff_id(e.source) for e in events) if i is not None}
    names: dict[int, str] = {}
    if staff_ids:
        for user in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids))):
            names[user.id] = user.display_name
    lines = []
    for event in events:
        staff_id = _staff_id(event.source)
        lines.append(
            ConsentLine(
                id=event.id,
                at=event.created_at,
                action=event.action,
                channel=event.channel,
                source="staff" if staff_id is not None else event.source,
                staff_user_id=staff_id,
                staff_name=names.get(staff_id) if staff_id is not None else None,
            )
        )
    return lines


def _staff_id(source: str) -> int | None:
    if not source.startswith(STAFF_SOURCE_PREFIX):
        return None
    digits = source[len(STAFF_SOURCE_PREFIX) :]
    return int(digits) if digits.isdigit() else None


def _opted_out(consent: Sequence[ConsentLine]) -> tuple[str, ...]:
    """The channels on which the ledger stands at an opt-out, as `consent.latest_action`
    reads it (an "all" event counts for every channel); ("all",) for every one."""
    opted = []
    for channel in Channel:
        latest = None
        for line in consent:  # oldest first: the last one in force wins
            if line.channel in (channel.value, ALL_CHANNELS):
                latest = line.action
        if latest is ConsentAction.OPT_OUT:
            opted.append(channel.value)
    return (ALL_CHANNELS,) if len(opted) == len(Channel) else tuple(opted)
