"""Voice calls through Twilio: the call fetches its TwiML from our voice webhooks.

A call is "sent" when Twilio accepts it (201 with a CallSid) and "delivered" when it
completes after being answered. Call statuses are mapped onto the message statuses of
`app.messaging.states`, so status callbacks and the reconcilers treat calls like texts:

| CallStatus          | reported as   | message state |
|---------------------|---------------|---------------|
| queued, initiated   | queued        | accepted      |
| ringing             | sending       | accepted      |
| in-progress         | sent          | sent          |
| completed           | delivered     | delivered     |
| busy, no-answer     | undelivered   | undelivered   |
| failed              | failed        | failed        |
| canceled            | canceled      | failed        |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

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
    TwilioSettings,
    as_utc,
    attempt,
    build_client,
    erase_attempt,
    error_code,
    verify_signature,
)
from app.messaging.voice import GATHER_SECONDS, Gather, VoiceStep

#: Seconds the phone may ring before Twilio gives up (no-answer).
RING_SECONDS = 30
#: Call progress events we want callbacks for: answered (in-progress) and the end.
CALLBACK_EVENTS = ("answered", "completed")

CALL_STATUSES: dict[str, str] = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "sending",
    "in-progress": "sent",
    "completed": "delivered",
    "busy": "undelivered",
    "no-answer": "undelivered",
    "failed": "failed",
    "canceled": "canceled",
}


def provider_status(call_status: str) -> str | None:
    """The message status a CallStatus stands for; None for one we do not know."""
    return CALL_STATUSES.get(call_status.strip().lower())


class TwilioVoiceChannel:
    """The `voice` channel. Never raises for provider errors: the outcome says what
    happened, with the same mapping as SMS (201 ACCEPTED with the CallSid; 429 or a
    refused connection RETRY; a 4xx FAILED; a timeout or 5xx UNKNOWN).

    Refuses (FAILED, no request made) a request without `twiml_url` or whose sender
    is a Messaging Service: a call needs a number to call from.
    """

    name = "voice"

    def __init__(
        self, settings: TwilioSettings, *, client: Any = None, ring_seconds: int = RING_SECONDS
    ) -> None:
        self._settings = settings
        self.timing = settings.timing
        self._client = client if client is not None else build_client(settings)
        self._ring_seconds = ring_seconds

    def warm_up(self) -> None:
        """Load the SDK's calls resource now (it is imported on first use), so the
        first send of a long-lived worker costs what every other does."""
        _ = self._client.calls

    def send(self, request: OutboundRequest) -> SendResult:
        """Ask Twilio to place one call that fetches `request.twiml_url` when answered."""
        if not request.twiml_url:
            return SendResult(SendOutcome.FAILED, detail="voice request without a TwiML URL")
        if request.sender.startswith("MG"):
            return SendResult(SendOutcome.FAILED, detail="a call needs a number to call from")
        call, refused = attempt(lambda: self._client.calls.create(**self._create_args(request)))
        if refused is not None:
            return refused
        return SendResult(
            SendOutcome.ACCEPTED,
            provider_sid=call.sid,
            provider_status=provider_status(call.status or "") or "queued",
        )

    def _create_args(self, request: OutboundRequest) -> dict[str, Any]:
        return {
            "to": request.to,
            "from_": request.sender,
            "url": request.twiml_url,
            "method": "POST",
            "status_callback": request.status_callback,
            "status_callback_event": list(CALLBACK_EVENTS),
            "status_callback_method": "POST",
            "timeout": self._ring_seconds,
        }

    def parse_status(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """The status a call progress callback reports, as a message status; None for a
        form without CallSid and a known CallStatus."""
        sid = provider_sid(form.get("CallSid"))
        status = provider_status(form.get("CallStatus") or "")
        if not sid or status is None:
            return None
        return StatusUpdate(sid, status, error_code(form.get("ErrorCode")))

    def verify(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        """True if Twilio signed `url` and `form` with the current or the previous token."""
        return verify_signature(self._settings.auth_tokens, url, form, signature)

    def erase_call(self, provider_sid: str) -> EraseOutcome:
        """Delete Twilio's record of a call (erasure). A call still under way is not
        deleted (NOT_YET: try again once it has ended). WeSaid's calls only speak and take
        key presses, never `<Record>`, so there is no recording to delete besides the
        record itself. Never raises (see `erase_attempt`)."""
        return erase_attempt(lambda: self._client.calls(provider_sid).delete())

    def list_messages(
        self, *, to: str | None = None, from_: str | None = None, since: datetime | None = None
    ) -> list[ProviderMessage]:
        """Calls Twilio lists for these filters, all pages, as provider messages with an
        empty body and the mapped status; `since` compares against the start time.
        Raises the SDK's errors: callers retry later."""
        filters: dict[str, Any] = {"to": to, "from_": from_, "start_time_after": as_utc(since)}
        found = self._client.calls.list(
            **{k: v for k, v in filters.items() if v is not None}, page_size=200
        )
        return [_provider_message(call) for call in found]


def _provider_message(call: Any) -> ProviderMessage:
    return ProviderMessage(
        sid=call.sid,
        direction=call.direction or "outbound-api",
        from_number=getattr(call, "_from", None) or "",  # the SDK names it _from
        to=call.to or "",
        body="",
        status=provider_status(call.status or "") or "queued",
        error_code=None,
        created_at=call.date_created,
    )


def render_twiml(step: VoiceStep, url_for: Callable[[Gather], str]) -> str:
    """`step` as the TwiML Twilio follows: the lines said, then a `<Gather>` of keys
    followed by a `<Redirect>` to its own action (taken when no key is pressed), or a
    `<Hangup>`. `url_for` gives the URL of a gather's action."""
    response = VoiceResponse()
    for line in step.lines:
        response.say(line, language=step.language)
    if step.gather is not None:
        action = url_for(step.gather)
        gather = response.gather(
            input="dtmf",
            num_digits=step.gather.digits,
            action=action,
            method="POST",
            timeout=GATHER_SECONDS,
        )
        for prompt in step.gather.prompts:
            gather.say(prompt, language=step.language)
        response.redirect(action, method="POST")
    if step.hangup:
        response.hangup()
    return str(response)
