"""Message states and the rules for moving between them (pure)."""

from __future__ import annotations

import enum


class MessageState(enum.StrEnum):
    PENDING = "pending"  # planned; waits for due_at
    CLAIMED = "claimed"  # taken by the clock; a send job is (or should be) queued
    SENDING = "sending"  # a worker is calling the provider right now
    ACCEPTED = "accepted"  # the provider answered 201 and gave its sid
    SENT = "sent"  # the provider handed it to the carrier
    DELIVERED = "delivered"  # the handset received it
    UNDELIVERED = "undelivered"  # the carrier could not deliver it
    FAILED = "failed"  # refused for good (bad number, opted out at the carrier, ...)
    EXPIRED = "expired"  # not sent in time to be useful; dropped
    CANCELLED = "cancelled"  # its appointment moved or was cancelled before it went
    SUPPRESSED = "suppressed"  # the patient opted out (or another rule held it back)
    UNKNOWN = "unknown"  # the provider may or may not have it; the reconciler settles it


class InboundState(enum.StrEnum):
    RECEIVED = "received"  # stored by the webhook; processing is queued
    PROCESSED = "processed"  # understood and acted on
    FLAGGED = "flagged"  # not understood, or no patient matched: for staff to read


#: States in which the row may still be cancelled or rescheduled.
OPEN_STATES = frozenset({MessageState.PENDING, MessageState.CLAIMED})

#: States in which the provider has (or may have) the message.
PROVIDER_STATES = frozenset(
    {
        MessageState.ACCEPTED,
        MessageState.SENT,
        MessageState.DELIVERED,
        MessageState.UNDELIVERED,
        MessageState.FAILED,
        MessageState.UNKNOWN,
    }
)

# Twilio status names in the order a message moves through them. Final states share
# the top rank: whichever arrives first wins, and a late "sent" cannot undo "delivered".
_PROVIDER_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
}

_FROM_PROVIDER = {
    "accepted": MessageState.ACCEPTED,
    "scheduled": MessageState.ACCEPTED,
    "queued": MessageState.ACCEPTED,
    "sending": MessageState.ACCEPTED,
    "sent": MessageState.SENT,
    "delivered": MessageState.DELIVERED,
    "read": MessageState.DELIVERED,
    "undelivered": MessageState.UNDELIVERED,
    "failed": MessageState.FAILED,
    "canceled": MessageState.FAILED,
}

_STATE_RANK = {
    MessageState.SENDING: 0,
    MessageState.UNKNOWN: 0,
    MessageState.ACCEPTED: 1,
    MessageState.SENT: 3,
    MessageState.DELIVERED: 4,
    MessageState.UNDELIVERED: 4,
    MessageState.FAILED: 4,
}


def state_for_provider_status(status: str) -> MessageState | None:
    """Map a Twilio status string to our state, or None if it is not one we know."""
    return _FROM_PROVIDER.get(status.lower())


def advance(current: MessageState, provider_status: str) -> MessageState | None:
    """The state after a status callback, or None if it must be ignored.

    Statuses only move forward. A callback for a message we never sent (pending,
    cancelled, expired...) is ignored, except that UNKNOWN and SENDING are settled by it.
    """
    new = state_for_provider_status(provider_status)
    if new is None or current not in _STATE_RANK:
        return None
    if _PROVIDER_RANK[provider_status.lower()] <= _STATE_RANK[current]:
        return None
    return new


def advanceable_from(provider_status: str) -> frozenset[MessageState]:
    """The states a message may be in for `provider_status` to move it forward: the
    same rule as `advance`, as a set a conditional UPDATE can use."""
    rank = _PROVIDER_RANK.get(provider_status.lower())
    if rank is None:
        return frozenset()
    return frozenset(state for state, r in _STATE_RANK.items() if r < rank)
