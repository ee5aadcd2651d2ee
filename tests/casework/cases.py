"""Worklist items written as the rest of the app writes them, for casework tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import InboundState, MessageState
from app.patients.consent import record_opt_out
from app.patients.models import ConsentEvent, Patient
from app.surveys import texts
from app.surveys.models import SurveyAnswer, SurveySession
from app.surveys.service import register_definition
from tests.world import World

_sids = count(1)


def flagged_reply(
    clinic: Clinic,
    patient: Patient | None,
    at: datetime,
    *,
    body: str = "what time is it again",
    reason: str = "not_understood",
    from_number: str | None = None,
) -> InboundMessage:
    """A reply the router left for staff (from a patient, or from an unknown number)."""
    row = InboundMessage(
        provider_sid=f"SM{next(_sids):032d}",
        clinic_id=clinic.id,
        patient_id=patient.id if patient else None,
        from_number=from_number or (patient.phone if patient else "+447400999999"),
        to_number=clinic.sender,
        body=body,
        state=InboundState.FLAGGED,
        flag_reason=reason if patient else "unknown_sender",
        received_at=at,
        processed_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def failed_message(
    patient: Patient,
    at: datetime,
    *,
    state: MessageState = MessageState.FAILED,
    error_code: int | None = 21614,
    channel: str = "sms",
    body: str = "Your appointment is on Tuesday",
) -> OutboundMessage:
    row = OutboundMessage(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind="reminder",
        rule="",
        plan_version=1,
        channel=channel,
        state=state,
        due_at=at - timedelta(minutes=5),
        expires_at=at + timedelta(days=1),
        error_code=error_code,
        body=body,
        encoding="GSM-7",
        segments=1,
        created_at=at - timedelta(minutes=5),
        updated_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def opt_out(patient: Patient, at: datetime, source: str = "reply") -> ConsentEvent:
    record_opt_out(patient.id, patient.clinic_id, "all", source, at)
    db.session.commit()
    event = db.session.query(ConsentEvent).order_by(ConsentEvent.id.desc()).first()
    assert event is not None
    return event


def cancelled(world: World, patient: Patient, starts_at: datetime, at: datetime) -> Appointment:
    appointment = world.add(patient, starts_at, AppointmentStatus.CANCELLED_PATIENT)
    appointment.cancelled_at = at
    appointment.cancel_lead_minutes = int((starts_at - at).total_seconds() // 60)
    db.session.commit()
    return appointment


def rebook_request(
    world: World, patient: Patient, starts_at: datetime, at: datetime
) -> Appointment:
    return world.add(patient, starts_at, AppointmentStatus.BOOKED, rebook_requested_at=at)


@dataclass
class Desk:
    """One of every kind of item at the clinic `clinic`, for patient `patient`."""

    patient: Patient
    stranger: InboundMessage
    reply: InboundMessage
    rebook: Appointment
    cancellation: Appointment
    opt_out: ConsentEvent
    failure: OutboundMessage


def every_kind(world: World, clock: FixedClock, clinic: Clinic, external_id: str) -> Desk:
    """A patient of `clinic` with an item of every kind, and a text from a stranger."""
    now = clock.now()
    patient = world.patient(
        clinic, external_id, given_name="Ada", family_name=f"Lovelace-{external_id}"
    )
    other = world.patient(clinic, f"{external_id}-B")
    return Desk(
        patient=patient,
        stranger=flagged_reply(
            clinic,
            None,
            now - timedelta(hours=3),
            body=f"is this the {clinic.name} clinic",
            from_number=f"+4474009{clinic.id:05d}",
        ),
        reply=flagged_reply(
            clinic, patient, now - timedelta(hours=2), body=f"what time is it again {external_id}"
        ),
        rebook=rebook_request(world, patient, now + timedelta(days=5), now - timedelta(hours=1)),
        cancellation=cancelled(world, patient, now + timedelta(hours=30), now - timedelta(hours=1)),
        opt_out=opt_out(other, now - timedelta(minutes=30)),
        failure=failed_message(patient, now - timedelta(minutes=10)),
    )


def survey_session(
    patient: Patient,
    at: datetime,
    answers: dict[str, tuple[str, str | None, str | None]],
    state: str = "completed",
) -> SurveySession:
    """A Friends and Family Test conversation with the patient, with `answers` by
    question id: (status, value, the patient's words)."""
    version = register_definition(texts.FFT, None, at)
    session = SurveySession(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        survey_version_id=version.id,
        channel="sms",
        locale=patient.locale,
        state=state,
        current_question="fft" if state == "open" else None,
        opened_at=at,
        expires_at=at + timedelta(hours=48),
        last_activity_at=at,
    )
    db.session.add(session)
    db.session.flush()
    for question, (status, value, words) in answers.items():
        db.session.add(
            SurveyAnswer(
                session_id=session.id,
                survey_version_id=version.id,
                question_id=question,
                status=status,
                value=value,
                raw_text=words,
                raw_locale=patient.locale,
                channel="sms",
                answered_at=at + timedelta(minutes=5),
            )
        )
    db.session.commit()
    return session
