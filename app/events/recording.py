"""Recording events, in the transaction of what caused them (never commits).

Each function here is called where the thing happened, before that transaction
commits: a reply's appointment change (`app.replies`), an opt-out (the consent
ledger's listener), a message that could not reach the patient (the messaging
listener), a new survey response (`app.surveys`). An event is stored only when some
target wants it, with one outbox row per target (`Delivery`), so the event and its
deliveries are written, or lost, together with their cause.

What an event says about a patient is the clinic system's own identifiers: external
ids, never a name, a phone number or a message text. A survey response's event says
which survey, which clinic and when, and nothing that could tie it to a patient: the
responses are pseudonymous.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.appointments.models import Appointment
from app.events.models import (
    Delivery,
    DeliveryState,
    Event,
    EventType,
    FhirEndpoint,
    Subscription,
    Target,
)
from app.events.payloads import WRITTEN_BACK
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.patients.models import Patient

STAFF_PREFIX = "staff"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def live_subscriptions(clinic_id: int, type_: EventType) -> list[Subscription]:
    """The clinic's unrevoked subscriptions to `type_`, oldest first."""
    found = db.session.scalars(
        select(Subscription)
        .where(Subscription.clinic_id == clinic_id, Subscription.revoked_at.is_(None))
        .order_by(Subscription.id)
    )
    return [s for s in found if type_.value in s.event_types]


def record_event(
    clinic_id: int,
    type_: EventType,
    occurred_at: datetime,
    data: dict[str, Any],
    patient_id: int | None = None,
) -> Event | None:
    """Store the event and one pending delivery per target that wants it; None (and
    nothing written) when no target does. `patient_id` (kept, never sent) lets erasure
    find the event. Does not commit."""
    subscriptions = live_subscriptions(clinic_id, type_)
    fhir = db.session.get(FhirEndpoint, clinic_id) if type_ in WRITTEN_BACK else None
    if not subscriptions and fhir is None:
        return None
    event = Event(
        public_id=new_event_id(),
        clinic_id=clinic_id,
        type=type_,
        occurred_at=occurred_at,
        data=data,
        patient_id=patient_id,
    )
    db.session.add(event)
    db.session.flush()
    targets: list[tuple[Target, int | None]] = [(Target.WEBHOOK, s.id) for s in subscriptions]
    if fhir is not None:
        targets.append((Target.FHIR, None))
    for target, subscription_id in targets:
        db.session.add(
            Delivery(
                event_id=event.id,
                clinic_id=clinic_id,
                target=target,
                subscription_id=subscription_id,
                state=DeliveryState.PENDING,
                attempts=0,
                due_at=occurred_at,
                created_at=occurred_at,
                updated_at=occurred_at,
            )
        )
    db.session.flush()
    return event


def _patient_ref(patient_id: int) -> dict[str, str] | None:
    external_id = db.session.scalar(select(Patient.external_id).where(Patient.id == patient_id))
    return {"external_id": external_id} if external_id is not None else None


def _appointment_ref(appointment: Appointment) -> dict[str, str]:
    return {
        "external_id": appointment.external_id,
        "starts_at": appointment.starts_at.isoformat().replace("+00:00", "Z"),
    }


def appointment_answered(
    appointment: Appointment, type_: EventType, channel: str, now: datetime
) -> Event | None:
    """The patient confirmed, cancelled or asked to rebook `appointment` by reply (a
    text, a WhatsApp message or a key press on a call). Does not commit."""
    data = {
        "appointment": _appointment_ref(appointment),
        "patient": _patient_ref(appointment.patient_id),
        "channel": channel,
    }
    return record_event(appointment.clinic_id, type_, now, data, appointment.patient_id)


def patient_opted_out(
    patient_id: int, clinic_id: int, channel: str, source: str, now: datetime
) -> Event | None:
    """The patient opted out of the clinic's messages (`channel`: "all" or one). The
    source is "reply", "provider" or "staff" (which member of staff is in the audit
    log, not here). Does not commit."""
    data = {
        "patient": _patient_ref(patient_id),
        "channel": channel,
        "source": STAFF_PREFIX if source.startswith(STAFF_PREFIX) else source,
    }
    return record_event(clinic_id, EventType.PATIENT_OPTED_OUT, now, data, patient_id)


def message_failed(message_id: int, now: datetime) -> Event | None:
    """A message could not reach the patient and no other channel will try. Its kind,
    channel and the provider's error code go out, never its text. Does not commit."""
    # The state and error code were just written by a conditional UPDATE: read afresh.
    message = db.session.get(OutboundMessage, message_id, populate_existing=True)
    if message is None:
        return None
    appointment = (
        db.session.get(Appointment, message.appointment_id) if message.appointment_id else None
    )
    data = {
        "message": {
            "id": message.id,
            "kind": str(message.kind),
            "channel": str(message.channel),
            "state": str(message.state),
            "error_code": message.error_code,
        },
        "patient": _patient_ref(message.patient_id),
        "appointment": _appointment_ref(appointment) if appointment is not None else None,
    }
    return record_event(message.clinic_id, EventType.MESSAGE_FAILED, now, data, message.patient_id)


def survey_response_recorded(clinic_id: int, survey: str, now: datetime) -> Event | None:
    """A new survey response: which survey, at which clinic, when. Nothing else: no
    answer, no patient, no appointment. Does not commit."""
    return record_event(clinic_id, EventType.SURVEY_RESPONSE_RECORDED, now, {"survey": survey})
