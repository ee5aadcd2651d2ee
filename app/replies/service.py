"""Routing of each inbound reply, in the order DESIGN.md gives.

1. Opt-out, opt-in and help keywords (every locale's words and English).
2. An open survey question on the same channel takes the answer (or is re-asked once).
3. The reminder menu: 1 confirm, 2 cancel, 3 ask to rebook; with several pending
   appointments the answer must name one ("1A"), and a bare digit gets a menu naming them.
4. Anything else is kept and flagged for staff, attached to no appointment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.appointments import service as appointments
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.sms import measure
from app.extensions import db
from app.messaging import compose
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.queries import overrides_for
from app.messaging.states import InboundState, MessageState
from app.patients.consent import record_opt_in, record_opt_out
from app.patients.models import Patient
from app.replies import parsing
from app.replies.parsing import Intent
from app.surveys import service as surveys

REPLY_LIFETIME = timedelta(hours=12)
MENU_INTENTS = frozenset({Intent.CONFIRM, Intent.CANCEL, Intent.REBOOK})
_ACK_FOR = {Intent.CONFIRM: "confirmed", Intent.CANCEL: "cancelled", Intent.REBOOK: "rebook"}


@dataclass
class _Context:
    inbound: InboundMessage
    clinic: Clinic
    patient: Patient
    patients: list[Patient]
    now: datetime
    clock: Clock
    chain: tuple[str, ...]
    replies: list[OutboundMessage] = field(default_factory=list)


def process_inbound(inbound_id: int, clock: Clock) -> list[int]:
    """Understand and act on one stored reply. Commits.

    Returns the ids of the answers it queued for sending (already claimed). Processing
    a message twice does nothing the second time.
    """
    inbound = db.session.get(InboundMessage, inbound_id, with_for_update=True)
    if inbound is None or inbound.state is not InboundState.RECEIVED:
        db.session.rollback()
        return []
    now = clock.now()
    ctx = _context(inbound, clock)
    if ctx is not None:
        _route(ctx)
    if inbound.state is InboundState.RECEIVED:
        inbound.state = InboundState.PROCESSED
    inbound.processed_at = now
    db.session.commit()
    return [reply.id for reply in ctx.replies] if ctx else []


def _flag(inbound: InboundMessage, reason: str) -> None:
    inbound.state = InboundState.FLAGGED
    inbound.flag_reason = reason


def _context(inbound: InboundMessage, clock: Clock) -> _Context | None:
    now = clock.now()
    clinic = db.session.get(Clinic, inbound.clinic_id) if inbound.clinic_id else None
    if clinic is None:
        _flag(inbound, "unknown_clinic")
        return None
    patients = list(
        db.session.scalars(
            select(Patient)
            .where(Patient.clinic_id == clinic.id, Patient.phone == inbound.from_number)
            .order_by(Patient.id)
        )
    )
    if not patients:
        _flag(inbound, "unknown_sender")
        return None
    patient = patients[0]
    inbound.patient_id = patient.id
    chain = compose.chain_for(patient.locale, clinic.default_locale)
    return _Context(inbound, clinic, patient, patients, now, clock, chain)


def _route(ctx: _Context) -> None:
    body = ctx.inbound.body or ""
    keyword = parsing.parse_keyword(body, ctx.patient.locale)
    if keyword is not None:
        ctx.inbound.intent = keyword.value
        _keyword(ctx, keyword)
        return
    if _survey(ctx, body):
        return
    _menu(ctx, body)


def _survey(ctx: _Context, body: str) -> bool:
    """An open survey question on this channel takes the reply; True if one did."""
    session = surveys.open_session_for(
        [p.id for p in ctx.patients], ctx.clinic.id, ctx.inbound.channel, ctx.now
    )
    if session is None:
        return False
    turn = surveys.answer_text(session.id, body, ctx.now)
    ctx.inbound.intent = "survey_answer" if turn.answer is not None else "survey_reask"
    kind = "survey_thanks" if turn.finished else "survey_question"
    for text in turn.texts:
        composed = compose.Composed(text, session.locale, measure(text))
        _add_reply(ctx, kind, composed, session.appointment_id, survey_session_id=session.id)
    return True


def _keyword(ctx: _Context, keyword: Intent) -> None:
    if keyword is Intent.OPT_OUT:
        changed = [
            record_opt_out(p.id, ctx.clinic.id, "all", "reply", ctx.now, ctx.inbound.id)
            for p in ctx.patients
        ]
        surveys.close_for_opt_out([p.id for p in ctx.patients], ctx.clinic.id, ctx.now)
        if any(changed):  # confirm once; a second STOP gets no answer
            _reply(ctx, "opt_out_ack", compose.OPT_OUT_ACK, clinic=ctx.clinic.name)
    elif keyword is Intent.OPT_IN:
        changed = [
            record_opt_in(p.id, ctx.clinic.id, "all", "reply", ctx.now, ctx.inbound.id)
            for p in ctx.patients
        ]
        if any(changed):
            _reply(ctx, "opt_in_ack", compose.OPT_IN_ACK, clinic=ctx.clinic.name)
    else:
        _reply(ctx, "help", compose.HELP, clinic=ctx.clinic.name)


def _pending(ctx: _Context) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id.in_([p.id for p in ctx.patients]),
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at > ctx.now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def _menu(ctx: _Context, body: str) -> None:
    pending = _pending(ctx)
    lettered = parsing.parse_lettered_menu(body, ctx.patient.locale)
    if lettered is not None:
        parsed, index = lettered
        target = pending[index] if index < len(pending) else None
    else:
        parsed = parsing.parse_menu(body, ctx.patient.locale)
        target = pending[0] if len(pending) == 1 else None
    ctx.inbound.intent = parsed.intent.value
    if parsed.intent not in MENU_INTENTS:
        _flag(ctx.inbound, "not_understood")
        return
    if not pending:
        _flag(ctx.inbound, "no_pending_appointment")
        return
    if target is None:
        _ask_which(ctx, pending)
        return
    _act(ctx, parsed.intent, target)


def _act(ctx: _Context, intent: Intent, appointment: Appointment) -> None:
    ctx.inbound.appointment_id = appointment.id
    date_text, time_text = _when(ctx, appointment)
    if intent is Intent.CONFIRM:
        appointments.confirm_appointment(appointment.id, ctx.clock)
        template = compose.CONFIRMED
    elif intent is Intent.CANCEL:
        appointments.cancel_by_patient(appointment.id, ctx.clock)
        template = compose.CANCELLED
    else:
        appointments.request_rebook(appointment.id, ctx.clock)
        template = compose.REBOOK
    _reply(
        ctx,
        _ACK_FOR[intent],
        template,
        appointment_id=appointment.id,
        clinic=ctx.clinic.name,
        date=date_text,
        time=time_text,
    )


def _ask_which(ctx: _Context, pending: list[Appointment]) -> None:
    items = []
    for index, appointment in enumerate(pending[:26]):
        date_text, time_text = _when(ctx, appointment)
        items.append(f"{chr(ord('A') + index)} {date_text} {time_text}")
    composed = compose.compose_plural(
        compose.WHICH_ONE, len(items), ctx.chain, list=", ".join(items)
    )
    _add_reply(ctx, "which_one", composed, None)


def _when(ctx: _Context, appointment: Appointment) -> tuple[str, str]:
    return compose.format_when(appointment.starts_at, ZoneInfo(ctx.clinic.timezone), ctx.chain[0])


def _reply(
    ctx: _Context, kind: str, template: str, appointment_id: int | None = None, **values: object
) -> None:
    composed = compose.compose(template, ctx.chain, overrides_for(ctx.clinic.id), **values)
    _add_reply(ctx, kind, composed, appointment_id)


def _add_reply(
    ctx: _Context,
    kind: str,
    composed: compose.Composed,
    appointment_id: int | None,
    survey_session_id: int | None = None,
) -> None:
    reply = OutboundMessage(
        survey_session_id=survey_session_id,
        clinic_id=ctx.clinic.id,
        patient_id=ctx.patient.id,
        appointment_id=appointment_id,
        reply_to_id=ctx.inbound.id,
        kind=kind,
        rule="",
        plan_version=1,
        channel=ctx.inbound.channel,
        state=MessageState.CLAIMED,
        due_at=ctx.now,
        claimed_at=ctx.now,
        expires_at=ctx.now + REPLY_LIFETIME,
        locale=composed.locale,
        body=composed.body,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    db.session.add(reply)
    db.session.flush()
    ctx.replies.append(reply)
