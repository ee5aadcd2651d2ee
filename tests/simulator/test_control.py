"""The simulator driven from another process (`app.simulator.control`): creates held
unanswered until released, creates refused or left unanswered by share, texts that
patients send, and the webhooks kept for the caller to post."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from app.messaging.channels.twilio_common import TwilioSettings, build_client
from app.simulator.control import Control, WebhookFeed
from app.simulator.faults import CreateOutcome
from app.simulator.server import TwilioSimulator
from tests.simulator.conftest import ACCOUNT_SID, AUTH_TOKEN

CLINIC = "+442071838750"
PATIENT = "+447911123456"
INBOUND_URL = "http://127.0.0.1:9/webhooks/twilio/sms"


@pytest.fixture
def controlled() -> Iterator[tuple[TwilioSimulator, str]]:
    feed = WebhookFeed(AUTH_TOKEN)
    sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, inbound_url=INBOUND_URL, seed=3, poster=feed)
    url = sim.start(control=Control(sim, feed))
    yield sim, url
    sim.stop()


def _call(url: str, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 (the loopback simulator)
        f"{url}/_control/{name}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())


def _send(client: Any, message_id: int) -> Any:
    return client.messages.create(
        to=PATIENT,
        from_=CLINIC,
        body="Reminder",
        status_callback=f"http://127.0.0.1:9/webhooks/twilio/status?m={message_id}",
    )


def test_a_held_create_waits_unanswered_then_is_taken(
    controlled: tuple[TwilioSimulator, str],
) -> None:
    sim, url = controlled
    client = build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=url))
    _call(url, "POST", "hold", {"count": 1})
    answered: list[str] = []
    sender = threading.Thread(target=lambda: answered.append(_send(client, 7).sid))
    sender.start()
    [held] = _call(url, "GET", "held?wait=10")["held"]
    assert held == {
        "to": PATIENT,
        "status_callback": "http://127.0.0.1:9/webhooks/twilio/status?m=7",
    }
    assert (answered, len(sim.ledger)) == ([], 0)  # nothing taken while it is held
    assert _call(url, "POST", "release") == {"released": 1}
    sender.join(timeout=10)
    [entry] = sim.ledger
    assert answered == [entry.sid]
    assert entry.outcome is CreateOutcome.ACCEPTED
    assert _send(client, 8).sid != entry.sid  # the hold was for one create only


def test_a_hold_nothing_met_can_be_called_off(controlled: tuple[TwilioSimulator, str]) -> None:
    sim, url = controlled
    client = build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=url))
    _call(url, "POST", "hold", {"count": 1})
    _call(url, "POST", "hold", {"count": 0})
    assert _send(client, 1).sid == sim.ledger[0].sid
    assert _call(url, "GET", "held")["held"] == []


@pytest.mark.parametrize(
    ("share", "status", "outcome", "stored"),
    [
        ("rate_limit_share", 429, CreateOutcome.RATE_LIMITED, 0),
        ("server_error_share", 500, CreateOutcome.SERVER_ERROR, 1),
    ],
)
def test_a_strained_provider_refuses_by_share(
    controlled: tuple[TwilioSimulator, str],
    share: str,
    status: int,
    outcome: CreateOutcome,
    stored: int,
) -> None:
    sim, url = controlled
    client = build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=url))
    assert _call(url, "POST", "faults", {share: 1.0}) == {"set": [share]}
    with pytest.raises(TwilioRestException) as raised:
        _send(client, 1)
    assert raised.value.status == status
    assert ([e.outcome for e in sim.ledger], len(sim.messages)) == ([outcome], stored)


def test_shares_draw_per_request_and_the_same_for_the_same_seed() -> None:
    def outcomes() -> list[CreateOutcome]:
        sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, seed=11)
        sim.faults.rate_limit_share = 0.5
        client = build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.start()))
        try:
            for attempt in range(12):  # the same message, tried again and again
                with contextlib.suppress(TwilioRestException):
                    _send(client, 1 + attempt % 2)
            return [e.outcome for e in sim.ledger]
        finally:
            sim.stop()

    first = outcomes()
    assert set(first) == {CreateOutcome.RATE_LIMITED, CreateOutcome.ACCEPTED}
    assert outcomes() == first


def test_texts_patients_send_are_kept_with_their_webhooks_for_the_caller(
    controlled: tuple[TwilioSimulator, str],
) -> None:
    _sim, url = controlled
    texts = [[PATIENT, CLINIC, "Thank you"], [PATIENT, CLINIC, "See you then"]]
    sids = _call(url, "POST", "inbound", {"texts": texts})["sids"]
    taken = _call(url, "GET", "webhooks?max=10&wait=5")
    assert [(w["kind"], w["url"], w["form"]["MessageSid"]) for w in taken["webhooks"]] == [
        ("inbound", INBOUND_URL, sid) for sid in sids
    ]
    assert _call(url, "GET", "webhooks?max=10")["webhooks"] == []  # taken once
    truth = _call(url, "GET", "truth")
    assert sorted(m["sid"] for m in truth["messages"] if m["direction"] == "inbound") == sorted(
        sids
    )


def test_unknown_faults_and_routes_are_refused(controlled: tuple[TwilioSimulator, str]) -> None:
    _sim, url = controlled
    with pytest.raises(urllib.error.HTTPError) as unknown_fault:
        _call(url, "POST", "faults", {"no_such_fault": 1})
    with pytest.raises(urllib.error.HTTPError) as unknown_route:
        _call(url, "POST", "nothing")
    assert (unknown_fault.value.code, unknown_route.value.code) == (400, 404)
