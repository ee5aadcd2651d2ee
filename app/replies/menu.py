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
from app.messaging.kinds import MessageKind
from app.replies import texts


@dataclass(frozen=True)
class MenuChoice:
    """One answer to a reminder: the appointment command it runs, and the answer sent."""

    act: Callable[[int, Clock], Appointment]
    answer_kind: MessageKind
    #: A text with %(clinic)s, %(date)s and %(time)s placeholders.
    answer: str


MENU: dict[Intent, MenuChoice] = {
    Intent.CONFIRM: MenuChoice(
        appointments.confirm_appointment, MessageKind.CONFIRMED, texts.CONFIRMED
    ),
    Intent.CANCEL: MenuChoice(
        appointments.cancel_by_patient, MessageKind.CANCELLED, texts.CANCELLED
    ),
    Intent.REBOOK: MenuChoice(appointments.request_rebook, MessageKind.REBOOK, texts.REBOOK),
}
