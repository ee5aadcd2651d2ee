"""What can go wrong in the simulated provider, and the record of every create it saw."""

from __future__ import annotations

import enum
import re
import threading
from collections import Counter
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from app.core.sms import MAX_BODY_CHARS
from app.simulator.whatsapp import CHANNEL_MISMATCH, ContentError, bare, mismatch, render

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

#: Twilio's wording for the create errors the simulator can give. No text names a number.
ERROR_MESSAGES = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20009: "Cannot delete this resource before it is complete",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21201: "No 'To' number is specified",
    21205: "Url parameter is required",
    21211: "Invalid 'To' Phone Number",
    21212: "Invalid 'From' Phone Number",
    21213: "No 'From' number is specified",
    21408: (
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"
    ),
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21655: "The ContentSid is Invalid",
    21656: "The ContentVariables Parameter is invalid",
    21701: "The Messaging Service Sid is invalid.",
    21910: "Invalid From and To pair. From and To should be of the same channel",
    30001: "Queue overflow",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30400: "Parameters are not valid",
    30409: "This message cannot be canceled",
    63016: (
        "Failed to send freeform message because you are outside the allowed window. "
        "Please use a Template."
    ),
}

#: Delivery errors after which Twilio reports "failed" (never left) rather than "undelivered".
FAILED_CODES = frozenset({30001, 30002, 30032})
#: What a carrier reports for a text to a landline.
LANDLINE = 30006


@dataclass
class Faults:
    """Behaviour knobs. Change any field at any time; counters count down as they fire."""

    #: Seconds (low, high) between one status and the next.
    status_delay: tuple[float, float] = (0.0, 0.02)
    #: Seconds (low, high) between delivery and the simulated patient's reply.
    reply_delay: tuple[float, float] = (0.0, 0.02)
    #: Statuses that get a callback. The create response already says "queued", so by
    #: default only the carrier's answers are posted, which halves the webhook load.
    callback_statuses: frozenset[str] = frozenset(
        {"queued", "sent", "delivered", "undelivered", "failed"}
    )
    #: Probability that a status callback is posted a second time.
    duplicate_callbacks: float = 0.0
    #: Post each message's status callbacks in shuffled order.
    reorder: bool = False
    #: Probability that a status callback is never posted.
    drop_callbacks: float = 0.0
    #: Probability that an inbound webhook is never posted (the message is still listed).
    drop_inbound: float = 0.0
    #: Create errors by recipient, e.g. {"+447911123456": 21614}: HTTP 400, nothing stored.
    reject_numbers: dict[str, int] = field(default_factory=dict)
    #: Delivery errors by recipient, e.g. 30006: accepted, then undelivered or failed.
    undelivered_numbers: dict[str, int] = field(default_factory=dict)
    #: The next N creates get HTTP 429 (code 20429) and are not stored.
    rate_limit_next: int = 0
    #: The next N creates are stored, then answered HTTP 500: the client cannot know.
    server_error_next: int = 0
    #: The next N creates are stored, then not answered for `hang_seconds`.
    hang_next: int = 0
    hang_seconds: float = 30.0
    #: Shares of message creates that fail so, drawn per request (a provider under
    #: strain rather than a countdown): 429 and not stored; stored, then 500; stored,
    #: then no answer for `hang_seconds`.
    rate_limit_share: float = 0.0
    server_error_share: float = 0.0
    hang_share: float = 0.0
    #: How calls to these numbers end whatever the callee would do: "busy",
    #: "no-answer" or "failed" ("answered" plays the TwiML).
    call_outcomes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HeldRequest:
    """A create request the simulator holds before doing anything with it."""

    to: str
    status_callback: str | None


class HoldGate:
    """Holds chosen create requests unanswered until released; then the simulator
    takes them as usual, whether or not the client is still there to read the answer.

    A harness holds a request, kills the process that made it, then releases it: the
    provider has the message but the sender never learnt its sid, as when a worker dies
    between the provider call and the database update.
    """

    def __init__(self, stopping: threading.Event, longest: float = 300.0) -> None:
        self._cond = threading.Condition()
        self._stopping = stopping
        self._longest = longest
        self._to_hold = 0
        self._held: list[HeldRequest] = []
        self._generation = 0

    def hold_next(self, count: int) -> None:
        """Hold the next `count` message creates (0: none, which calls off a hold
        nothing has met yet)."""
        with self._cond:
            self._to_hold = max(count, 0)

    def held(self, wait: float = 0.0) -> list[HeldRequest]:
        """The requests held now, waiting up to `wait` seconds for there to be one."""
        with self._cond:
            self._cond.wait_for(lambda: self._held or self._stopping.is_set(), timeout=wait)
            return list(self._held)

    def release(self) -> int:
        """Let every held request go on; returns how many there were."""
        with self._cond:
            count = len(self._held)
            self._held.clear()
            self._generation += 1
            self._cond.notify_all()
            return count

    def pass_through(self, form: Mapping[str, str]) -> bool:
        """Block while this request is held; True if it was (it then takes no fault)."""
        with self._cond:
            if self._to_hold <= 0:
                return False
            self._to_hold -= 1
            self._held.append(HeldRequest(form.get("To", ""), form.get("StatusCallback")))
            entry = self._held[-1]
            generation = self._generation
            self._cond.notify_all()
            released = self._cond.wait_for(
                lambda: self._generation != generation or self._stopping.is_set(),
                timeout=self._longest,
            )
            if not released and entry in self._held:
                self._held.remove(entry)
            return True


