"""SMS through Twilio's Messages API, from a number or a Messaging Service."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from app.messaging.channels.base import (
    OutboundRequest,
    ProviderMessage,
    SendOutcome,
    SendResult,
    StatusUpdate,
)
from app.messaging.channels.twilio_common import TwilioSettings, build_client, verify_signature

RATE_LIMITED = 20429
UNSUBSCRIBED = 21610
#: Seconds before retrying after a 429; jittered up to twice this so workers spread out.
RATE_LIMIT_BACKOFF = 2.0
#: Seconds before retrying when Twilio could not be reached at all.
UNREACHABLE_BACKOFF = 5.0
#: Twilio accepts a ValidityPeriod of 1 to 36000 seconds and refuses anything else.
MAX_VALIDITY_SECONDS = 36000


class TwilioSMSChannel:
    """The `sms` channel. Never raises for provider errors: the outcome says what happened."""

    name = "sms"

    def __init__(self, settings: TwilioSettings, *, client: Any = None) -> None:
        self._settings = settings
        self._client = client if client is not None else build_client(settings)

    def send(self, request: OutboundRequest) -> SendResult:
        """Ask Twilio to send one message.

        ACCEPTED only with a sid. RETRY only when Twilio certainly does not have the
        message (429, or no connection was ever made). UNKNOWN whenever the request may
        have arrived: a read timeout, a 5xx, a dropped connection or anything unexpected.
        """
        try:
            message = self._client.messages.create(**_create_args(request))
        except TwilioException as exc:
            return _from_api_error(exc)
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                return _retry(UNREACHABLE_BACKOFF, "twilio unreachable")
            return SendResult(SendOutcome.UNKNOWN, detail="connection lost after sending")
        except requests.Timeout:
            return SendResult(SendOutcome.UNKNOWN, detail="no answer within the read timeout")
        except Exception as exc:
            return SendResult(SendOutcome.UNKNOWN, detail=f"unexpected {type(exc).__name__}")
        return SendResult(
            SendOutcome.ACCEPTED,
            provider_sid=message.sid,
            provider_status=message.status,
            error_code=message.error_code,
        )

    def parse_status(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """The status a callback reports; None for a form without MessageSid and
        MessageStatus (an incoming message, for one)."""
        sid, status = form.get("MessageSid"), form.get("MessageStatus")
        if not sid or not status:
            return None
        return StatusUpdate(sid, status.lower(), _error_code(form.get("ErrorCode")))

    def verify(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        """True if Twilio signed `url` and `form` with the current or the previous token."""
        return verify_signature(self._settings.auth_tokens, url, form, signature)

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        """Every message Twilio lists for these filters, all pages; `since` compares to
        the second against the date sent. Raises the SDK's errors: callers retry later."""
        filters: dict[str, Any] = {"to": to, "from_": from_, "date_sent_after": _utc(since)}
        found = self._client.messages.list(
            **{k: v for k, v in filters.items() if v is not None}, page_size=200
        )
        return [_provider_message(m) for m in found]

    def redact(self, provider_sid: str) -> None:
        """Blank the body Twilio keeps for a message (erasure). Raises the SDK's errors."""
        self._client.messages(provider_sid).update(body="")


def _create_args(request: OutboundRequest) -> dict[str, Any]:
    sender_key = "messaging_service_sid" if request.sender.startswith("MG") else "from_"
    return {
        "to": request.to,
        "body": request.body,
        sender_key: request.sender,
        "status_callback": request.status_callback,
        "validity_period": min(max(request.validity_seconds, 1), MAX_VALIDITY_SECONDS),
    }


def _from_api_error(exc: TwilioException) -> SendResult:
    # Twilio's message text can quote the number, so only status and code are kept.
    status: int | None = getattr(exc, "status", None)
    code: int | None = getattr(exc, "code", None)
    detail = f"twilio http {status} code {code}"
    if code == RATE_LIMITED or status == 429:
        return _retry(RATE_LIMIT_BACKOFF, detail, code)
    if status is None or status >= 500:
        return SendResult(SendOutcome.UNKNOWN, error_code=code, detail=detail)
    if code == UNSUBSCRIBED:
        return SendResult(SendOutcome.OPTED_OUT, error_code=code, detail=detail)
    return SendResult(SendOutcome.FAILED, error_code=code, detail=detail)


def _retry(backoff: float, detail: str, code: int | None = None) -> SendResult:
    wait = backoff * (1 + random.random())
    return SendResult(SendOutcome.RETRY, error_code=code, retry_after=wait, detail=detail)


def _never_connected(exc: BaseException) -> bool:
    """Whether the failure happened before a connection existed, so nothing was sent.

    requests wraps urllib3's MaxRetryError, whose `reason` says what went wrong.
    """
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError | ConnectionRefusedError):
            return True
        linked = (*current.args, getattr(current, "reason", None), current.__cause__)
        todo += [e for e in linked if isinstance(e, BaseException)]
    return False


def _error_code(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip().isdigit() else None


def _utc(moment: datetime | None) -> datetime | None:
    # The SDK formats with strftime and a literal Z, so the instant must already be UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _provider_message(m: Any) -> ProviderMessage:
    return ProviderMessage(
        sid=m.sid,
        direction=m.direction,
        from_number=m.from_ or "",
        to=m.to or "",
        body=m.body or "",
        status=m.status,
        error_code=m.error_code,
        created_at=m.date_created,
    )
