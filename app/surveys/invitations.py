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

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
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
from app.messaging.compose import Overrides
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.outbox import plan_message, withdraw_open
from app.messaging.registry import ComposeContext, Draft, Outgoing, Withheld
from app.messaging.speaker import speaker_for
from app.messaging.states import MessageState
from app.messaging.templates import overrides_for
from app.patients.models import ConsentAction, Patient
from app.patients.queries import consent_in_force
from app.results.recording import Invitee, pseudonym_secret, record_invitation
from app.scheduling.rules import QuietHours, plan_survey
from app.surveys import flow, speech, texts
from app.surveys.links import link_signer
from app.surveys.models import SessionState, SurveySession, SurveyVersion
from app.surveys.service import current_version, definition_of

# -- invitations -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    message_id: int | None
    #: Why no invitation was planned: "no_survey", "suppressed_pathway", "opted_out",
    #: "recently_asked", "already_planned", "too_late"; "" when one was.
    reason: str = ""


def plan_invitation(appointment_id: int, clock: Clock) -> PlanResult:
    """Plan the survey invitation for an attended appointment. Does not commit."""
    return plan_invitations([appointment_id], clock)[0]


@dataclass
class _Asked:
    """Who a batch of attended appointments' clinics have invited: the latest
    conversation opened (and not undelivered) and the invitations on their way, by
    patient and clinic, and the appointments that have an invitation already."""

    opened: dict[tuple[int, int], datetime]
    on_the_way: set[tuple[int, int]]
    appointments: set[int]

    def recently(self, patient_id: int, clinic_id: int, since: datetime) -> bool:
        opened = self.opened.get((patient_id, clinic_id))
        return (opened is not None and opened >= since) or (
            (patient_id, clinic_id) in self.on_the_way
        )


def _latest_opened(patient_ids: Collection[int]) -> dict[tuple[int, int], datetime]:
    """When each patient's latest conversation that reached them (not undelivered) was
    opened, by patient and clinic, for the patients that have one."""
    opened = db.session.execute(
        select(SurveySession.patient_id, SurveySession.clinic_id, func.max(SurveySession.opened_at))
        .where(
            SurveySession.patient_id.in_(patient_ids),
            SurveySession.state != SessionState.UNDELIVERED,
        )
        .group_by(SurveySession.patient_id, SurveySession.clinic_id)
    )
    return {(patient, clinic): at for patient, clinic, at in opened if at is not None}


def _asked(appointment_ids: list[int], patient_ids: set[int]) -> _Asked:
    on_the_way = db.session.execute(
        select(OutboundMessage.patient_id, OutboundMessage.clinic_id)
        .distinct()
        .where(
            OutboundMessage.patient_id.in_(patient_ids),
            OutboundMessage.kind == MessageKind.SURVEY_INVITE,
            OutboundMessage.state.in_([MessageState.PENDING, MessageState.CLAIMED]),
        )
    )
    planned = db.session.scalars(
        select(OutboundMessage.appointment_id).where(
            OutboundMessage.appointment_id.in_(appointment_ids),
            OutboundMessage.kind == MessageKind.SURVEY_INVITE,
        )
    )
    return _Asked(
        _latest_opened(patient_ids),
        {(patient, clinic) for patient, clinic in on_the_way},
        {appointment_id for appointment_id in planned if appointment_id is not None},
    )


def plan_invitations(appointment_ids: Sequence[int], clock: Clock) -> list[PlanResult]:
    """Plan the survey invitations of attended appointments, each in turn as if alone
    (a patient's second visit of the batch is asked recently: the first one's
    invitation is on its way), reading what the checks need for all of them in a few
    queries. Raises NotFound or Invalid, before it plans any, if one was not attended.
    Does not commit."""
    ids = list(appointment_ids)
    found = {
        a.id: a for a in db.session.scalars(select(Appointment).where(Appointment.id.in_(ids)))
    }
    for appointment_id in ids:
        appointment = found.get(appointment_id)
        if appointment is None:
            raise NotFound(f"appointment {appointment_id} not found")
        if appointment.status is not AppointmentStatus.ATTENDED:
            raise Invalid("only an attended appointment is surveyed")
    appointments = [found[appointment_id] for appointment_id in ids]
    clinics = {
        c.id: c
        for c in db.session.scalars(
            select(Clinic).where(Clinic.id.in_({a.clinic_id for a in appointments}))
        )
    }
    patients = {
        p.id: p
        for p in db.session.scalars(
            select(Patient).where(Patient.id.in_({a.patient_id for a in appointments}))
        )
    }
    consent = {
        clinic_id: consent_in_force(
            clinic_id,
            [a.patient_id for a in appointments if a.clinic_id == clinic_id],
            list(Channel),
        )
        for clinic_id in clinics
    }
    asked = _asked(ids, set(patients))
    now = clock.now()
    results = []
    for appointment in appointments:
        clinic, patient = clinics[appointment.clinic_id], patients[appointment.patient_id]
        channel = Channel(patient.channel_preference or Channel.SMS)
        in_force = consent[clinic.id][patient.id][channel]
        since = now - timedelta(days=clinic.survey_interval_days)
        if not clinic.survey_slug:
            results.append(PlanResult(None, "no_survey"))
        elif appointment.pathway and appointment.pathway in (
            clinic.survey_suppressed_pathways or []
        ):
            results.append(PlanResult(None, "suppressed_pathway"))
        elif in_force is not None and in_force[0] is ConsentAction.OPT_OUT:
            results.append(PlanResult(None, "opted_out"))
        elif appointment.id in asked.appointments:
            results.append(PlanResult(None, "already_planned"))
        elif asked.recently(patient.id, clinic.id, since):
            results.append(PlanResult(None, "recently_asked"))
        else:
            results.append(_plan(appointment, clinic, patient.id, channel, now))
            if results[-1].message_id is not None:
                asked.on_the_way.add((patient.id, clinic.id))
                asked.appointments.add(appointment.id)
    return results


