"""Planning, moving and withdrawing the reminders of appointments.

The outbox rows written here (through `app.messaging.outbox`) are the record of what
should go out; the clock's sweep sends them. Only rows still open (pending or claimed)
are ever withdrawn: nothing already handed to the provider is touched. The functions
that take a list of appointments are appointment-event handlers (`app.wiring`
registers them). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.channels import TEXT_CHANNELS, Channel
from app.core.clock import Clock
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.outbox import plan_message, withdraw_open
from app.patients.models import Patient
from app.scheduling import rules


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


def reminder_channel(preference: str | None) -> Channel:
    """The channel a reminder goes by: the patient's, except that a web-form patient is
    reminded by SMS (the reply menu needs a text channel, or a call)."""
    if preference is None:
        return Channel.SMS
    channel = Channel(preference)
    return channel if channel in TEXT_CHANNELS or channel is Channel.VOICE else Channel.SMS


def plan_reminders(appointments: Sequence[Appointment], clinic: Clinic, clock: Clock) -> None:
    """Booked: write outbox rows for each booked appointment's current plan version.
    Planning the same version twice writes nothing new. What that takes is read for all
    the appointments at once, and the rows are flushed together."""
    booked = [a for a in appointments if a.status is AppointmentStatus.BOOKED]
    if not booked:
        return
    existing = {
        tuple(row)
        for row in db.session.execute(
            select(
                OutboundMessage.appointment_id, OutboundMessage.plan_version, OutboundMessage.rule
            ).where(
                OutboundMessage.appointment_id.in_([a.id for a in booked]),
                OutboundMessage.kind == MessageKind.REMINDER,
            )
        )
    }
    preferences: dict[int, str | None] = dict(
        db.session.execute(
            select(Patient.id, Patient.channel_preference).where(
                Patient.id.in_({a.patient_id for a in booked})
            )
        ).all()
    )
    now = clock.now()
    zone, policy = ZoneInfo(clinic.timezone), policy_for(clinic)
    for appointment in booked:
        channel = reminder_channel(preferences.get(appointment.patient_id))
        for send in rules.plan_reminders(appointment.starts_at, zone, now, policy):
            if (appointment.id, appointment.plan_version, send.rule) in existing:
                continue
            plan_message(
                clinic_id=clinic.id,
                patient_id=appointment.patient_id,
                appointment_id=appointment.id,
                kind=MessageKind.REMINDER,
                channel=channel,
                due_at=send.due_at,
                expires_at=send.expires_at,
                now=now,
                rule=send.rule,
                plan_version=appointment.plan_version,
                flush=False,
            )
    db.session.flush()


def replan_reminders(appointments: Sequence[Appointment], clinic: Clinic, clock: Clock) -> None:
    """Moved: withdraw the reminders of the old time, plan those of the new one."""
    withdraw_open([a.id for a in appointments], [MessageKind.REMINDER], clock.now())
    plan_reminders(appointments, clinic, clock)


def withdraw_reminders(appointments: Sequence[Appointment], _clinic: Clinic, clock: Clock) -> None:
    """Cancelled, attended or missed: withdraw the reminders not yet sent."""
    withdraw_open([a.id for a in appointments], [MessageKind.REMINDER], clock.now())
