"""The demo's bookkeeping: attendance from the simulated patients, and the summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import record_outcomes as record
from app.core.channels import Channel
from app.core.clock import Clock
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import PROVIDER_STATES, MessageState
from app.patients.models import ConsentAction, ConsentEvent, Patient
from app.simulator.population import Behaviour

_SENT = frozenset(PROVIDER_STATES - {MessageState.FAILED, MessageState.UNKNOWN})


def next_due(now: datetime) -> datetime | None:
    """When the next pending message falls due, if any."""
    return db.session.scalar(
        select(func.min(OutboundMessage.due_at)).where(
            OutboundMessage.state == MessageState.PENDING, OutboundMessage.due_at > now
        )
    )


def _delivered_reminder_appointments(ids: list[int]) -> set[int]:
    return set(
        db.session.scalars(
            select(OutboundMessage.appointment_id)
            .distinct()
            .where(
                OutboundMessage.appointment_id.in_(ids),
                OutboundMessage.kind == MessageKind.REMINDER,
                OutboundMessage.state == MessageState.DELIVERED,
            )
        )
    )


#: What the experiment's second wording says and the usual one does not.
COST_MARKER = "£160"


def _told_the_cost(ids: list[int]) -> set[int]:
    """Appointments whose patient received a reminder stating the cost of missing it."""
    return set(
        db.session.scalars(
            select(OutboundMessage.appointment_id)
            .distinct()
            .where(
                OutboundMessage.appointment_id.in_(ids),
                OutboundMessage.kind == MessageKind.REMINDER,
                OutboundMessage.state == MessageState.DELIVERED,
                OutboundMessage.body.contains(COST_MARKER),
            )
        )
    )


def record_outcomes(behaviour: Behaviour, now: datetime, clock: Clock) -> int:
    """Record attended or DNA for every booked appointment that has started. Commits."""
    rows = db.session.execute(
        select(Appointment.id, Appointment.external_id, Appointment.confirmed_at, Patient.phone)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.status == AppointmentStatus.BOOKED, Appointment.starts_at <= now)
        .order_by(Appointment.id)
    ).all()
    if not rows:
        return 0
    reminded = _delivered_reminder_appointments([r.id for r in rows])
    told = _told_the_cost([r.id for r in rows])
    outcomes = []
    for row in rows:
        came = behaviour.attends(
            row.phone,
            reminded=row.id in reminded,
            confirmed=row.confirmed_at is not None,
            rng_key=row.external_id,
            told_the_cost=row.id in told,
        )
        outcomes.append((row.id, AppointmentStatus.ATTENDED if came else AppointmentStatus.DNA))
    record(outcomes, clock)
    db.session.commit()
    return len(rows)


def _count(*where: Any) -> int:
    return int(
        db.session.scalar(select(func.count()).select_from(OutboundMessage).where(*where)) or 0
    )


def _dna_rate(reminded: bool) -> float | None:
    finished = list(
        db.session.execute(
            select(Appointment.id, Appointment.status).where(
                Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.DNA])
            )
        ).all()
    )
    delivered = _delivered_reminder_appointments([a.id for a in finished])
    group = [a for a in finished if (a.id in delivered) == reminded]
    if not group:
        return None
    return round(sum(a.status is AppointmentStatus.DNA for a in group) / len(group), 4)


def _opted_out() -> int:
    latest = (
        select(ConsentEvent.patient_id, func.max(ConsentEvent.id).label("last"))
        .group_by(ConsentEvent.patient_id)
        .subquery()
    )
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(ConsentEvent)
            .join(latest, latest.c.last == ConsentEvent.id)
            .where(ConsentEvent.action == ConsentAction.OPT_OUT)
        )
        or 0
    )


def _appointments(*where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Appointment).where(*where)) or 0)


def summarise(duplicate_sends: int, patients: int) -> dict[str, Any]:
    """The demo's figures, from the database and the simulator's ledger."""
    reminder = OutboundMessage.kind == MessageKind.REMINDER
    return {
        "patients": patients,
        "appointments": _appointments(),
        "reminders_planned": _count(reminder),
        "reminders_sent": _count(reminder, OutboundMessage.state.in_(_SENT)),
        "reminders_delivered": _count(reminder, OutboundMessage.state == MessageState.DELIVERED),
        "reminders_expired": _count(reminder, OutboundMessage.state == MessageState.EXPIRED),
        "reminders_cancelled": _count(reminder, OutboundMessage.state == MessageState.CANCELLED),
        "reminders_suppressed": _count(reminder, OutboundMessage.state == MessageState.SUPPRESSED),
        # Texts only: a key press on a call is stored in the inbox too, and counted
        # among the calls answered.
        "replies": int(
            db.session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.channel != Channel.VOICE)
            )
            or 0
        ),
        "confirmed": _appointments(Appointment.confirmed_at.is_not(None)),
        "cancelled_by_patient": _appointments(
            Appointment.status == AppointmentStatus.CANCELLED_PATIENT
        ),
        "rebook_requests": _appointments(Appointment.rebook_requested_at.is_not(None)),
        "calls_placed": _count(
            OutboundMessage.channel == Channel.VOICE, OutboundMessage.state.in_(_SENT)
        ),
        "calls_answered": _count(
            OutboundMessage.channel == Channel.VOICE,
            OutboundMessage.state == MessageState.DELIVERED,
        ),
        "opted_out": _opted_out(),
        "duplicate_sends": duplicate_sends,
        "attended": _appointments(Appointment.status == AppointmentStatus.ATTENDED),
        "dna": _appointments(Appointment.status == AppointmentStatus.DNA),
        "dna_rate_reminded": _dna_rate(True),
        "dna_rate_not_reminded": _dna_rate(False),
        "segments_sent": int(
            db.session.scalar(
                select(func.coalesce(func.sum(OutboundMessage.segments), 0)).where(
                    OutboundMessage.state.in_(_SENT)
                )
            )
            or 0
        ),
        "messages_per_state": dict(
            sorted(
                (state.value, int(n))
                for state, n in db.session.execute(
                    select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
                ).all()
            )
        ),
    }
