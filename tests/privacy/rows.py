"""Rows for the privacy tests: messages in and out, and survey conversations answered
through the real survey service, so that answers and pseudonymous responses are what
production writes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.clinics.models import Clinic
from app.core.channels import Channel
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import InboundState, MessageState
from app.patients.models import Patient
from app.results import recording
from app.surveys import service as surveys
from app.surveys.models import SessionState, SurveySession

SECRET = recording.pseudonym_secret("privacy-test-secret")


def sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def sent(
    patient: Patient,
    body: str,
    at: datetime,
    *,
    channel: Channel = Channel.SMS,
    provider_sid: str | None = None,
    state: MessageState = MessageState.DELIVERED,
) -> OutboundMessage:
    """A message that went out to the patient (or is still to go, by `state`)."""
    message = OutboundMessage(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind="help",
        channel=channel,
        state=state,
        due_at=at,
        expires_at=at + timedelta(days=1),
        sending_at=at if provider_sid else None,
        provider_sid=provider_sid,
        body=body,
        created_at=at,
        updated_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message


def received(
    clinic: Clinic,
    from_number: str,
    body: str,
    at: datetime,
    *,
    patient: Patient | None = None,
    channel: Channel = Channel.SMS,
    provider_sid: str | None = None,
) -> InboundMessage:
    """A reply to the clinic's number, linked to `patient` if given."""
    message = InboundMessage(
        provider_sid=provider_sid or sid(),
        clinic_id=clinic.id,
        patient_id=patient.id if patient else None,
        channel=channel,
        from_number=from_number,
        to_number=clinic.sender,
        body=body,
        state=InboundState.PROCESSED,
        received_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message


def surveyed(
    clinic: Clinic, patient: Patient, at: datetime, *replies: str, pathway: str | None = None
) -> SurveySession:
    """The patient invited to the Friends and Family Test at `at`, answering `replies`
    by text (the real service reads them); the conversation stays open if they stop."""
    version = surveys.current_version(clinic, "fft", at)
    assert version is not None
    session = SurveySession(
        clinic_id=clinic.id,
        patient_id=patient.id,
        survey_version_id=version.id,
        channel=Channel.SMS,
        locale=patient.locale,
        state=SessionState.OPEN,
        current_question="fft",
        opened_at=at,
        expires_at=at + timedelta(hours=48),
        last_activity_at=at,
    )
    db.session.add(session)
    db.session.flush()
    invitee = recording.Invitee(
        session.id, version.id, "fft", clinic.id, patient.id, pathway, Channel.SMS
    )
    recording.record_invitation(invitee, at, SECRET)
    for reply in replies:
        surveys.answer_text(session.id, reply, at)
    db.session.commit()
    return session


def every_text_in_the_database() -> str:
    """Every value of every row of every table, as one text to search in."""
    db.session.expire_all()
    parts: list[str] = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            parts.extend(repr(value) for value in row)
    return "\n".join(parts)


def fresh(model: Any, row_id: int) -> Any:
    db.session.expire_all()
    found = db.session.get(model, row_id)
    assert found is not None
    return found
