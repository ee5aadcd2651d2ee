"""Calls in the Twilio simulator: the REST resource through the real SDK, and TwiML played
to a scripted callee against a stand-in app."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from app.messaging.channels.twilio_common import TwilioSettings, build_client, verify_signature
from app.simulator.calls import MAX_DOCUMENTS, Prompt
from app.simulator.faults import CreateOutcome, call_refusal_code
from app.simulator.server import TwilioSimulator
from tests.simulator.twiml_app import TwimlApp

ACCOUNT_SID = "AC" + "4" * 32
AUTH_TOKEN = "calls-test-token"
CLINIC = "+442071838750"
PATIENT = "+447400123456"
LANDLINE = "+441214960555"


class Callee:
    """Takes every call the same way and presses the scripted keys in turn."""

    def __init__(self, *keys: str | None, outcome: str = "answered") -> None:
        self.keys = list(keys)
        self.outcome = outcome
        self.prompts: list[Prompt] = []

    def answer_call(self, *, to: str, from_: str) -> str:
        return self.outcome

    def press(self, *, to: str, prompt: Prompt) -> str | None:
        self.prompts.append(prompt)
        return self.keys.pop(0) if self.keys else None


@pytest.fixture
def app_server() -> Iterator[TwimlApp]:
    server = TwimlApp()
    yield server
    server.close()


@pytest.fixture
def sim() -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, seed=4)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: TwilioSimulator) -> Any:
    return build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.base_url))


def _call(client: Any, app: TwimlApp, to: str = PATIENT, **extra: Any) -> Any:
    return client.calls.create(
        to=to,
        from_=CLINIC,
        url=app.base_url + "/voice?m=1",
        status_callback=app.base_url + "/status?m=1",
        **extra,
    )


def _events(sim: TwilioSimulator, sid: str) -> list[tuple[str, str]]:
    call = sim.calls.find(sid)
    assert call is not None
    return [(e.kind, e.text) for e in call.transcript]


def test_create_fetch_and_the_resource_shape(client: Any, sim: TwilioSimulator) -> None:
    created = client.calls.create(to=PATIENT, from_=CLINIC, url="https://example.org/v")
    fetched = client.calls(created.sid).fetch()
    [entry] = sim.ledger
    assert created.sid.startswith("CA")
    assert len(created.sid) == 34
    assert (created.status, created.direction, created.to) == ("queued", "outbound-api", PATIENT)
    assert fetched.sid == created.sid
    assert fetched.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{created.sid}.json"
    assert (entry.kind, entry.outcome, entry.sid) == ("call", CreateOutcome.ACCEPTED, created.sid)


def test_unknown_call_is_404(client: Any) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls("CA" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_keys_go_to_the_gather_action_and_its_twiml_is_followed(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    app_server.pages = {
        "/voice": '<Response><Say language="cy-GB">Helo</Say>'
        '<Gather input="dtmf" numDigits="1" action="/menu?m=1" method="POST">'
        '<Say language="cy-GB">Pwyswch 1</Say></Gather><Say>never heard</Say></Response>',
        "/menu": "<Response><Say>Done</Say><Hangup/><Say>after hangup</Say></Response>",
    }
    callee = Callee("1")
    sim.callee = callee
    created = _call(client, app_server)
    assert sim.flush()
    [menu] = app_server.posts_to("/menu")
    assert menu.url == app_server.base_url + "/menu?m=1"
    assert verify_signature([AUTH_TOKEN], menu.url, menu.form, menu.signature)
    assert (menu.form["Digits"], menu.form["CallSid"]) == ("1", created.sid)
    assert callee.prompts == [Prompt("Pwyswch 1", "Helo Pwyswch 1", "cy-GB", 1)]
    assert _events(sim, created.sid) == [
        ("say", "Helo"),
        ("say", "Pwyswch 1"),
        ("press", "1"),
        ("say", "Done"),
        ("hangup", ""),
    ]


def test_no_key_falls_through_to_the_next_verb(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    app_server.pages = {
        "/voice": '<Response><Gather numDigits="1" action="/menu" timeout="7">'
        '<Say>Press 1</Say></Gather><Redirect method="POST">/again</Redirect></Response>',
        "/again": "<Response><Say>Goodbye</Say></Response>",
    }
    sim.callee = Callee(None)
    created = _call(client, app_server)
    assert sim.flush()
    call = client.calls(created.sid).fetch()
    [again] = app_server.posts_to("/again")
    assert app_server.posts_to("/menu") == []
    assert "Digits" not in again.form
    assert _events(sim, created.sid) == [
        ("say", "Press 1"),
        ("timeout", ""),
        ("say", "Goodbye"),
    ]
    assert (call.status, int(call.duration) >= 7) == ("completed", True)


def test_action_on_empty_result_posts_without_keys(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    app_server.pages = {
        "/voice": '<Response><Gather action="/menu" actionOnEmptyResult="true">'
        "<Say>Press</Say></Gather></Response>",
    }
    sim.callee = Callee(None)
    _call(client, app_server)
    assert sim.flush()
    [menu] = app_server.posts_to("/menu")
    assert menu.form["Digits"] == ""


@pytest.mark.parametrize(
    ("page", "event"),
    [
        ("<Response><Redirect>/voice</Redirect></Response>", ("error", "too many redirects")),
        ("<html>not twiml</html>", ("error", "not TwiML")),
        ("<Response><Dial>+447400123457</Dial></Response>", ("unsupported", "Dial")),
    ],
)
def test_broken_twiml_ends_the_call(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp, page: str, event: tuple[str, str]
) -> None:
    app_server.pages = {"/voice": page}
    created = _call(client, app_server)
    assert sim.flush()
    fetches = app_server.posts_to("/voice")
    assert _events(sim, created.sid)[-1] == event
    assert len(fetches) == (MAX_DOCUMENTS if event[1] == "too many redirects" else 1)
    assert client.calls(created.sid).fetch().status == "completed"


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed"])
def test_calls_nobody_takes_report_only_their_end(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp, outcome: str
) -> None:
    sim.callee = Callee(outcome=outcome)
    created = _call(client, app_server)
    assert sim.flush()
    [status] = app_server.posts_to("/status")
    assert app_server.posts_to("/voice") == []
    assert (status.form["CallStatus"], "CallDuration" in status.form) == (outcome, False)
    assert client.calls(created.sid).fetch().status == outcome


def test_forced_outcomes_win_over_the_callee(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    sim.callee = Callee()
    sim.faults.call_outcomes = {PATIENT: "busy"}
    created = _call(client, app_server)
    assert sim.flush()
    assert client.calls(created.sid).fetch().status == "busy"


def test_requested_progress_events_are_posted_in_order(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    events = ["initiated", "ringing", "answered", "completed"]
    _call(client, app_server, status_callback_event=events)
    assert sim.flush()
    posted = app_server.posts_to("/status")
    assert [(p.form["CallStatus"], p.form["SequenceNumber"]) for p in posted] == [
        ("initiated", "0"),
        ("ringing", "1"),
        ("in-progress", "2"),
        ("completed", "3"),
    ]
    assert all(verify_signature([AUTH_TOKEN], p.url, p.form, p.signature) for p in posted)
    assert posted[-1].form["CallbackSource"] == "call-progress-events"


def test_callback_faults_apply_to_calls(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    sim.faults.duplicate_callbacks = 1.0
    _call(client, app_server)
    assert sim.flush()
    assert [p.form["CallStatus"] for p in app_server.posts_to("/status")] == ["completed"] * 2


def test_list_filters_and_pages(client: Any, sim: TwilioSimulator, app_server: TwimlApp) -> None:
    sim.faults.call_outcomes = {LANDLINE: "busy"}
    sids = {_call(client, app_server, to=PATIENT).sid for _ in range(3)}
    busy = _call(client, app_server, to=LANDLINE).sid
    assert sim.flush()
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert {c.sid for c in client.calls.list(to=PATIENT)} == sids
    assert [c.sid for c in client.calls.list(status="busy")] == [busy]
    assert len(client.calls.list(start_time_after=hour_ago, page_size=2)) == 4
    assert client.calls.list(start_time_after=datetime.now(UTC) + timedelta(hours=1)) == []
    first = client.calls.page(page_size=3)
    assert [len(list(first)), len(list(first.next_page()))] == [3, 1]


def test_ledger_counts_calls_with_messages(
    client: Any, sim: TwilioSimulator, app_server: TwimlApp
) -> None:
    sim.faults.rate_limit_next = 1
    with contextlib.suppress(TwilioRestException):
        _call(client, app_server)
    _call(client, app_server)
    _call(client, app_server)
    assert [e.outcome for e in sim.ledger] == [
        CreateOutcome.RATE_LIMITED,
        CreateOutcome.ACCEPTED,
        CreateOutcome.ACCEPTED,
    ]
    assert (sim.creates_to(PATIENT), sim.creates_to(PATIENT, stored_only=True)) == (3, 2)
    assert sim.duplicate_sends() == 1  # the same callback URL twice: one call placed twice


@pytest.mark.parametrize(
    ("to", "from_", "url", "code"),
    [
        (PATIENT, CLINIC, "https://example.org/v", None),
        (LANDLINE, CLINIC, "http://127.0.0.1:5000/v", None),
        ("", CLINIC, "https://example.org/v", 21201),
        (PATIENT, None, "https://example.org/v", 21213),
        (PATIENT, CLINIC, None, 21205),
        (PATIENT, CLINIC, "ftp://example.org/v", 21205),
        ("07400123456", CLINIC, "https://example.org/v", 21211),
        (PATIENT, "clinic", "https://example.org/v", 21212),
    ],
)
def test_call_refusal_code(to: str, from_: str | None, url: str | None, code: int | None) -> None:
    assert call_refusal_code(to, from_, url) == code


def test_refused_calls_are_400_and_not_stored(client: Any, sim: TwilioSimulator) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(to="07400123456", from_=CLINIC, url="https://example.org/v")
    assert (raised.value.status, raised.value.code) == (400, 21211)
    assert len(sim.calls) == 0
    assert [(e.kind, e.outcome) for e in sim.ledger] == [("call", CreateOutcome.REJECTED)]