def _plan(
    appointment: Appointment, clinic: Clinic, patient_id: int, channel: Channel, now: datetime
) -> PlanResult:
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
        patient_id=patient_id,
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


#: The key `prefetch_invitations` fills in `ComposeContext.batch`.
_AHEAD = "surveys.invitations"


@dataclass
class _Ahead:
    """What `prefetch_invitations` read for a batch of invitations. Holding the rows
    keeps them in the session, where `db.session.get` finds them without a query."""

    rows: list[Any]
    #: The latest conversation opened (and not undelivered) by patient and clinic, for
    #: every patient of the batch that has one.
    opened: dict[tuple[int, int], datetime]
    patients: frozenset[int]
    #: Each clinic's own wording.
    overrides: dict[int, Overrides]
    versions: dict[tuple[int, str], SurveyVersion | None] = field(default_factory=dict)


def prefetch_invitations(messages: Sequence[Outgoing], context: ComposeContext) -> None:
    """Read for a batch of invitations, in a few queries, what each would read: its row,
    its clinic and the clinic's wording, its patient and appointment, and each
    patient's latest conversation."""
    ids = [m.message_id for m in messages]
    patients = {m.patient_id for m in messages}
    clinics = {m.clinic_id for m in messages}
    rows: list[Any] = list(
        db.session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids)))
    )
    appointments = {row.appointment_id for row in rows if row.appointment_id is not None}
    for model, wanted in (
        (Clinic, clinics),
        (Patient, patients),
        (Appointment, appointments),
    ):
        rows += db.session.scalars(select(model).where(model.id.in_(wanted)))
    context.batch[_AHEAD] = _Ahead(
        rows,
        _latest_opened(patients),
        frozenset(patients),
        {clinic_id: overrides_for(clinic_id) for clinic_id in clinics},
    )


def compose_invitation(message: Outgoing, context: ComposeContext) -> Draft:
    """The invitation of `message`, composed as it goes: the survey's composer.

    Opens the conversation, and writes its invitation row in the results store. Checks
    the interval again (another invitation may have reached the patient since this one
    was planned), and withholds (suppressed) the invitation then, or when the clinic no
    longer has a survey. By text the body is the invitation and the first question; on
    the web channel it is the invitation with a signed link; for a call it is only a
    record (the call asks the questions). A retry of an invitation whose conversation
    is open already sends the same body again. Reads what `prefetch_invitations` read
    for the batch where it can.
    """
    now = context.now
    ahead: _Ahead | None = context.batch.get(_AHEAD)
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
    if row.fallback_for_id is None and _opened_since(patient.id, clinic.id, since, ahead):
        raise Withheld(MessageState.SUPPRESSED)
    version = _version(clinic, now, ahead)
    if version is None:
        raise Withheld(MessageState.SUPPRESSED)
    definition = definition_of(version)
    overrides = ahead.overrides.get(clinic.id) if ahead is not None else None
    speaker = speaker_for(patient, clinic, overrides=overrides)
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
    if ahead is not None:  # the next invitation of the batch to this patient sees it
        ahead.opened[(patient.id, clinic.id)] = now
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


def _opened_since(patient_id: int, clinic_id: int, since: datetime, ahead: _Ahead | None) -> bool:
    if ahead is not None and patient_id in ahead.patients:
        latest = ahead.opened
    else:
        latest = _latest_opened([patient_id])
    opened = latest.get((patient_id, clinic_id))
    return opened is not None and opened >= since


def _version(clinic: Clinic, now: datetime, ahead: _Ahead | None) -> SurveyVersion | None:
    slug = clinic.survey_slug or texts.FFT["slug"]
    if ahead is None:
        return current_version(clinic, slug, now)
    if (clinic.id, slug) not in ahead.versions:
        ahead.versions[(clinic.id, slug)] = current_version(clinic, slug, now)
    return ahead.versions[(clinic.id, slug)]


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
