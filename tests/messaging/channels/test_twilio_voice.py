"""The Twilio voice channel against the Twilio simulator, through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.core.channels import OutboundRequest, SendOutcome, StatusUpdate
from app.messaging.channels.twilio_common import TwilioSettings, verify_signature
from app.messaging.channels.twilio_voice import CALL_STATUSES, TwilioVoiceChannel
from app.messaging.states import MessageState, state_for_provider_status
from app.simulator.faults import CreateOutcome
from app.simulator.server import TwilioSimulator
from tests.simulator.twiml_app import TwimlApp

ACCOUNT_SID = "AC" + "9" * 32
AUTH_TOKEN = "voice-channel-token"
CLINIC = "+442071838750"
PATIENT = "+441134960123"  # a landline: calls may go where texts cannot
HANGUP = "<Response><Say>Hello</Say><Hangup/></Response>"


@pytest.fixture
def app_server() -> Iterator[TwimlApp]:
    server = TwimlApp({"/webhooks/twilio/voice": HANGUP})
    yield server
    server.close()


@pytest.fixture
def sim() -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, seed=9)
    simulator.start()
    yield simulator
    simulator.stop()


def _channel(api_base: str, read_timeout: float = 0.5) -> TwilioVoiceChannel:
    settings = TwilioSettings(
        ACCOUNT_SID, AUTH_TOKEN, api_base=api_base, connect_timeout=0.5, read_timeout=read_timeout
    )
    return TwilioVoiceChannel(settings, ring_seconds=20)


@pytest.fixture
def channel(sim: TwilioSimulator) -> TwilioVoiceChannel:
    return _channel(sim.base_url)


def _request(
    app: TwimlApp | None, *, sender: str = CLINIC, twiml: bool = True, message_id: int = 4
) -> OutboundRequest:
    base = app.base_url if app else "https://wesaid.example.org"
    return OutboundRequest(
        message_id=message_id,
        to=PATIENT,
        body="North Clinic: a reminder by telephone.",
        sender=sender,
        status_callback=f"{base}/webhooks/twilio/status?m={message_id}",
        validity_seconds=3600,
        channel="voice",
        kind="reminder",
        twiml_url=f"{base}/webhooks/twilio/voice?m={message_id}" if twiml else None,
    )


def test_a_call_is_placed_and_reports_answered_then_completed(
    channel: TwilioVoiceChannel, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    request = _request(app_server)
    result = channel.send(request)
    assert sim.flush()
    [entry] = sim.ledger
    [fetch] = app_server.posts_to("/webhooks/twilio/voice")
    statuses = app_server.posts_to("/webhooks/twilio/status")
    assert (result.outcome, result.provider_status) == (SendOutcome.ACCEPTED, "queued")
    assert (result.provider_sid or "").startswith("CA")
    assert (entry.kind, entry.sid, entry.to, entry.from_) == (
        "call",
        result.provider_sid,
        PATIENT,
        CLINIC,
    )
    assert entry.status_callback == request.status_callback
    assert fetch.url == request.twiml_url
    assert verify_signature([AUTH_TOKEN], fetch.url, fetch.form, fetch.signature)
    assert (fetch.form["CallStatus"], fetch.form["Direction"]) == ("in-progress", "outbound-api")
    assert (fetch.form["From"], fetch.form["To"]) == (CLINIC, PATIENT)
    assert [s.form["CallStatus"] for s in statuses] == ["in-progress", "completed"]
    assert all(verify_signature([AUTH_TOKEN], s.url, s.form, s.signature) for s in statuses)
    assert [channel.parse_status(s.form) for s in statuses] == [
        StatusUpdate(result.provider_sid or "", "sent", None),
        StatusUpdate(result.provider_sid or "", "delivered", None),
    ]
    assert int(statuses[-1].form["CallDuration"]) >= 1
    call = sim.calls.find(result.provider_sid or "")
    assert call is not None
    assert (call.status, call.callback_events) == ("completed", ("answered", "completed"))


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed"])
def test_a_call_nobody_takes_is_undelivered_or_failed(
    channel: TwilioVoiceChannel, sim: TwilioSimulator, app_server: TwimlApp, outcome: str
) -> None:
    sim.faults.call_outcomes = {PATIENT: outcome}
    result = channel.send(_request(app_server))
    assert sim.flush()
    [status] = app_server.posts_to("/webhooks/twilio/status")
    update = channel.parse_status(status.form)
    assert app_server.posts_to("/webhooks/twilio/voice") == []
    assert update is not None
    assert status.form["CallStatus"] == outcome
    assert state_for_provider_status(update.status) == (
        MessageState.FAILED if outcome == "failed" else MessageState.UNDELIVERED
    )
    assert result.outcome is SendOutcome.ACCEPTED


@pytest.mark.parametrize(
    ("fault", "value", "outcome", "code"),
    [
        ("reject_numbers", {PATIENT: 21211}, SendOutcome.FAILED, 21211),
        ("reject_numbers", {PATIENT: 21215}, SendOutcome.FAILED, 21215),
        ("rate_limit_next", 1, SendOutcome.RETRY, 20429),
        ("server_error_next", 1, SendOutcome.UNKNOWN, 20500),
    ],
)
def test_refusals_map_like_sms(
    channel: TwilioVoiceChannel,
    sim: TwilioSimulator,
    fault: str,
    value: object,
    outcome: SendOutcome,
    code: int,
) -> None:
    setattr(sim.faults, fault, value)
    result = channel.send(_request(None))
    assert (result.outcome, result.error_code) == (outcome, code)
    assert "4960123" not in result.detail
    assert [e.kind for e in sim.ledger] == ["call"]


def test_a_hung_create_is_unknown(channel: TwilioVoiceChannel, sim: TwilioSimulator) -> None:
    sim.faults.hang_next = 1
    result = channel.send(_request(None))
    assert result.outcome is SendOutcome.UNKNOWN
    assert sim.ledger[0].outcome is CreateOutcome.HUNG
    assert [c.sid for c in channel.list_messages(to=PATIENT)] == [sim.ledger[0].sid]


def test_a_refused_connection_is_retried(closed_port_url: str) -> None:
    result = _channel(closed_port_url).send(_request(None))
    assert result.outcome is SendOutcome.RETRY
    assert result.retry_after is not None


@pytest.mark.parametrize(
    ("sender", "twiml", "detail"),
    [(CLINIC, False, "TwiML"), ("MG" + "d" * 32, True, "number to call from")],
)
def test_requests_a_call_cannot_serve_are_refused_without_a_request(
    channel: TwilioVoiceChannel, sim: TwilioSimulator, sender: str, twiml: bool, detail: str
) -> None:
    result = channel.send(_request(None, sender=sender, twiml=twiml))
    assert (result.outcome, result.provider_sid) == (SendOutcome.FAILED, None)
    assert detail in result.detail
    assert sim.ledger == []


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"CallSid": "CA1", "CallStatus": "completed"}, StatusUpdate("CA1", "delivered", None)),
        ({"CallSid": "CA1", "CallStatus": "in-progress"}, StatusUpdate("CA1", "sent", None)),
        ({"CallSid": "CA1", "CallStatus": "ringing"}, StatusUpdate("CA1", "sending", None)),
        ({"CallSid": "CA1", "CallStatus": "Busy"}, StatusUpdate("CA1", "undelivered", None)),
        ({"CallSid": "CA1", "CallStatus": "no-answer"}, StatusUpdate("CA1", "undelivered", None)),
        (
            {"CallSid": "CA1", "CallStatus": "failed", "ErrorCode": "13227"},
            StatusUpdate("CA1", "failed", 13227),
        ),
        ({"CallSid": "CA1", "CallStatus": "canceled"}, StatusUpdate("CA1", "canceled", None)),
        ({"CallSid": "CA1", "CallStatus": "on-hold"}, None),
        ({"CallStatus": "completed"}, None),
        ({"MessageSid": "SM1", "MessageStatus": "delivered"}, None),
    ],
)
def test_parse_status(
    channel: TwilioVoiceChannel, form: dict[str, str], expected: StatusUpdate | None
) -> None:
    assert channel.parse_status(form) == expected


@pytest.mark.parametrize("call_status", sorted(CALL_STATUSES))
def test_every_call_status_maps_to_a_known_message_state(call_status: str) -> None:
    assert state_for_provider_status(CALL_STATUSES[call_status]) is not None


def test_list_messages_lists_calls(
    channel: TwilioVoiceChannel, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    sent = [channel.send(_request(app_server, message_id=i)).provider_sid for i in range(3)]
    assert sim.flush()
    listed = channel.list_messages(to=PATIENT, since=datetime.now(UTC) - timedelta(minutes=5))
    assert sorted(m.sid for m in listed) == sorted(s or "" for s in sent)
    assert {(m.status, m.body, m.from_number, m.direction) for m in listed} == {
        ("delivered", "", CLINIC, "outbound-api")
    }
    assert channel.list_messages(to=CLINIC) == []
    assert channel.list_messages(since=datetime.now(UTC) + timedelta(minutes=5)) == []
