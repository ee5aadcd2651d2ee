"""The Twilio WhatsApp channel against the Twilio simulator, through the real SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.channels import OutboundRequest, SendOutcome, StatusUpdate
from app.core.clock import FixedClock
from app.messaging.channels.twilio_common import TwilioSettings
from app.messaging.channels.twilio_whatsapp import TwilioWhatsAppChannel, address, create_args
from app.simulator.server import TwilioSimulator
from tests.simulator.conftest import Receiver

ACCOUNT_SID = "AC" + "8" * 32
AUTH_TOKEN = "whatsapp-test-token"
CLINIC = "+442071838750"
SERVICE = "MG" + "c" * 32
SERVICE_NUMBER = "+442071838751"
PATIENT = "+447400123456"
TEMPLATE = "HX" + "1" * 32
TEMPLATE_TEXT = "{{1}}: your appointment is on {{2}} at {{3}}. Reply 1 to confirm."
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VARIABLES = {"1": "North Clinic", "2": "Tuesday 3 March", "3": "14:00"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    sink = Receiver()
    yield sink
    sink.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sim(receiver: Receiver, clock: FixedClock) -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        seed=5,
        clock=clock.now,
        inbound_url=receiver.base_url + "/webhooks/twilio/sms",
        service_numbers={SERVICE: SERVICE_NUMBER},
        content_templates={TEMPLATE: TEMPLATE_TEXT},
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def channel(sim: TwilioSimulator) -> TwilioWhatsAppChannel:
    return TwilioWhatsAppChannel(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.base_url))


def _request(
    receiver: Receiver,
    *,
    sender: str = CLINIC,
    content_sid: str | None = None,
    variables: dict[str, str] | None = None,
    message_id: int = 1,
) -> OutboundRequest:
    return OutboundRequest(
        message_id=message_id,
        to=PATIENT,
        body="North Clinic: your appointment is on Tuesday. Reply 1 to confirm.",
        sender=sender,
        status_callback=f"{receiver.base_url}/webhooks/twilio/status?m={message_id}",
        validity_seconds=3600,
        channel="whatsapp",
        content_sid=content_sid,
        content_variables=variables,
    )


def _statuses(receiver: Receiver) -> list[tuple[str, str | None]]:
    return [
        (c.form["MessageStatus"], c.form.get("ErrorCode"))
        for c in receiver.captured
        if "MessageStatus" in c.form
    ]


@pytest.mark.parametrize(
    ("content_sid", "variables", "expected"),
    [
        (None, None, {"body": "North Clinic: your appointment is on Tuesday. Reply 1 to confirm."}),
        (TEMPLATE, VARIABLES,
         {"content_sid": TEMPLATE, "content_variables": json.dumps(VARIABLES)}),
        (TEMPLATE, {"1": "Clinig y Gogledd"},
         {"content_sid": TEMPLATE, "content_variables": '{"1": "Clinig y Gogledd"}'}),
        (TEMPLATE, None, {"content_sid": TEMPLATE}),
    ],
)  # fmt: skip
def test_create_args(
    receiver: Receiver,
    content_sid: str | None,
    variables: dict[str, str] | None,
    expected: dict[str, Any],
) -> None:
    args = create_args(_request(receiver, content_sid=content_sid, variables=variables))
    assert args == {
        "to": "whatsapp:" + PATIENT,
        "from_": "whatsapp:" + CLINIC,
        "status_callback": f"{receiver.base_url}/webhooks/twilio/status?m=1",
        "validity_period": 3600,
        **expected,
    }


@pytest.mark.parametrize(
    ("number", "expected"),
    [(PATIENT, "whatsapp:" + PATIENT), ("whatsapp:" + PATIENT, "whatsapp:" + PATIENT)],
)
def test_address(number: str, expected: str) -> None:
    assert address(number) == expected


def test_freeform_inside_the_window_is_delivered(
    channel: TwilioWhatsAppChannel, sim: TwilioSimulator, receiver: Receiver
) -> None:
    sim.inject_inbound("whatsapp:" + PATIENT, "whatsapp:" + CLINIC, "Hello")
    assert sim.flush()
    result = channel.send(_request(receiver))
    assert sim.flush()
    stored = sim.messages.find(result.provider_sid or "")
    assert (result.outcome, result.provider_status) == (SendOutcome.ACCEPTED, "queued")
    assert stored is not None
    assert (stored.to, stored.from_number) == ("whatsapp:" + PATIENT, "whatsapp:" + CLINIC)
    assert _statuses(receiver) == [("queued", None), ("sent", None), ("delivered", None)]


def test_freeform_outside_the_window_fails_with_63016(
    channel: TwilioWhatsAppChannel, sim: TwilioSimulator, receiver: Receiver, clock: FixedClock
) -> None:
    sim.inject_inbound("whatsapp:" + PATIENT, "whatsapp:" + CLINIC, "Hello")
    clock.set(NOW + timedelta(hours=24, seconds=1))
    result = channel.send(_request(receiver))
    assert sim.flush()
    statuses = [c.form for c in receiver.captured if "MessageStatus" in c.form]
    assert result.outcome is SendOutcome.ACCEPTED  # Twilio refuses it later, not at create
    assert _statuses(receiver) == [("queued", None), ("failed", "63016")]
    assert channel.parse_status(statuses[-1]) == StatusUpdate(
        result.provider_sid or "", "failed", 63016
    )


def test_a_template_goes_outside_the_window(
    channel: TwilioWhatsAppChannel, sim: TwilioSimulator, receiver: Receiver
) -> None:
    result = channel.send(_request(receiver, content_sid=TEMPLATE, variables=VARIABLES))
    assert sim.flush()
    stored = sim.messages.find(result.provider_sid or "")
    [entry] = sim.ledger
    assert stored is not None
    assert stored.body == "North Clinic: your appointment is on Tuesday 3 March at 14:00. " + (
        "Reply 1 to confirm."
    )
    assert (entry.content_sid, entry.body) == (TEMPLATE, "")
    assert _statuses(receiver)[-1] == ("delivered", None)


@pytest.mark.parametrize(
    ("content_sid", "variables", "code"),
    [
        ("HX" + "9" * 32, {"1": "x", "2": "y", "3": "z"}, 21655),
        (TEMPLATE, {"1": "North Clinic"}, 21656),
    ],
)
def test_bad_templates_fail_at_once(
    channel: TwilioWhatsAppChannel,
    sim: TwilioSimulator,
    receiver: Receiver,
    content_sid: str,
    variables: dict[str, str],
    code: int,
) -> None:
    result = channel.send(_request(receiver, content_sid=content_sid, variables=variables))
    assert (result.outcome, result.error_code, result.provider_sid) == (
        SendOutcome.FAILED,
        code,
        None,
    )
    assert len(sim.messages) == 0


@pytest.mark.parametrize(
    ("fault", "outcome", "code"),
    [
        ("rate_limit_next", SendOutcome.RETRY, 20429),
        ("server_error_next", SendOutcome.UNKNOWN, 20500),
    ],
)
def test_faults_map_like_sms(
    channel: TwilioWhatsAppChannel,
    sim: TwilioSimulator,
    receiver: Receiver,
    fault: str,
    outcome: SendOutcome,
    code: int,
) -> None:
    setattr(sim.faults, fault, 1)
    result = channel.send(_request(receiver, content_sid=TEMPLATE, variables=VARIABLES))
    assert (result.outcome, result.error_code) == (outcome, code)


def test_a_messaging_service_sends_from_its_whatsapp_number(
    channel: TwilioWhatsAppChannel, sim: TwilioSimulator, receiver: Receiver
) -> None:
    result = channel.send(
        _request(receiver, sender=SERVICE, content_sid=TEMPLATE, variables=VARIABLES)
    )
    stored = sim.messages.find(result.provider_sid or "")
    assert stored is not None
    assert (stored.from_number, stored.messaging_service_sid) == (
        "whatsapp:" + SERVICE_NUMBER,
        SERVICE,
    )


class _Replier:
    def reply(self, *, to: str, from_: str, body: str) -> str | None:
        return "1" if to == PATIENT and from_ == CLINIC else None


def test_replies_come_back_on_whatsapp_and_open_the_window(
    channel: TwilioWhatsAppChannel, sim: TwilioSimulator, receiver: Receiver, clock: FixedClock
) -> None:
    sim.responder = _Replier()
    channel.send(_request(receiver, content_sid=TEMPLATE, variables=VARIABLES))
    assert sim.flush()
    [reply] = [c.form for c in receiver.captured if "Body" in c.form]
    assert (reply["From"], reply["To"], reply["Body"]) == (
        "whatsapp:" + PATIENT,
        "whatsapp:" + CLINIC,
        "1",
    )
    assert reply["WaId"] == PATIENT.removeprefix("+")
    clock.set(NOW + timedelta(hours=23))
    assert sim.windows.is_open(PATIENT, clock.now())
    [listed] = channel.list_messages(from_=PATIENT)
    assert (listed.from_number, listed.to, listed.direction) == (PATIENT, CLINIC, "inbound")


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "read"}, StatusUpdate("SM1", "read", None)),
        (
            {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "63016"},
            StatusUpdate("SM1", "failed", 63016),
        ),
        ({"MessageSid": "SM1", "SmsStatus": "received", "Body": "1"}, None),
    ],
)
def test_parse_status(
    channel: TwilioWhatsAppChannel, form: dict[str, str], expected: StatusUpdate | None
) -> None:
    assert channel.parse_status(form) == expected
