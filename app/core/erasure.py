"""What a provider plug-in does to forget a patient, and how it answers (pure).

Twilio keeps its own copy of every message and call. On erasure WeSaid asks it to blank
the text of each message (`erase_message`) and to delete the record of each call
(`erase_call`). The answer is an `EraseOutcome`, never an exception: the caller records
it and tries again later when the provider is not ready or not reachable.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable


class EraseOutcome(enum.StrEnum):
    ERASED = "erased"  # the provider no longer holds the text (or the call's record)
    ABSENT = "absent"  # the provider has no such record: erased before, or never kept
    NOT_YET = "not_yet"  # the provider will not until it has finished with it: try later
    FAILED = "failed"  # refused, or the provider could not be reached: try again later


#: Outcomes after which nothing is left to do.
SETTLED = frozenset({EraseOutcome.ERASED, EraseOutcome.ABSENT})


@runtime_checkable
class MessageEraser(Protocol):
    """A channel whose provider keeps message texts that it can blank."""

    def erase_message(self, provider_sid: str) -> EraseOutcome:
        """Blank the text the provider keeps for the message `provider_sid`."""
        ...


@runtime_checkable
class CallEraser(Protocol):
    """A channel whose provider keeps call records that it can delete."""

    def erase_call(self, provider_sid: str) -> EraseOutcome:
        """Delete the provider's record of the call `provider_sid`."""
        ...