class CreateOutcome(enum.StrEnum):
    ACCEPTED = "accepted"  # stored and answered 201
    RATE_LIMITED = "rate_limited"  # answered 429, not stored
    REJECTED = "rejected"  # answered 400 with an error code, not stored
    SERVER_ERROR = "server_error"  # stored, then answered 500
    HUNG = "hung"  # stored, then answered too late for the client


#: Outcomes after which the simulated provider holds the message.
STORED_OUTCOMES = frozenset(
    {CreateOutcome.ACCEPTED, CreateOutcome.SERVER_ERROR, CreateOutcome.HUNG}
)


@dataclass(frozen=True)
class LedgerEntry:
    """One create request as received, whatever became of it."""

    sid: str | None
    to: str
    from_: str
    body: str
    status_callback: str | None
    at: datetime
    outcome: CreateOutcome
    error_code: int | None = None
    validity_period: int | None = None
    #: "message" or "call".
    kind: str = "message"
    #: The WhatsApp template named instead of a body, if any.
    content_sid: str | None = None


class Ledger(list[LedgerEntry]):
    """Every create request the simulator saw, in order; appends are thread-safe."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self.append(entry)

    def creates_to(self, number: str, *, stored_only: bool = False) -> int:
        """Creates (messages on any channel, and calls) that named `number`."""
        with self._lock:
            entries = list(self)
        return sum(
            1
            for e in entries
            if bare(e.to) == bare(number) and (not stored_only or e.outcome in STORED_OUTCOMES)
        )

    def duplicate_sends(self) -> int:
        """Extra stored creates that share To and StatusCallback (one message twice)."""
        with self._lock:
            keys = Counter(
                (e.to, e.status_callback)
                for e in self
                if e.status_callback and e.outcome in STORED_OUTCOMES
            )
        return sum(n - 1 for n in keys.values())


def message_refusal(
    form: Mapping[str, str], templates: Mapping[str, str], services: Container[str]
) -> tuple[int | None, str]:
    """The error Twilio gives a Messages create (None if it takes it), and the body it
    would send: the Body, or the rendered WhatsApp template named by ContentSid."""
    to, from_ = form.get("To", ""), form.get("From")
    service, body = form.get("MessagingServiceSid"), form.get("Body")
    if form.get("ContentSid"):
        try:
            body = render(templates, form["ContentSid"], form.get("ContentVariables"))
        except ContentError as exc:
            return exc.code, ""
    if to and mismatch(to, from_, service):
        return CHANNEL_MISMATCH, ""
    return refusal_code(bare(to), from_, service, body, services), body or ""


def refusal_code(
    to: str, from_: str | None, service: str | None, body: str | None, services: Container[str]
) -> int | None:
    """The error Twilio gives a create with these fields, or None if it would accept it."""
    if not to:
        return 21604
    if not from_ and not service:
        return 21603
    if not body:
        return 21602
    if len(body) > MAX_BODY_CHARS:
        return 21617
    if not from_ and service not in services:
        return 21701
    if not _E164.match(to):
        return 21211
    return None


def call_refusal_code(to: str, from_: str | None, url: str | None) -> int | None:
    """The error Twilio gives a call create with these fields, or None if it would
    place the call."""
    if not to:
        return 21201
    if not from_:
        return 21213
    if not url or not url.startswith(("http://", "https://")):
        return 21205
    if not _E164.match(to):
        return 21211
    if not _E164.match(from_):
        return 21212
    return None


@lru_cache(maxsize=4096)
def carrier_error(to: str) -> int | None:
    """The delivery error a carrier gives a text to `to`: 30006 for a landline."""
    try:
        number = phonenumbers.parse(to, None)
    except NumberParseException:
        return None
    if phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE:
        return LANDLINE
    return None
