"""One word for where an appointment's reminders stand: a table of cases."""

from __future__ import annotations

import pytest

from app.diary.reminders import ReminderStatus, reminder_status
from app.messaging.states import MessageState

S = MessageState
R = ReminderStatus


@pytest.mark.parametrize(
    ("cancelled", "confirmed", "reminders", "expected"),
    [
        (False, False, [], R.NONE),
        (False, False, [S.PENDING, S.PENDING], R.PLANNED),
        (False, False, [S.CLAIMED], R.PLANNED),
        (False, False, [S.SENDING, S.PENDING], R.SENT),
        (False, False, [S.ACCEPTED], R.SENT),
        (False, False, [S.SENT, S.PENDING], R.SENT),
        (False, False, [S.UNKNOWN], R.SENT),
        (False, False, [S.DELIVERED, S.PENDING], R.DELIVERED),
        (False, False, [S.FAILED, S.DELIVERED], R.DELIVERED),  # a fallback got through
        (False, False, [S.UNDELIVERED, S.PENDING], R.FAILED),  # heard of before the next
        (False, False, [S.FAILED], R.FAILED),
        (False, False, [S.SUPPRESSED, S.FAILED], R.OPTED_OUT),
        (False, False, [S.SUPPRESSED, S.PENDING], R.OPTED_OUT),
        (False, False, [S.EXPIRED], R.NOT_SENT),
        (False, False, [S.CANCELLED, S.CANCELLED], R.NOT_SENT),  # withdrawn after the visit
        (False, False, [S.EXPIRED, S.PENDING], R.PLANNED),
        (False, True, [S.DELIVERED], R.CONFIRMED),
        (False, True, [], R.CONFIRMED),
        (True, True, [S.DELIVERED], R.CANCELLED),
        (True, False, [S.CANCELLED], R.CANCELLED),
    ],
)
def test_the_word_for_the_reminders(
    cancelled: bool, confirmed: bool, reminders: list[MessageState], expected: ReminderStatus
) -> None:
    assert (
        reminder_status(cancelled=cancelled, confirmed=confirmed, reminders=reminders) is expected
    )


def test_every_message_state_has_a_word() -> None:
    for state in MessageState:
        found = reminder_status(cancelled=False, confirmed=False, reminders=[state])
        assert found is not ReminderStatus.NONE, state
