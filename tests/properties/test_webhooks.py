"""Every Twilio webhook, correctly signed, with hostile fields: never a 500.

An inbound text is kept whenever it has a usable sid (200, exactly one row for it), and
refused with 400 only when nothing could be stored. Status callbacks and call steps
answer 200 or 400 and never write what they cannot.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from app.core.inputs import provider_sid
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from tests.properties.values import nasty_text, spoiled

BASE = "https://wesaid.example.org"
TOKEN = "test-auth-token"
VALID_INBOUND = {
    "MessageSid": "SM" + "a" * 32,
    "From": "+447400123456",
    "To": "+442071838750",
    "Body": "1",
    "MessagingServiceSid": "MG" + "b" * 32,
}
_SIDS = itertools.count(1)
VALID_STATUS = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "failed", "ErrorCode": "30006"}
VALID_CALL_STATUS = {"CallSid": "CA" + "d" * 32, "CallStatus": "completed", "ErrorCode": "0"}
QUERY = st.one_of(nasty_text, st.sampled_from(["1", "7", "0", "2147483647"]))


def _post(client: FlaskClient, path: str, query: dict[str, str], form: dict[str, str]) -> int:
    full = f"{path}?{urlencode(query)}" if query else path
    signature = RequestValidator(TOKEN).compute_signature(BASE + full, form)
    response = client.post(full, data=form, headers={"X-Twilio-Signature": signature})
    return response.status_code


def _count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.storage
@given(form=spoiled(VALID_INBOUND))
def test_an_inbound_text_is_kept_or_refused_whole(
    app: Flask, client: FlaskClient, form: dict[str, str]
) -> None:
    if form.get("MessageSid") == VALID_INBOUND["MessageSid"]:
        form["MessageSid"] = f"SM{next(_SIDS):032x}"  # each example a new message
    before = _count(InboundMessage)
    status = _post(client, "/webhooks/twilio/sms", {}, form)
    assert status in (200, 400)
    added = _count(InboundMessage) - before
    assert added in ((0, 1) if status == 200 else (0,))
    if status == 400:  # refused only when there is no sid to store the message under
        assert provider_sid(form.get("MessageSid")) is None


@pytest.mark.storage
@given(form=st.one_of(spoiled(VALID_STATUS), spoiled(VALID_CALL_STATUS)), message=QUERY)
def test_a_status_callback_never_fails(
    app: Flask, client: FlaskClient, form: dict[str, str], message: str
) -> None:
    before = _count(OutboundMessage)
    status = _post(client, "/webhooks/twilio/status", {"m": message}, form)
    assert status in (200, 400)
    assert _count(OutboundMessage) == before


@pytest.mark.storage
@given(
    step=st.sampled_from(["/webhooks/twilio/voice", "/webhooks/twilio/voice/menu"]),
    message=QUERY,
    reasks=QUERY,
    digits=st.one_of(nasty_text, st.sampled_from(["1", "2", "3", "*", "12", "#"])),
    call=st.one_of(st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True), nasty_text),
)
def test_a_call_step_answers_twiml_or_a_clear_400(
    app: Flask, client: FlaskClient, step: str, message: str, reasks: str, digits: str, call: str
) -> None:
    before = _count(InboundMessage)
    form = {"CallSid": call, "Digits": digits}
    status = _post(client, step, {"m": message, "t": reasks}, form)
    assert status in (200, 400)
    assert _count(InboundMessage) == before  # no such message: nothing to press a key on


@pytest.mark.storage
@given(session=QUERY, question=nasty_text, reasks=QUERY, digits=nasty_text)
def test_a_survey_key_press_answers_twiml_or_a_clear_400(
    app: Flask, client: FlaskClient, session: str, question: str, reasks: str, digits: str
) -> None:
    query = {"s": session, "q": question, "t": reasks}
    status = _post(client, "/webhooks/twilio/voice/answer", query, {"Digits": digits})
    assert status in (200, 400)
