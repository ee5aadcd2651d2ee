"""Where an appointment's reminders stand, in one word for staff (pure).

Staff read a day's appointments with one word for each one's reminders. The word comes
from the appointment and the states of its reminder messages of its current plan (an
earlier plan's were for a time that no longer holds), the furthest step first:

- cancelled: the appointment was cancelled (its reminders were withdrawn with it);
- confirmed: the patient replied to confirm;
- delivered: a reminder reached the patient's phone;
- sent: a reminder is with the provider or the carrier, not yet known to have arrived;
- opted out: held back because the patient opted out;
- failed: the reminders that went could not be delivered;
- planned: a reminder is waiting to go;
- not sent: dropped, too late to help, or withdrawn after the visit was recorded;
- none: no reminder was planned (booked too late, or the clinic sends none).

A delivered reminder outranks a failed one (a fallback to another channel, or the next
rule, got through), and a failed one outranks a planned one: staff should hear of the
failure even while a later reminder is still to go.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from app.messaging.states import MessageState


class ReminderStatus(enum.StrEnum):
    CANCELLED = "cancelled"  # the appointment was cancelled
    CONFIRMED = "confirmed"  # the patient replied to confirm
    DELIVERED = "delivered"  # a reminder reached the handset
    SENT = "sent"  # with the provider or carrier; delivery not yet known
    OPTED_OUT = "opted_out"  # held back: the patient opted out
    FAILED = "failed"  # could not be delivered
    PLANNED = "planned"  # waiting for its time to go
    NOT_SENT = "not_sent"  # dropped as too late, or withdrawn after the visit
    NONE = "none"  # no reminder was planned


#: From the furthest step down: the first whose message states are present wins.
_STEPS: tuple[tuple[ReminderStatus, frozenset[MessageState]], ...] = (
    (ReminderStatus.DELIVERED, frozenset({MessageState.DELIVERED})),
    (
        ReminderStatus.SENT,
        frozenset(
            {
                MessageState.SENDING,
                MessageState.ACCEPTED,
                MessageState.SENT,
                MessageState.UNKNOWN,
            }
        ),
    ),
    (ReminderStatus.OPTED_OUT, frozenset({MessageState.SUPPRESSED})),
    (ReminderStatus.FAILED, frozenset({MessageState.FAILED, MessageState.UNDELIVERED})),
    (ReminderStatus.PLANNED, frozenset({MessageState.PENDING, MessageState.CLAIMED})),
    (ReminderStatus.NOT_SENT, frozenset({MessageState.EXPIRED, MessageState.CANCELLED})),
)


def reminder_status(
    *, cancelled: bool, confirmed: bool, reminders: Iterable[MessageState]
) -> ReminderStatus:
    """The one word for an appointment's reminders (see the module notes).

    `cancelled`: the appointment was cancelled (or withdrawn); `confirmed`: the patient
    confirmed it; `reminders`: the states of its reminder messages of the current plan.
    """
    if cancelled:
        return ReminderStatus.CANCELLED
    if confirmed:
        return ReminderStatus.CONFIRMED
    present = set(reminders)
    for word, states in _STEPS:
        if present & states:
            return word
    return ReminderStatus.NONE
