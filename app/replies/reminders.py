"""Reminders: composed at send time in the patient's language, by text or by call.

By text, a reminder ends with the reply menu. An appointment in a running wording
experiment may read differently: the composition root passes the experiment's wording
(`WordingSource`) in, so reminders know no experiment. On a call the reminder is read,
then one key is taken (`press_reminder_key`): the key press is stored in the inbox and
routed like a text, and the answer is said before the call hangs up. No key, or a key
that means nothing, asks once more; the second time the call says goodbye.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.sms import normalise_invisible
from app.extensions import db
from app.messaging import calls, compose
from app.messaging.inbox import process_inbound, store_inbound
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.registry import ComposeContext, Draft, Outgoing
from app.messaging.speaker import Speaker
from app.messaging.templates import overrides_for
from app.messaging.voice import MAX_REASKS, VoiceStep
from app.patients.models import Patient
from app.replies import texts

#: The wording an experiment assigned to an appointment, for the first locale of the
#: chain it has: (text with %(clinic)s, %(date)s and %(time)s, its locale), or None.
WordingSource = Callable[[int, tuple[str, ...]], tuple[str, str] | None]
#: `WordingSource` for a batch of appointments, read at once.
WordingBatch = Callable[[Collection[int]], WordingSource]
#: The keys `prefetch_reminders` fills in `ComposeContext.batch`.
_APPOINTMENTS, _OVERRIDES, _WORDING = (
    "reminders.appointments",
    "reminders.overrides",
    "reminders.wording",
)
#: The voice webhook step that takes the reminder menu's key.
MENU_STEP = "menu"


def prefetch_reminders(
    messages: Sequence[Outgoing],
    context: ComposeContext,
    wordings: WordingBatch | None = None,
) -> None:
    """Read for a batch of reminders what each needs: their appointments, their clinics'
    own wording, and (with `wordings`) the experiments' wording, in a few queries."""
    appointment_ids = {m.appointment_id for m in messages if m.appointment_id is not None}
    found = db.session.scalars(select(Appointment).where(Appointment.id.in_(appointment_ids)))
    context.batch[_APPOINTMENTS] = {a.id: a for a in found}
    context.batch[_OVERRIDES] = {c: overrides_for(c) for c in {m.clinic_id for m in messages}}
    if wordings is not None:
        context.batch[_WORDING] = wordings(appointment_ids)


def compose_reminder(
    message: Outgoing, context: ComposeContext, wording: WordingSource | None = None
) -> Draft:
    """The reminder of `message` in the patient's language: the experiment's wording if
    `wording` has one for its appointment, else the clinic's or the catalogue's. The
    WhatsApp template's values are the date and the time. Reads what
    `prefetch_reminders` read for the batch where it can."""
    appointment_id = message.appointment_id or 0
    appointments = context.batch.get(_APPOINTMENTS)
    if appointments is not None and appointment_id in appointments:
        appointment = appointments[appointment_id]
    else:
        appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise ValueError(f"reminder {message.message_id} has no appointment")
    chain = compose.chain_for(message.patient_locale, message.default_locale)
    overrides = context.batch.get(_OVERRIDES, {}).get(message.clinic_id)
    if overrides is None:
        overrides = overrides_for(message.clinic_id)
    wording = context.batch.get(_WORDING, wording)
    speaker = Speaker(chain, overrides, message.timezone)
    date_text, time_text = speaker.when(appointment.starts_at)
    values = {"clinic": message.clinic_name, "date": date_text, "time": time_text}
    template_values = {"2": date_text, "3": time_text}
    if message.channel is not Channel.VOICE and wording is not None:
        variant = wording(appointment.id, chain)
        if variant is not None:  # dates in the language of the text chosen
            text, locale = variant
            date_text, time_text = speaker.when(appointment.starts_at, locale)
            body = normalise_invisible(text % (values | {"date": date_text, "time": time_text}))
            return Draft(body, locale, template_values)
    template = texts.VOICE_REMINDER if message.channel is Channel.VOICE else texts.REMINDER
    composed = speaker.compose(template, **values)
    return Draft(composed.body, composed.locale, template_values)


def _booked(message: OutboundMessage) -> Appointment | None:
    if message.appointment_id is None:
        return None
    appointment = db.session.get(Appointment, message.appointment_id)
    if appointment is None or appointment.status is not AppointmentStatus.BOOKED:
        return None
    return appointment


def reminder_call(
    message: OutboundMessage, speaker: Speaker, now: datetime, reasks: int = 0
) -> VoiceStep | None:
    """The reminder read on the telephone, waiting for one key; None once the
    appointment is no longer booked."""
    appointment = _booked(message)
    clinic = db.session.get(Clinic, message.clinic_id)
    if appointment is None or clinic is None:
        return None
    date_text, time_text = speaker.when(appointment.starts_at, speaker.locale)
    text = speaker.say(texts.VOICE_REMINDER, clinic=clinic.name, date=date_text, time=time_text)
    step = calls.step_for(speaker)
    return step.ask(MENU_STEP, {"m": message.id, "t": reasks}, [text])


def press_reminder_key(
    message_id: int, digits: str, reasks: int, call_sid: str, clock: Clock
) -> VoiceStep:
    """The key pressed after a reminder was read: 1 confirm, 2 cancel, 3 ask for a new
    time. Commits.

    A menu key is stored in the inbox (its sid names the call and the step, so a
    repeated request is the same key press) and routed like a text; what the answer
    says is said, and the call hangs up. Any other key, or none, asks once more.
    """
    message = db.session.get(OutboundMessage, message_id)
    speaker = calls.call_speaker(message.patient_id, message.clinic_id) if message else None
    if message is None or speaker is None or message.kind != MessageKind.REMINDER:
        return calls.goodbye(speaker)
    if digits not in ("1", "2", "3"):
        if reasks >= MAX_REASKS:
            return calls.goodbye(speaker)
        again = reminder_call(message, speaker, clock.now(), reasks + 1)
        if again is None:
            return calls.goodbye(speaker)
        again.lines.insert(0, calls.not_heard(speaker))
        return again
    spoken = _route_key_press(message, digits, reasks, call_sid, clock)
    if not spoken:
        return calls.goodbye(speaker)
    step = calls.step_for(speaker)
    for line in spoken:
        step.say(line)
    return step.end()


def _route_key_press(
    message: OutboundMessage, digits: str, reasks: int, call_sid: str, clock: Clock
) -> list[str]:
    patient = db.session.get(Patient, message.patient_id)
    clinic = db.session.get(Clinic, message.clinic_id)
    assert patient is not None
    assert clinic is not None
    inbound_id, created, _patient = store_inbound(
        provider_sid=f"{call_sid or 'call'}:m{message.id}:t{reasks}:{digits}",
        from_number=patient.phone,
        to_number=clinic.sender,
        body=digits,
        messaging_service_sid=None,
        channel=Channel.VOICE,
        now=clock.now(),
        appointment_id=message.appointment_id,
    )
    if not created:
        return []
    return process_inbound(inbound_id, clock).spoken
