"""Channels: how a message reaches a patient, and the interface every provider plug-in
implements (pure: no framework, no provider SDK)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class Channel(enum.StrEnum):
    """How a message reaches a patient (and how a patient prefers to be reached)."""

    SMS = "sms"  # a text message from the clinic's number or Messaging Service
    WHATSAPP = "whatsapp"  # WhatsApp through Twilio: free text in the 24-hour window
    VOICE = "voice"  # a telephone call that reads the text and takes key presses
    WEB = "web"  # a signed link to a web form, which itself travels by SMS


#: Channels that carry a typed reply (the reply menu needs one).
TEXT_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


class SendOutcome(enum.StrEnum):
    ACCEPTED = "accepted"  # the provider has it and gave a sid
    RETRY = "retry"  # the provider certainly does not have it; safe to try again later
    FAILED = "failed"  # refused for good; do not try again
    OPTED_OUT = "opted_out"  # refused because the recipient opted out at the carrier
    UNKNOWN = "unknown"  # the request may have reached the provider: never resend blindly


@dataclass(frozen=True)
class OutboundRequest:
    """What a channel needs to send one message; no database objects."""

    message_id: int
    to: str
    body: str
    #: An E.164 number, or a Messaging Service sid (MG…).
    sender: str
    status_callback: str
    validity_seconds: int
    #: A web link travels by SMS.
    channel: Channel = Channel.SMS
    #: The outbox kind ("reminder", "survey_invite", ...).
    kind: str = ""
    #: Voice: where the provider fetches the call's TwiML once it is answered.
    twiml_url: str | None = None
    #: WhatsApp outside the 24-hour window: an approved template and its variables.
    content_sid: str | None = None
    content_variables: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    provider_sid: str | None = None
    provider_status: str | None = None
    error_code: int | None = None
    #: Seconds to wait before a retry, when the provider said so.
    retry_after: float | None = None
    #: A short reason for logs; never holds a number or a body.
    detail: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    provider_sid: str
    status: str
    error_code: int | None = None


@dataclass(frozen=True)
class ProviderMessage:
    """A message as the provider lists it (for reconciliation)."""

    sid: str
    direction: str  # "inbound" or "outbound-api" ...
    from_number: str
    to: str
    body: str
    status: str
    error_code: int | None
    created_at: datetime | None


@dataclass(frozen=True)
class ProviderTiming:
    """How long the reconcilers trust a provider to catch up before asking it."""

    #: A send that may or may not have reached the provider is looked up this long
    #: after it became unknown: a provider's list may not show a create at once.
    list_lag: timedelta = timedelta(minutes=1)
    #: A message whose final status never came back is polled this long after its last
    #: change (a provider posts each callback once, and a slow carrier may take long).
    callback_wait: timedelta = timedelta(minutes=30)


class ChannelPlugin(Protocol):
    """A provider's implementation of one channel."""

    name: str
    timing: ProviderTiming

    def send(self, request: OutboundRequest) -> SendResult:
        """Send one message. Never raises for provider errors: the outcome says what happened."""
        ...

    def parse_status(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """Read a status callback's form; None if it is not a status callback."""
        ...

    def verify(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        """True if `signature` is the provider's signature of `url` and `form`."""
        ...

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        """Messages the provider holds, for the reconcilers."""
        ...
