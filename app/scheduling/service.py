"""Planning, moving and cancelling the reminders of an appointment.

The outbox rows written here are the record of what should go out; the clock's sweep
sends them. Only rows still open (pending or claimed) are ever rewritten: nothing
already handed to the provider is touched.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import OPEN_STATES, MessageState
from app.patients.models import Patient
from app.scheduling import rules

REMINDER = "reminder"


def policy_for(clinic: Clinic) -> rules.ReminderPolicy:
    """The clinic's reminder settings as a pure policy."""
    return rules.ReminderPolicy(
        rules=tuple(_rule(r) for r in clinic.reminder_rules),
        quiet_hours=rules.QuietHours(clinic.quiet_start, clinic.quiet_end),
        expiry_margin=timedelta(minutes=clinic.expiry_margin_minutes),
    )


def _rule(data: dict[str, Any]) -> rules.ReminderRule:
    delivery = data.get("delivery")
    return rules.ReminderRule(
        offset=timedelta(minutes=int(data["offset_minutes"])),
        delivery_hour=time.fromisoformat(delivery) if delivery else None,
        name=str(data["name"]),
    )


def reminder_channel(preference: str | None) -> str:
    """The channel a reminder goes by: the patient's, except that a web-form patient is
    reminded by SMS (the reply menu needs a text channel)."""
    return preference if preference in ("sms", "whatsapp", "voice") else "sms"


def plan_appointment_reminders(appointment: Appointment, clinic: Clinic, clock: Clock) -> int:
    """Write outbox rows for the appointment's current plan version; returns how many.

    Does not commit. Planning the same version twice writes nothing new.
    """
    if appointment.status is not AppointmentStatus.BOOKED:
        return 0
    existing = set(
        db.session.scalars(
            select(OutboundMessage.rule).where(
                OutboundMessage.appointment_id == appointment.id,
                OutboundMessage.kind == REMINDER,
                OutboundMessage.plan_version == appointment.plan_version,
            )
        )
    )
    now = clock.now()
    planned = rules.plan_reminders(
        appointment.starts_at, ZoneInfo(clinic.timezone), now, policy_for(clinic)
    )
    fresh = [p for p in planned if p.rule not in existing]
    channel = reminder_channel(
        db.session.scalar(
            select(Patient.channel_preference).where(Patient.id == appointment.patient_id)
        )
    )
    for send in fresh:
        db.session.add(
            OutboundMessage(
                clinic_id=clinic.id,
                patient_id=appointment.patient_id,
                appointment_id=appointment.id,
                kind=REMINDER,
                rule=send.rule,
                plan_version=appointment.plan_version,
                channel=channel,
                state=MessageState.PENDING,
                due_at=send.due_at,
                expires_at=send.expires_at,
                created_at=now,
                updated_at=now,
            )
        )
    return len(fresh)


def cancel_open_reminders(appointment_id: int, now: datetime) -> int:
    """Cancel the appointment's reminders not yet handed to a sender. Does not commit."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.appointment_id == appointment_id,
            OutboundMessage.kind == REMINDER,
            OutboundMessage.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_survey_invitations(appointment_id: int, now: datetime) -> int:
    """Withdraw the appointment's unsent survey invitation. Does not commit."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.appointment_id == appointment_id,
            OutboundMessage.kind == "survey_invite",
            OutboundMessage.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def move_appointment(
    appointment: Appointment, clinic: Clinic, starts_at: datetime, clock: Clock
) -> int:
    """Move an appointment: bump its plan version, cancel its open reminders, plan anew.

    Does not commit. Returns the number of reminders planned for the new time.
    """
    now = clock.now()
    cancel_open_reminders(appointment.id, now)
    appointment.starts_at = starts_at
    appointment.plan_version += 1
    appointment.updated_at = now
    db.session.flush()
    return plan_appointment_reminders(appointment, clinic, clock)
