"""Replies to reminders: opt-out, opt-in and help keywords, and the reminder menu.

Both are reply handlers (`app.messaging.registry`), offered each stored reply in the
order `app.wiring` sets:

1. `take_keyword`: opt-out, opt-in and help words, in every locale and in English;
2. (a survey's open question, `app.surveys`);
3. `take_menu_choice`: 1 confirm, 2 cancel, 3 ask to rebook. With several pending
   appointments the answer must name one ("1A"), and a bare digit gets a menu naming
   them. A key press on a reminder call names its appointment already.

What a reply does to an appointment goes through the appointment service, so that what
follows (reminders withdrawn, a slot to refill) is the same however the patient answered.
A reply that changed the appointment (a first confirmation, a cancellation, a first
request to rebook) is also an event for the clinic's own systems (`app.events`).
"""

from __future__ import annotations

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.core.channels import Channel
from app.core.errors import Invalid, NotFound
from app.core.parsing import Intent, parse_keyword, parse_lettered_menu, parse_menu
from app.events.recording import appointment_answered
from app.extensions import db
from app.messaging import compose
from app.messaging.inbox import Conversation
from app.messaging.kinds import MessageKind
from app.patients.consent import record_opt_in, record_opt_out
from app.replies import texts
from app.replies.menu import MENU


def take_keyword(conversation: Conversation) -> bool:
    """STOP (and every locale's opt-out words), START and HELP. An opt-out or opt-in is
    confirmed once: a second STOP gets no answer."""
    keyword = parse_keyword(conversation.body, conversation.patient.locale)
    if keyword is None:
        return False
    conversation.inbound.intent = keyword.value
    clinic, now, inbound_id = conversation.clinic, conversation.now, conversation.inbound.id
    if keyword is Intent.OPT_OUT:
        changed = [
            record_opt_out(p.id, clinic.id, "all", "reply", now, inbound_id)
            for p in conversation.patients
        ]
        if any(changed):
            conversation.answer(MessageKind.OPT_OUT_ACK, texts.OPT_OUT_ACK, clinic=clinic.name)
    elif keyword is Intent.OPT_IN:
        changed = [
            record_opt_in(p.id, clinic.id, "all", "reply", now, inbound_id)
            for p in conversation.patients
        ]
        if any(changed):
            conversation.answer(MessageKind.OPT_IN_ACK, texts.OPT_IN_ACK, clinic=clinic.name)
    else:
        conversation.answer(MessageKind.HELP, texts.HELP, clinic=clinic.name)
    return True


def take_menu_choice(conversation: Conversation) -> bool:
    """1, 2 or 3 (or "1A" with several appointments) acts on a pending appointment.

    Anything else is left to the next handler (in the end, staff).
    """
    locale = conversation.patient.locale
    if conversation.inbound.appointment_id is not None:
        return _key_press(conversation, conversation.inbound.appointment_id)
    pending = _pending(conversation)
    lettered = parse_lettered_menu(conversation.body, locale)
    if lettered is not None:
        parsed, index = lettered
        target = pending[index] if index < len(pending) else None
    else:
        parsed = parse_menu(conversation.body, locale)
        target = pending[0] if len(pending) == 1 else None
    conversation.inbound.intent = parsed.intent.value
    if parsed.intent not in MENU:
        return False
    if not pending:
        conversation.flag("no_pending_appointment")
    elif target is None:
        _ask_which(conversation, pending)
    else:
        _act(conversation, parsed.intent, target)
    return True


def _key_press(conversation: Conversation, appointment_id: int) -> bool:
    """A key pressed on a call about one appointment: it is the one acted on."""
    parsed = parse_menu(conversation.body, conversation.patient.locale)
    conversation.inbound.intent = parsed.intent.value
    if parsed.intent not in MENU:
        return False
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.status is not AppointmentStatus.BOOKED:
        conversation.flag("no_pending_appointment")
        return True
    try:
        _act(conversation, parsed.intent, appointment)
    except (Invalid, NotFound):
        conversation.flag("no_pending_appointment")
    return True


def _pending(conversation: Conversation) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id.in_(conversation.patient_ids),
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at > conversation.now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def _act(conversation: Conversation, intent: Intent, appointment: Appointment) -> None:
    choice = MENU[intent]
    before = _answered(appointment)
    choice.act(appointment.id, conversation.clock)
    if _answered(appointment) != before:
        appointment_answered(appointment, choice.event, conversation.channel, conversation.now)
    conversation.inbound.appointment_id = appointment.id
    date_text, time_text = _when(conversation, appointment)
    conversation.answer(
        choice.answer_kind,
        choice.answer,
        appointment_id=appointment.id,
        clinic=conversation.clinic.name,
        date=date_text,
        time=time_text,
    )


def _answered(appointment: Appointment) -> tuple[object, ...]:
    """What a menu answer may change: a second "1" changes nothing, and is no event."""
    return (appointment.status, appointment.confirmed_at, appointment.rebook_requested_at)


def _ask_which(conversation: Conversation, pending: list[Appointment]) -> None:
    items = []
    for index, appointment in enumerate(pending[:26]):
        date_text, time_text = _when(conversation, appointment)
        items.append(f"{chr(ord('A') + index)} {date_text} {time_text}")
    composed = compose.compose_plural(
        texts.WHICH_ONE, len(items), conversation.speaker.chain, list=", ".join(items)
    )
    conversation.answer_with(MessageKind.WHICH_ONE, composed, None)


def _when(conversation: Conversation, appointment: Appointment) -> tuple[str, str]:
    speaker = conversation.speaker
    # On a call the date is said in the language the call speaks.
    locale = speaker.locale if conversation.channel is Channel.VOICE else None
    return speaker.when(appointment.starts_at, locale)
