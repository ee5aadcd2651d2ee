"""The reminder menu: what each answer does and how it is acknowledged.

One table serves texts ("1", "2A") and key presses on a reminder call: the digits are
read by `app.core.parsing` (1 confirm, 2 cancel, 3 ask for a new time, in every script),
and the intent they give picks the row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.appointments import service as appointments
from app.appointments.models import Appointment
from app.core.clock import Clock
from app.core.parsing import Intent
from app.events.models import EventType
from app.messaging.kinds import MessageKind
from app.replies import texts


@dataclass(frozen=True)
class MenuChoice:
    """One answer to a reminder: the appointment command it runs, the answer sent, and
    the event the clinic's systems hear when it changed the appointment."""

    act: Callable[[int, Clock], Appointment]
    answer_kind: MessageKind
    #: A text with %(clinic)s, %(date)s and %(time)s placeholders.
    answer: str
    event: EventType


MENU: dict[Intent, MenuChoice] = {
    Intent.CONFIRM: MenuChoice(
        appointments.confirm_appointment,
        MessageKind.CONFIRMED,
        texts.CONFIRMED,
        EventType.APPOINTMENT_CONFIRMED,
    ),
    Intent.CANCEL: MenuChoice(
        appointments.cancel_by_patient,
        MessageKind.CANCELLED,
        texts.CANCELLED,
        EventType.APPOINTMENT_CANCELLED_BY_PATIENT,
    ),
    Intent.REBOOK: MenuChoice(
        appointments.request_rebook,
        MessageKind.REBOOK,
        texts.REBOOK,
        EventType.APPOINTMENT_REBOOK_REQUESTED,
    ),
}
