"""The Twilio SMS channel against the Twilio simulator, through the real SDK."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from app.core.channels import OutboundRequest, SendOutcome, StatusUpdate
from app.core.erasure import EraseOutcome
from app.messaging.channels.twilio_common import rebase_url, verify_signature
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from app.simulator.faults import CreateOutcome
from app.simulator.server import TwilioSimulator

# The same account and tokens as the fixtures in conftest.py.
AUTH_TOKEN = "channel-test-token"
PREVIOUS_TOKEN = "channel-test-token-before-rotation"
SERVICE = "MG" + "b" * 32
SERVICE_NUMBER = "+447911100002"
CLINIC = "+447911100000"
PATIENT = "+447911123456"
BODY = "Reminder: clinic on Monday at 10:30. Reply 1 to confirm."


def _request(to: str = PATIENT, sender: str = CLINIC, message_id: int = 1) -> OutboundRequest:
    return OutboundRequest(
        message_id=message_id,
        to=to,
        body=BODY,
        sender=sender,
        status_callback=f"https://wesaid.example.org/webhooks/twilio/status/{message_id}",
        validity_seconds=7200,
    )


def _private(detail: str) -> bool:
    return PATIENT not in detail and BODY not in detail and "7911" not in detail


@pytest.mark.parametrize(
    ("sender", "status", "from_number"),
    [(CLINIC, "queued", CLINIC), (SERVICE, "accepted", SERVICE_NUMBER)],
)
def test_accepted_send_has_sid_and_status(
    channel: TwilioSMSChannel, sim: TwilioSimulator, sender: str, status: str, from_number: str
) -> None:
    result = channel.send(_request(sender=sender))
    [entry] = sim.ledger
    stored = sim.messages.find(result.provider_sid or "")
    assert (result.outcome, result.provider_status) == (SendOutcome.ACCEPTED, status)
    assert (entry.sid, entry.from_, entry.validity_period) == (result.provider_sid, sender, 7200)
    assert entry.status_callback == _request().status_callback
    assert stored is not None
    assert stored.from_number == from_number


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (21211, SendOutcome.FAILED),
        (21614, SendOutcome.FAILED),
        (21408, SendOutcome.FAILED),
        (21610, SendOutcome.OPTED_OUT),
    ],
)
def test_refusals_map_to_outcomes(
    channel: TwilioSMSChannel, sim: TwilioSimulator, code: int, outcome: SendOutcome
) -> None:
    sim.faults.reject_numbers = {PATIENT: code}
    result = channel.send(_request())
    assert (result.outcome, result.error_code, result.provider_sid) == (outcome, code, None)
    assert _private(result.detail)
    assert len(sim.messages) == 0


def test_rate_limit_is_retried_later_and_nothing_is_stored(
    channel: TwilioSMSChannel, sim: TwilioSimulator
) -> None:
    sim.faults.rate_limit_next = 1
    result = channel.send(_request())
    assert (result.outcome, result.error_code) == (SendOutcome.RETRY, 20429)
    assert result.retry_after is not None
    assert 2.0 <= result.retry_after <= 4.0
    assert len(sim.messages) == 0
    assert channel.send(_request()).outcome == SendOutcome.ACCEPTED


def test_server_error_is_unknown_but_the_message_is_listed(
    channel: TwilioSMSChannel, sim: TwilioSimulator
) -> None:
    sim.faults.server_error_next = 1
    result = channel.send(_request())
    [listed] = channel.list_messages(to=PATIENT)
    assert (result.outcome, result.provider_sid) == (SendOutcome.UNKNOWN, None)
    assert _private(result.detail)
    assert (listed.sid, listed.direction, listed.body) == (sim.ledger[0].sid, "outbound-api", BODY)


def test_hang_is_unknown_within_the_read_timeout(
    channel: TwilioSMSChannel, sim: TwilioSimulator
) -> None:
    sim.faults.hang_next = 1
    started = time.monotonic()
    result = channel.send(_request())
    elapsed = time.monotonic() - started
    assert result.outcome == SendOutcome.UNKNOWN
    assert 0.4 <= elapsed < 2.0
    assert sim.ledger[0].outcome == CreateOutcome.HUNG
    assert len(channel.list_messages(to=PATIENT)) == 1


def test_refused_connection_is_retried(
    make_channel: Callable[..., TwilioSMSChannel], closed_port_url: str
) -> None:
    result = make_channel(closed_port_url).send(_request())
    assert result.outcome == SendOutcome.RETRY
    assert result.retry_after is not None
    assert result.retry_after > 0


def test_connection_lost_after_sending_is_unknown(
    make_channel: Callable[..., TwilioSMSChannel], hang_up_url: str
) -> None:
    result = make_channel(hang_up_url).send(_request())
    assert result.outcome == SendOutcome.UNKNOWN
    assert _private(result.detail)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            {"MessageSid": "SM1", "MessageStatus": "delivered"},
            StatusUpdate("SM1", "delivered", None),
        ),
        (
            {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30006"},
            StatusUpdate("SM1", "undelivered", 30006),
        ),
        (
            {"MessageSid": "SM1", "MessageStatus": "Sent", "ErrorCode": ""},
            StatusUpdate("SM1", "sent", None),
        ),
        (
            {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "abc"},
            StatusUpdate("SM1", "failed", None),
        ),
        ({"MessageSid": "SM1", "SmsStatus": "received", "Body": "1"}, None),
        ({"MessageStatus": "sent"}, None),
        ({}, None),
    ],
)
def test_parse_status(
    channel: TwilioSMSChannel, form: dict[str, str], expected: StatusUpdate | None
) -> None:
    assert channel.parse_status(form) == expected


URL = "https://wesaid.example.org/webhooks/twilio/status/12"
FORM = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": PATIENT}


def _sign(token: str, url: str = URL, form: dict[str, str] = FORM) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


@pytest.mark.parametrize(
    ("url", "form", "signature", "valid"),
    [
        (URL, FORM, _sign(AUTH_TOKEN), True),
        (URL, {**FORM, "MessageStatus": "failed"}, _sign(AUTH_TOKEN), False),
        (URL + "3", FORM, _sign(AUTH_TOKEN), False),
        (URL, FORM, None, False),
        (URL, FORM, "", False),
        (URL, FORM, "not a signature at all", False),
        (URL, FORM, _sign(PREVIOUS_TOKEN), True),
        (URL, FORM, _sign("some-other-account-token"), False),
        (URL + "?v=%7E1", FORM, _sign(AUTH_TOKEN, URL + "?v=%7E1"), True),
        (URL + "?v=~1", FORM, _sign(AUTH_TOKEN, URL + "?v=%7E1"), False),
        # The SDK's validator reads an empty query as none, as Twilio signed it.
        (URL + "?", FORM, _sign(AUTH_TOKEN), True),
        (URL, {}, _sign(AUTH_TOKEN, URL, {}), True),
        ("https://wesaid.example.org:bad/x", FORM, _sign(AUTH_TOKEN), False),
    ],
)
def test_verify(
    channel: TwilioSMSChannel,
    url: str,
    form: dict[str, str],
    signature: str | None,
    valid: bool,
) -> None:
    assert channel.verify(url, form, signature) is valid
    assert verify_signature([AUTH_TOKEN, PREVIOUS_TOKEN], url, form, signature) is valid


def test_no_tokens_verify_nothing() -> None:
    assert verify_signature([], URL, FORM, _sign(AUTH_TOKEN)) is False


def test_list_messages_filters_and_reads_every_page(
    channel: TwilioSMSChannel, sim: TwilioSimulator
) -> None:
    for i in range(205):
        sim.inject_inbound(f"+4479111{i:05d}", CLINIC, f"reply {i}")
    sent = channel.send(_request())
    everything = channel.list_messages(since=datetime.now(UTC) - timedelta(minutes=5))
    mine = channel.list_messages(to=PATIENT)
    replies = channel.list_messages(from_="+447911100007")
    assert len(everything) == 206
    assert [m.sid for m in mine] == [sent.provider_sid]
    assert [(m.direction, m.body, m.to) for m in replies] == [("inbound", "reply 7", CLINIC)]
    assert channel.list_messages(since=datetime.now(UTC) + timedelta(minutes=5)) == []
    assert all(isinstance(m.created_at, datetime) for m in everything)


def test_erasure_deletes_the_provider_copy_once_it_is_final(
    channel: TwilioSMSChannel, sim: TwilioSimulator
) -> None:
    sent = channel.send(_request())
    assert sim.flush()
    assert channel.erase_message(sent.provider_sid or "") is EraseOutcome.ERASED
    assert sim.messages.find(sent.provider_sid or "") is None


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=50&Page=1",
            "http://127.0.0.1:9999",
            "http://127.0.0.1:9999/2010-04-01/Accounts/AC1/Messages.json?PageSize=50&Page=1",
        ),
        (
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts.json",
            "http://sim.local:8080/twilio/",
            "http://sim.local:8080/twilio/2010-04-01/Accounts.json",
        ),
        ("https://api.twilio.com/2010-04-01/x", None, "https://api.twilio.com/2010-04-01/x"),
        ("https://example.org/x", "http://127.0.0.1:9999", "https://example.org/x"),
        ("https://nottwilio.com/x", "http://127.0.0.1:9999", "https://nottwilio.com/x"),
    ],
)
def test_rebase_url(url: str, base: str | None, expected: str) -> None:
    assert rebase_url(url, base) == expected


def test_validity_is_clamped_to_what_twilio_accepts(
    channel: TwilioSMSChannel, sim: TwilioSimulator
) -> None:
    week: Any = 7 * 24 * 3600
    request = OutboundRequest(1, PATIENT, BODY, CLINIC, _request().status_callback, week)
    assert channel.send(request).outcome == SendOutcome.ACCEPTED
    assert sim.ledger[0].validity_period == 36000
