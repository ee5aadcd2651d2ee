"""Erasing one patient, field by field. Nothing here commits: `service.erase_patient`
runs it all in one transaction, and writes the audit event with it.

What happens to each thing WeSaid holds about the patient, and why:

- Patient: the phone number becomes "" (it found them, and matched their replies);
  the given and family names are removed; the external id becomes
  `erased-patient-<id>` (the clinic's own id finds them in its records); birth year,
  sex, ethnic category and deprivation quintile are removed (together they can single a
  person out; each survey invitation keeps the bands it was weighted on); the locale
  becomes the clinic's default (a rare language can single a person out); `erased_at`
  is set, and a second erasure does nothing. The channel and `created_at` are kept:
  they say nothing about who the person is.
- Appointments: the external id becomes `erased-appointment-<id>` (it leads back to
  the person in the clinic's records). Start, pathway, status and times are kept: the
  attendance figures count them, without anyone's identity.
- Messages sent: the body is removed; any not yet sent (or whose fate is unknown and
  has no sid) is cancelled. Sids, states, times and segments are kept: ids and counts,
  and the sid lets the provider's copy be erased.
- Replies: the body and the sender's number are removed, for replies linked to the
  patient and for those sent to their clinic from their number.
- Surveys: open conversations end (`erased`); the text of every reply and every
  free-text value are removed, from the answers and from the pseudonymous response. The
  response keeps its choices under its pseudonym, and the invitation its weighting
  bands: the results weight them, so stored snapshots stay valid.
- Consent events and experiment arms are kept: ids and codes only.
- Twilio: each message's record is deleted, its numbers with its text (Twilio deletes a
  message once it is final), and each call's record, by a job that is tried again until
  Twilio has done it.

The survey rows belong to `app.surveys`, which registers its part at start-up
(`app.patients.forgetting`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, literal, or_, select, update

from app.appointments.models import Appointment
from app.core.channels import Channel
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import OPEN_STATES, MessageState
from app.patients.models import Patient
from app.privacy.models import ErasureKind, ErasureState, ProviderErasure
from app.privacy.rules import erased_reference, is_call_sid, is_message_sid

#: Channels whose copies at the provider are messages (a web link travels by SMS).
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WEB, Channel.WHATSAPP})


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def inbound_of(patient: Patient) -> Any:
    """The condition on inbound messages that are the patient's: linked to them, or
    sent to their clinic from their number (a reply no patient was matched to)."""
    linked = InboundMessage.patient_id == patient.id
    if not patient.phone:
        return linked
    return or_(
        linked,
        and_(
            InboundMessage.clinic_id == patient.clinic_id,
            InboundMessage.from_number == patient.phone,
        ),
    )


def _unsettled(patient_id: int) -> Any:
    """Messages not yet gone: planned or claimed, or whose send has an unknown fate and
    no sid. The reconciler looks for the latter by the patient's number, which erasure
    removes, so they are ended here rather than found (and perhaps sent) later."""
    return and_(
        OutboundMessage.patient_id == patient_id,
        or_(
            OutboundMessage.state.in_(sorted(OPEN_STATES)),
            and_(
                OutboundMessage.state == MessageState.UNKNOWN,
                OutboundMessage.provider_sid.is_(None),
            ),
        ),
    )


def erase_messages(patient: Patient, now: datetime) -> tuple[dict[str, int], list[int]]:
    """End the patient's pending messages, blank every text in and out, and add the
    provider's copies to erase. Returns the counts and the new provider erasure ids."""
    inbound = inbound_of(patient)
    copies = provider_copies(patient.id, inbound)
    ended = db.session.execute(
        update(OutboundMessage)
        .where(_unsettled(patient.id))
        .values(state=MessageState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    sent = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.patient_id == patient.id, OutboundMessage.body.is_not(None))
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    replies = db.session.execute(
        update(InboundMessage)
        .where(inbound, or_(InboundMessage.body.is_not(None), InboundMessage.from_number != ""))
        .values(body=None, from_number="")
        .execution_options(synchronize_session=False)
    )
    erasure_ids = add_provider_erasures(patient.id, patient.clinic_id, copies, now)
    counts = {
        "pending_ended": _rows(ended),
        "messages_blanked": _rows(sent),
        "replies_blanked": _rows(replies),
        "at_provider": len(erasure_ids),
    }
    return counts, erasure_ids


def provider_copies(patient_id: int, inbound: Any) -> list[tuple[Channel, str]]:
    """(channel, sid) of every message and call of the patient the provider may keep."""
    sent = db.session.execute(
        select(OutboundMessage.channel, OutboundMessage.provider_sid).where(
            OutboundMessage.patient_id == patient_id, OutboundMessage.provider_sid.is_not(None)
        )
    ).all()
    received = db.session.execute(
        select(InboundMessage.channel, InboundMessage.provider_sid).where(inbound)
    ).all()
    return [(Channel(channel), sid) for channel, sid in [*sent, *received] if sid]


def _kind(channel: Channel, sid: str) -> ErasureKind | None:
    if channel == Channel.VOICE and is_call_sid(sid):
        return ErasureKind.CALL
    if channel in MESSAGE_CHANNELS and is_message_sid(sid):
        return ErasureKind.MESSAGE
    return None  # a key press on a call: the call itself is erased


def add_provider_erasures(
    patient_id: int, clinic_id: int, copies: Iterable[tuple[Channel, str]], now: datetime
) -> list[int]:
    """A pending provider erasure for each copy not already listed; their ids."""
    wanted = {(sid, kind): channel for channel, sid in copies if (kind := _kind(channel, sid))}
    if not wanted:
        return []
    known = set(
        db.session.execute(
            select(ProviderErasure.provider_sid, ProviderErasure.kind).where(
                ProviderErasure.provider_sid.in_(sorted({sid for sid, _ in wanted}))
            )
        ).all()
    )
    rows = [
        ProviderErasure(
            clinic_id=clinic_id,
            patient_id=patient_id,
            kind=kind,
            channel=channel,
            provider_sid=sid,
            state=ErasureState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for (sid, kind), channel in sorted(wanted.items())
        if (sid, kind) not in known
    ]
    db.session.add_all(rows)
    db.session.flush()
    return [row.id for row in rows]


def pseudonymise_appointments(patient_id: int, now: datetime) -> int:
    """Replace the clinic's ids of the patient's appointments; returns how many."""
    # In SQL, the same text as erased_reference("appointment", id).
    reference = literal("erased-appointment-", String) + cast(Appointment.id, String)
    result = db.session.execute(
        update(Appointment)
        .where(Appointment.patient_id == patient_id)
        .values(external_id=reference, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


def pseudonymise_patient(patient: Patient, default_locale: str, now: datetime) -> None:
    """Blank or replace every identifying field of the patient (see the table above)."""
    patient.external_id = erased_reference("patient", patient.id)
    patient.phone = ""
    patient.given_name = None
    patient.family_name = None
    patient.birth_year = None
    patient.sex = None
    patient.ethnic_category = None
    patient.imd_quintile = None
    patient.locale = default_locale
    patient.erased_at = now
    patient.updated_at = now
