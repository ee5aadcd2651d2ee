"""WhatsApp through Twilio's Messages API: free text inside the 24-hour window, an
approved template (a Content SID) outside it.

The dispatcher decides which: a request with `content_sid` goes as that template with
`content_variables`, any other as its `body`. Addresses carry Twilio's `whatsapp:`
prefix on the wire; the numbers this channel reports are bare E.164, as stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.core.channels import (
    OutboundRequest,
    ProviderMessage,
    SendResult,
    StatusUpdate,
)
from app.core.erasure import EraseOutcome
from app.messaging.channels.twilio_common import (
    TwilioSettings,
    attempt,
    build_client,
    delete_message,
    verify_signature,
)
from app.messaging.channels.twilio_sms import (
    accepted,
    list_provider_messages,
    parse_message_status,
    validity_period,
)

PREFIX = "whatsapp:"
#: Freeform text outside the 24-hour customer service window (use a template).
OUTSIDE_WINDOW = 63016


def address(number: str) -> str:
    """`number` as a WhatsApp address ("whatsapp:+44…"); an address is left as it is."""
    return number if number.startswith(PREFIX) else PREFIX + number


class TwilioWhatsAppChannel:
    """The `whatsapp` channel. Never raises for provider errors: the outcome says what
    happened, with the same mapping as SMS.

    Twilio usually reports 63016 (freeform outside the window) in the status callback,
    as `failed`; when the create itself is refused with it, the outcome is FAILED with
    error code 63016. Either way the fallback to SMS reads the recorded code.
    """

    name = "whatsapp"

    def __init__(self, settings: TwilioSettings, *, client: Any = None) -> None:
        self._settings = settings
        self.timing = settings.timing
        self._client = client if client is not None else build_client(settings)

    def warm_up(self) -> None:
        """Load the SDK's messages resource now (it is imported on first use), so the
        first send of a long-lived worker costs what every other does."""
        _ = self._client.messages

    def send(self, request: OutboundRequest) -> SendResult:
        """Ask Twilio to send one WhatsApp message: the template if the request names
        one, else the free text body."""
        message, refused = attempt(lambda: self._client.messages.create(**create_args(request)))
        if refused is not None:
            return refused
        return accepted(message)

    def parse_status(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """The status a callback reports ("read" included); None for a form without
        MessageSid and MessageStatus."""
        return parse_message_status(form)

    def verify(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        """True if Twilio signed `url` and `form` with the current or the previous token."""
        return verify_signature(self._settings.auth_tokens, url, form, signature)

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        """WhatsApp messages Twilio lists for these (bare) numbers, all pages, with bare
        numbers. Raises the SDK's errors: callers retry later."""
        return list_provider_messages(
            self._client,
            to=address(to) if to else None,
            from_=address(from_) if from_ else None,
            since=since,
            strip=PREFIX,
        )

    def erase_message(self, provider_sid: str) -> EraseOutcome:
        """Delete a WhatsApp message, sent or received, from Twilio's logs
        (`delete_message`)."""
        return delete_message(self._client, provider_sid)


def create_args(request: OutboundRequest) -> dict[str, Any]:
    """The Messages API arguments for one WhatsApp request."""
    args: dict[str, Any] = {
        "to": address(request.to),
        "status_callback": request.status_callback,
        "validity_period": validity_period(request.validity_seconds),
    }
    if request.sender.startswith("MG"):
        args["messaging_service_sid"] = request.sender
    else:
        args["from_"] = address(request.sender)
    if request.content_sid:
        args["content_sid"] = request.content_sid
        if request.content_variables:
            # Twilio wants the variables as one JSON object of strings.
            variables = {str(k): str(v) for k, v in request.content_variables.items()}
            args["content_variables"] = json.dumps(variables, ensure_ascii=False)
    else:
        args["body"] = request.body
    return args
