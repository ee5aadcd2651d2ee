"""SMS through Twilio's Messages API, from a number or a Messaging Service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.core.channels import (
    OutboundRequest,
    ProviderMessage,
    SendOutcome,
    SendResult,
    StatusUpdate,
)
from app.core.erasure import EraseOutcome
from app.core.inputs import provider_sid
from app.messaging.channels.twilio_common import (
    RATE_LIMIT_BACKOFF,
    RATE_LIMITED,
    UNREACHABLE_BACKOFF,
    UNSUBSCRIBED,
    TwilioSettings,
    as_utc,
    attempt,
    build_client,
    delete_message,
    error_code,
    verify_signature,
)

__all__ = [
    "MAX_VALIDITY_SECONDS",
    "RATE_LIMITED",
    "RATE_LIMIT_BACKOFF",
    "UNREACHABLE_BACKOFF",
    "UNSUBSCRIBED",
    "TwilioSMSChannel",
]

#: Twilio accepts a ValidityPeriod of 1 to 36000 seconds and refuses anything else.
MAX_VALIDITY_SECONDS = 36000


class TwilioSMSChannel:
    """The `sms` channel. Never raises for provider errors: the outcome says what happened."""

    name = "sms"

    def __init__(self, settings: TwilioSettings, *, client: Any = None) -> None:
        self._settings = settings
        self.timing = settings.timing
        self._client = client if client is not None else build_client(settings)

    def warm_up(self) -> None:
        """Load the SDK's messages resource now (it is imported on first use), so the
        first send of a long-lived worker costs what every other does."""
        _ = self._client.messages

    def send(self, request: OutboundRequest) -> SendResult:
        """Ask Twilio to send one message.

        ACCEPTED only with a sid. RETRY only when Twilio certainly does not have the
        message (429, or no connection was ever made). UNKNOWN whenever the request may
        have arrived: a read timeout, a 5xx, a dropped connection or anything unexpected.
        """
        message, refused = attempt(lambda: self._client.messages.create(**_create_args(request)))
        if refused is not None:
            return refused
        return accepted(message)

    def parse_status(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """The status a callback reports; None for a form without MessageSid and
        MessageStatus (an incoming message, for one)."""
        return parse_message_status(form)

    def verify(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        """True if Twilio signed `url` and `form` with the current or the previous token."""
        return verify_signature(self._settings.auth_tokens, url, form, signature)

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        """Every message Twilio lists for these filters, all pages; `since` compares to
        the second against the date sent. Raises the SDK's errors: callers retry later."""
        return list_provider_messages(self._client, to=to, from_=from_, since=since)

    def erase_message(self, provider_sid: str) -> EraseOutcome:
        """Delete a message, sent or received, from Twilio's logs (`delete_message`)."""
        return delete_message(self._client, provider_sid)


def _create_args(request: OutboundRequest) -> dict[str, Any]:
    sender_key = "messaging_service_sid" if request.sender.startswith("MG") else "from_"
    return {
        "to": request.to,
        "body": request.body,
        sender_key: request.sender,
        "status_callback": request.status_callback,
        "validity_period": validity_period(request.validity_seconds),
    }


def validity_period(seconds: int) -> int:
    """`seconds` clamped to the ValidityPeriod range Twilio accepts."""
    return min(max(seconds, 1), MAX_VALIDITY_SECONDS)


def accepted(message: Any) -> SendResult:
    """The ACCEPTED outcome of a created Message resource."""
    return SendResult(
        SendOutcome.ACCEPTED,
        provider_sid=message.sid,
        provider_status=message.status,
        error_code=message.error_code,
    )


def parse_message_status(form: Mapping[str, str]) -> StatusUpdate | None:
    """A Messages API status callback (SMS or WhatsApp); None without a MessageSid and a
    MessageStatus."""
    sid, status = provider_sid(form.get("MessageSid")), form.get("MessageStatus")
    if not sid or not status:
        return None
    return StatusUpdate(sid, status.lower(), error_code(form.get("ErrorCode")))


def list_provider_messages(
    client: Any,
    *,
    to: str | None = None,
    from_: str | None = None,
    since: datetime | None = None,
    strip: str = "",
) -> list[ProviderMessage]:
    """Every message Twilio lists for these filters, all pages, with `strip` (an address
    prefix such as "whatsapp:") taken off the numbers."""
    filters: dict[str, Any] = {"to": to, "from_": from_, "date_sent_after": as_utc(since)}
    found = client.messages.list(
        **{k: v for k, v in filters.items() if v is not None}, page_size=200
    )
    return [_provider_message(m, strip) for m in found]


def _bare(address: str | None, prefix: str) -> str:
    text = address or ""
    return text.removeprefix(prefix) if prefix else text


def _provider_message(m: Any, strip: str) -> ProviderMessage:
    return ProviderMessage(
        sid=m.sid,
        direction=m.direction,
        from_number=_bare(m.from_, strip),
        to=_bare(m.to, strip),
        body=m.body or "",
        status=m.status,
        error_code=m.error_code,
        created_at=m.date_created,
    )
