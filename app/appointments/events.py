"""What follows an appointment event, registered at start-up.

The appointment service records what happened to an appointment and then tells the
handlers registered here (by `app.wiring`): planning reminders when one is booked,
re-planning them when it moves, withdrawing them when it is cancelled or settled,
assigning a wording experiment's arm, planning a survey invitation after a visit.
`appointments` itself calls only downward; the features below it never need calling.

Handlers run inside the caller's transaction and never commit. Registering again under
the same name replaces the handler, so building several apps in one process is harmless.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

from app.appointments.models import Appointment
from app.clinics.models import Clinic
from app.core.clock import Clock


class AppointmentEvent(enum.StrEnum):
    BOOKED = "booked"  # new appointments (one import's worth at a time)
    MOVED = "moved"  # a new start time; its plan version has been bumped
    PATHWAY_CHANGED = "pathway_changed"  # a booked appointment's pathway, not its time
    CANCELLED = "cancelled"  # by the patient or by the clinic
    ATTENDED = "attended"  # the patient came (not again for a repeated outcome)
    DNA = "dna"  # the patient did not attend (or an attendance was corrected)


#: Told of one event for some appointments of one clinic.
Handler = Callable[[Sequence[Appointment], Clinic, Clock], None]

_handlers: dict[AppointmentEvent, dict[str, Handler]] = {event: {} for event in AppointmentEvent}


def on(event: AppointmentEvent, name: str, handler: Handler) -> None:
    """Call `handler` (registered under `name`) after every `event`."""
    _handlers[event][name] = handler


def emit(
    event: AppointmentEvent, appointments: Sequence[Appointment], clinic: Clinic, clock: Clock
) -> None:
    """Tell every handler of `event`, in the order they were registered."""
    if not appointments:
        return
    for handler in _handlers[event].values():
        handler(appointments, clinic, clock)
