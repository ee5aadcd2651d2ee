"""Erasure at the simulator, as Twilio does it, through the real SDK: deleting a
message's or a call's record (DELETE, 204) once it is final, and redacting a message (an
update with an empty Body), which blanks its text and keeps its numbers."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from app.core.erasure import EraseOutcome
from app.messaging.channels.twilio_common import TwilioSettings
from app.messaging.channels.twilio_sms import TwilioSMSChannel
from app.messaging.channels.twilio_voice import TwilioVoiceChannel
from app.messaging.channels.twilio_whatsapp import TwilioWhatsAppChannel
from app.simulator.server import TwilioSimulator
from tests.simulator.conftest import ACCOUNT_SID, AUTH_TOKEN

CLINIC = "+447911100000"
PATIENT = "+447911123456"
MISSING_CALL = "CA" + "0" * 32
MISSING_MESSAGE = "SM" + "0" * 32


def _settings(sim: TwilioSimulator) -> TwilioSettings:
    return TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.base_url, read_timeout=2.0)


def _call(twilio_client: Any, sim: TwilioSimulator) -> str:
    call = twilio_client.calls.create(to=PATIENT, from_=CLINIC, url="http://127.0.0.1:9/voice")
    return str(call.sid)


def test_redaction_blanks_the_body_and_keeps_the_rest(
    twilio_client: Any, sim: TwilioSimulator
) -> None:
    created = twilio_client.messages.create(to=PATIENT, from_=CLINIC, body="Hello Ada, 3pm")
    assert sim.flush()
    redacted = twilio_client.messages(created.sid).update(body="")
    stored = sim.messages.find(created.sid)
    assert stored is not None
    assert (redacted.body, stored.body, stored.to, stored.status) == ("", "", PATIENT, "delivered")
    assert stored.num_segments == 1


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"body": "something else"}, 400, 30400),
        ({"status": "canceled"}, 400, 30409),
        ({"status": "canceled", "body": ""}, 400, 30400),
    ],
)
def test_an_update_that_is_not_a_redaction_is_refused(
    twilio_client: Any, sim: TwilioSimulator, form: dict[str, str], status: int, code: int
) -> None:
    created = twilio_client.messages.create(to=PATIENT, from_=CLINIC, body="Hello")
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.messages(created.sid).update(**form)
    assert (refused.value.status, refused.value.code) == (status, code)
    stored = sim.messages.find(created.sid)
    assert stored is not None
    assert stored.body == "Hello"


def test_redacting_an_unknown_message_is_404(twilio_client: Any) -> None:
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.messages(MISSING_MESSAGE).update(body="")
    assert (refused.value.status, refused.value.code) == (404, 20404)


def test_deleting_an_ended_call_answers_204_with_no_body(
    twilio_client: Any, sim: TwilioSimulator
) -> None:
    sid = _call(twilio_client, sim)
    assert sim.flush()
    assert twilio_client.calls(sid).fetch().status == "completed"
    url = f"{sim.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json"
    answer = requests.delete(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert (answer.status_code, answer.content) == (204, b"")
    assert sim.calls.find(sid) is None
    assert twilio_client.calls.list() == []
    with pytest.raises(TwilioRestException) as gone:
        twilio_client.calls(sid).fetch()
    assert gone.value.status == 404
    again = requests.delete(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert (again.status_code, again.json()["code"]) == (404, 20404)


def test_deleting_a_final_message_answers_204_and_takes_its_numbers_too(
    twilio_client: Any, sim: TwilioSimulator
) -> None:
    created = twilio_client.messages.create(to=PATIENT, from_=CLINIC, body="Hello Ada, 3pm")
    reply = sim.inject_inbound(PATIENT, CLINIC, "1")
    assert sim.flush()
    for sid in (created.sid, reply):
        url = f"{sim.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"
        answer = requests.delete(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
        assert (answer.status_code, answer.content) == (204, b"")
        again = requests.delete(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
        assert (again.status_code, again.json()["code"]) == (404, 20404)
    assert sim.messages.all() == []
    assert twilio_client.messages.list(to=PATIENT) == []


def test_a_message_on_its_way_cannot_be_deleted(twilio_client: Any, sim: TwilioSimulator) -> None:
    created = twilio_client.messages.create(to=PATIENT, from_=CLINIC, body="Hello")
    assert sim.flush()
    sim.messages.update(created.sid, status="sent")
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.messages(created.sid).delete()
    assert (refused.value.status, refused.value.code) == (422, 20009)
    assert sim.messages.find(created.sid) is not None


def test_the_sdk_deletes_a_call(twilio_client: Any, sim: TwilioSimulator) -> None:
    sid = _call(twilio_client, sim)
    assert sim.flush()
    assert twilio_client.calls(sid).delete() is True
    assert sim.calls.find(sid) is None


def test_a_call_under_way_cannot_be_deleted(twilio_client: Any, sim: TwilioSimulator) -> None:
    sid = _call(twilio_client, sim)
    assert sim.flush()
    sim.calls.update(sid, status="in-progress")
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.calls(sid).delete()
    assert (refused.value.status, refused.value.code) == (422, 20009)
    assert "before it is complete" in refused.value.msg
    assert sim.calls.find(sid) is not None


def test_the_channels_say_what_became_of_each_erasure(
    twilio_client: Any, sim: TwilioSimulator
) -> None:
    settings = _settings(sim)
    sms = TwilioSMSChannel(settings)
    whatsapp = TwilioWhatsAppChannel(settings)
    voice = TwilioVoiceChannel(settings)
    text = twilio_client.messages.create(to=PATIENT, from_=CLINIC, body="Hello")
    chat = twilio_client.messages.create(
        to="whatsapp:" + PATIENT, from_="whatsapp:" + CLINIC, body="Hi"
    )
    on_its_way = twilio_client.messages.create(to=PATIENT, from_=CLINIC, body="Soon")
    ended, under_way = _call(twilio_client, sim), _call(twilio_client, sim)
    assert sim.flush()
    sim.messages.update(on_its_way.sid, status="sent")
    sim.calls.update(under_way, status="in-progress")
    assert sms.erase_message(text.sid) is EraseOutcome.ERASED
    assert whatsapp.erase_message(chat.sid) is EraseOutcome.ERASED
    assert sms.erase_message(text.sid) is EraseOutcome.ABSENT
    assert sms.erase_message(MISSING_MESSAGE) is EraseOutcome.ABSENT
    assert sms.erase_message(on_its_way.sid) is EraseOutcome.NOT_YET
    assert voice.erase_call(ended) is EraseOutcome.ERASED
    assert voice.erase_call(ended) is EraseOutcome.ABSENT
    assert voice.erase_call(under_way) is EraseOutcome.NOT_YET
    assert [m.sid for m in sim.messages.all()] == [on_its_way.sid]


def test_an_unreachable_provider_is_a_failure_to_retry(closed_port: str) -> None:
    settings = TwilioSettings(
        ACCOUNT_SID, AUTH_TOKEN, api_base=closed_port, connect_timeout=0.5, read_timeout=0.5
    )
    assert TwilioSMSChannel(settings).erase_message(MISSING_MESSAGE) is EraseOutcome.FAILED
    assert TwilioVoiceChannel(settings).erase_call(MISSING_CALL) is EraseOutcome.FAILED


@pytest.fixture
def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
