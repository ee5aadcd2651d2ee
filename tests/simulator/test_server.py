"""The Twilio simulator, driven by the real `twilio` SDK over HTTP."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from app.messaging.channels.twilio_common import TwilioSettings, build_client, verify_signature
from app.simulator.faults import CreateOutcome, refusal_code
from app.simulator.server import TwilioSimulator

CLINIC = "+447911100000"
SERVICE = "MG" + "a" * 32
SERVICE_NUMBER = "+447911100001"
PATIENT = "+447911123456"
OTHER = "+447911123457"
SID = re.compile(r"^SM[0-9a-f]{32}$")
# The same account as the `sim` fixture.
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "simulator-test-token"


def _send(client: Any, to: str = PATIENT, callback: str | None = None, **extra: Any) -> Any:
    args: dict[str, Any] = {"to": to, "body": "Your appointment is on Monday", **extra}
    if "messaging_service_sid" not in extra:
        args.setdefault("from_", CLINIC)
    if callback:
        args["status_callback"] = callback
    return client.messages.create(**args)


def _statuses(captured: list[Any]) -> list[str]:
    return [c.form["MessageStatus"] for c in captured if "MessageStatus" in c.form]


def test_create_is_ledgered_and_can_be_fetched(twilio_client: Any, sim: TwilioSimulator) -> None:
    created = _send(twilio_client, validity_period=3600)
    fetched = twilio_client.messages(created.sid).fetch()
    assert SID.match(created.sid)
    assert (created.status, created.direction, created.num_segments) == (
        "queued",
        "outbound-api",
        "1",
    )
    assert (fetched.to, fetched.from_, fetched.body) == (PATIENT, CLINIC, created.body)
    assert fetched.account_sid == ACCOUNT_SID
    assert isinstance(fetched.date_created, datetime)
    assert fetched.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{created.sid}.json"
    [entry] = sim.ledger
    assert (entry.sid, entry.to, entry.from_, entry.outcome) == (
        created.sid,
        PATIENT,
        CLINIC,
        CreateOutcome.ACCEPTED,
    )


def test_messaging_service_sends_from_its_number(twilio_client: Any) -> None:
    created = _send(twilio_client, messaging_service_sid=SERVICE)
    assert (created.status, created.from_, created.messaging_service_sid) == (
        "accepted",
        SERVICE_NUMBER,
        SERVICE,
    )


def test_list_pages_through_every_message(twilio_client: Any, sim: TwilioSimulator) -> None:
    sids = {_send(twilio_client, to=f"+4479111{i:05d}").sid for i in range(120)}
    first = twilio_client.messages.page(page_size=50)
    second = first.next_page()
    third = second.next_page()
    listed = twilio_client.messages.list(page_size=50)
    assert [len(list(p)) for p in (first, second, third)] == [50, 50, 20]
    assert third.next_page() is None
    assert {m.sid for m in listed} == sids
    assert len(listed) == 120


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, 3),
        ({"to": PATIENT}, 2),
        ({"to": OTHER}, 1),
        ({"from_": CLINIC}, 3),
        ({"from_": PATIENT}, 0),
        ({"date_sent_after": datetime.now(UTC) - timedelta(hours=1)}, 3),
        ({"date_sent_after": datetime.now(UTC) + timedelta(hours=1)}, 0),
        ({"date_sent_before": datetime.now(UTC) - timedelta(hours=1)}, 0),
        ({"date_sent": datetime.now(UTC).strftime("%Y-%m-%d")}, 3),
    ],
)
def test_list_filters(
    twilio_client: Any, sim: TwilioSimulator, filters: dict[str, Any], expected: int
) -> None:
    for to in (PATIENT, PATIENT, OTHER):
        _send(twilio_client, to=to)
    assert sim.flush()
    assert len(twilio_client.messages.list(**filters)) == expected


def test_redaction_blanks_the_body(twilio_client: Any) -> None:
    created = _send(twilio_client)
    redacted = twilio_client.messages(created.sid).update(body="")
    assert redacted.body == ""
    assert twilio_client.messages(created.sid).fetch().body == ""
    assert twilio_client.messages(created.sid).fetch().num_segments == "1"


@pytest.mark.parametrize(
    ("account", "token", "status", "code"),
    [
        (ACCOUNT_SID, "wrong-token", 401, 20003),
        ("AC" + "6" * 32, AUTH_TOKEN, 401, 20003),
    ],
)
def test_bad_credentials_are_refused(
    sim: TwilioSimulator, account: str, token: str, status: int, code: int
) -> None:
    client = build_client(TwilioSettings(account, token, api_base=sim.base_url))
    with pytest.raises(TwilioRestException) as raised:
        _send(client)
    assert (raised.value.status, raised.value.code) == (status, code)
    assert len(sim.messages) == 0


def test_unknown_sid_is_404(twilio_client: Any) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages("SM" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


@pytest.mark.parametrize(
    ("to", "body", "rejects", "code"),
    [
        (PATIENT, "hello", {PATIENT: 21211}, 21211),
        (PATIENT, "hello", {PATIENT: 21614}, 21614),
        (PATIENT, "hello", {PATIENT: 21408}, 21408),
        (PATIENT, "hello", {PATIENT: 21610}, 21610),
        ("07911123456", "hello", {}, 21211),
        (PATIENT, "", {}, 21602),
        (PATIENT, "x" * 1601, {}, 21617),
    ],
)
def test_refused_creates_are_400_and_not_stored(
    twilio_client: Any,
    sim: TwilioSimulator,
    to: str,
    body: str,
    rejects: dict[str, int],
    code: int,
) -> None:
    sim.faults.reject_numbers = rejects
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages.create(to=to, from_=CLINIC, body=body)
    assert (raised.value.status, raised.value.code) == (400, code)
    assert PATIENT not in str(raised.value.msg)
    assert len(sim.messages) == 0
    assert [(e.outcome, e.error_code) for e in sim.ledger] == [(CreateOutcome.REJECTED, code)]


def test_rate_limit_counts_down_and_stores_nothing(
    twilio_client: Any, sim: TwilioSimulator
) -> None:
    sim.faults.rate_limit_next = 2
    codes = []
    for _ in range(3):
        try:
            _send(twilio_client)
            codes.append(201)
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes == [20429, 20429, 201]
    assert len(sim.messages) == 1
    assert sim.creates_to(PATIENT) == 3
    assert sim.creates_to(PATIENT, stored_only=True) == 1


def test_server_error_happens_after_the_message_is_stored(
    twilio_client: Any, sim: TwilioSimulator
) -> None:
    sim.faults.server_error_next = 1
    with pytest.raises(TwilioRestException) as raised:
        _send(twilio_client)
    [entry] = sim.ledger
    assert raised.value.status == 500
    assert entry.outcome == CreateOutcome.SERVER_ERROR
    assert [m.sid for m in twilio_client.messages.list(to=PATIENT)] == [entry.sid]


def test_status_callbacks_are_signed_like_twilio(
    twilio_client: Any, sim: TwilioSimulator, receiver: Any
) -> None:
    url = receiver.base_url + "/webhooks/twilio/status/42?v=%7E1"
    created = _send(twilio_client, callback=url)
    assert sim.flush()
    assert _statuses(receiver.captured) == ["queued", "sent", "delivered"]
    for hook in receiver.captured:
        assert hook.url == url
        assert verify_signature([AUTH_TOKEN], hook.url, hook.form, hook.signature)
        assert (hook.form["MessageSid"], hook.form["SmsSid"]) == (created.sid, created.sid)
        assert (hook.form["To"], hook.form["From"]) == (PATIENT, CLINIC)
        assert hook.form["AccountSid"] == ACCOUNT_SID
        assert "ErrorCode" not in hook.form
    assert {(r.kind, r.path, r.status_code) for r in sim.webhook_log} == {
        ("status", "/webhooks/twilio/status/42", 200)
    }
    assert twilio_client.messages(created.sid).fetch().status == "delivered"


@pytest.mark.parametrize(
    ("code", "statuses"),
    [
        (30006, ["queued", "sent", "undelivered"]),
        (30003, ["queued", "sent", "undelivered"]),
        (30001, ["queued", "failed"]),
    ],
)
def test_undelivered_numbers_report_their_error(
    twilio_client: Any,
    sim: TwilioSimulator,
    receiver: Any,
    code: int,
    statuses: list[str],
) -> None:
    sim.faults.undelivered_numbers = {PATIENT: code}
    created = _send(twilio_client, callback=receiver.base_url + "/status/1")
    assert sim.flush()
    assert _statuses(receiver.captured) == statuses
    assert receiver.captured[-1].form["ErrorCode"] == str(code)
    fetched = twilio_client.messages(created.sid).fetch()
    assert (fetched.status, fetched.error_code) == (statuses[-1], code)


def test_duplicate_callbacks_post_each_status_twice(
    twilio_client: Any, sim: TwilioSimulator, receiver: Any
) -> None:
    sim.faults.duplicate_callbacks = 1.0
    _send(twilio_client, callback=receiver.base_url + "/status/1")
    assert sim.flush()
    assert sorted(_statuses(receiver.captured)) == sorted(["queued", "sent", "delivered"] * 2)


def test_reorder_shuffles_callbacks_but_not_the_status(
    twilio_client: Any, sim: TwilioSimulator, receiver: Any
) -> None:
    sim.faults.reorder = True
    sids = [_send(twilio_client, callback=receiver.base_url + f"/status/{i}").sid for i in range(8)]
    assert sim.flush()
    orders = {
        tuple(c.form["MessageStatus"] for c in receiver.captured if c.form["MessageSid"] == sid)
        for sid in sids
    }
    assert any(order != ("queued", "sent", "delivered") for order in orders)
    assert all(sorted(order) == ["delivered", "queued", "sent"] for order in orders)
    assert {twilio_client.messages(sid).fetch().status for sid in sids} == {"delivered"}


def test_dropped_callbacks_are_never_posted(
    twilio_client: Any, sim: TwilioSimulator, receiver: Any
) -> None:
    sim.faults.drop_callbacks = 1.0
    created = _send(twilio_client, callback=receiver.base_url + "/status/1")
    assert sim.flush()
    assert receiver.captured == []
    assert [r.dropped for r in sim.webhook_log] == [True, True, True]
    assert twilio_client.messages(created.sid).fetch().status == "delivered"


class _Replier:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def reply(self, *, to: str, from_: str, body: str) -> str | None:
        self.asked.append((to, from_, body))
        return "1"


@pytest.mark.parametrize(
    ("sender", "clinic_number", "service"),
    [
        ({"from_": CLINIC}, CLINIC, None),
        ({"messaging_service_sid": SERVICE}, SERVICE_NUMBER, SERVICE),
    ],
)
def test_delivered_messages_get_signed_replies(
    twilio_client: Any,
    sim: TwilioSimulator,
    receiver: Any,
    sender: dict[str, str],
    clinic_number: str,
    service: str | None,
) -> None:
    replier, delivered = _Replier(), []
    sim.responder = replier
    sim.on_delivered = lambda to, body, sid: delivered.append((to, sid))
    created = twilio_client.messages.create(to=PATIENT, body="Reply 1 to confirm", **sender)
    assert sim.flush()
    [hook] = receiver.captured
    assert hook.url == sim.inbound_url
    assert verify_signature([AUTH_TOKEN], hook.url, hook.form, hook.signature)
    assert (hook.form["From"], hook.form["To"], hook.form["Body"]) == (PATIENT, clinic_number, "1")
    assert hook.form.get("MessagingServiceSid") == service
    assert (hook.form["NumMedia"], hook.form["ApiVersion"]) == ("0", "2010-04-01")
    assert hook.form["MessageSid"] == hook.form["SmsMessageSid"] == hook.form["SmsSid"]
    assert replier.asked == [(PATIENT, clinic_number, "Reply 1 to confirm")]
    assert delivered == [(PATIENT, created.sid)]
    [inbound] = twilio_client.messages.list(from_=PATIENT)
    assert (inbound.direction, inbound.sid) == ("inbound", hook.form["MessageSid"])


@pytest.mark.parametrize(("drop", "posted"), [(0.0, 1), (1.0, 0)])
def test_injected_inbound_is_listed_even_when_its_webhook_is_dropped(
    twilio_client: Any, sim: TwilioSimulator, receiver: Any, drop: float, posted: int
) -> None:
    sim.faults.drop_inbound = drop
    sid = sim.inject_inbound(PATIENT, SERVICE_NUMBER, "STOP")
    assert sim.flush()
    assert len(receiver.captured) == posted
    [listed] = twilio_client.messages.list(from_=PATIENT)
    assert (listed.sid, listed.body, listed.direction, listed.status) == (
        sid,
        "STOP",
        "inbound",
        "received",
    )


@pytest.mark.parametrize(
    ("callbacks", "rate_limited", "duplicates"),
    [
        (["/status/1", "/status/2"], 0, 0),
        (["/status/1", "/status/1"], 0, 1),
        (["/status/1", "/status/1", "/status/1"], 0, 2),
        (["/status/1", "/status/1"], 1, 0),
    ],
)
def test_duplicate_sends_counts_stored_repeats(
    twilio_client: Any,
    sim: TwilioSimulator,
    receiver: Any,
    callbacks: list[str],
    rate_limited: int,
    duplicates: int,
) -> None:
    sim.faults.rate_limit_next = rate_limited
    for path in callbacks:
        with contextlib.suppress(TwilioRestException):
            _send(twilio_client, callback=receiver.base_url + path)
    assert sim.duplicate_sends() == duplicates


@pytest.mark.parametrize(
    ("to", "from_", "service", "body", "code"),
    [
        (PATIENT, CLINIC, None, "hello", None),
        (PATIENT, None, SERVICE, "hello", None),
        ("", CLINIC, None, "hello", 21604),
        (PATIENT, None, None, "hello", 21603),
        (PATIENT, CLINIC, None, None, 21602),
        (PATIENT, CLINIC, None, "", 21602),
        (PATIENT, CLINIC, None, "x" * 1600, None),
        (PATIENT, CLINIC, None, "x" * 1601, 21617),
        (PATIENT, None, "MG" + "f" * 32, "hello", 21701),
        ("447911123456", CLINIC, None, "hello", 21211),
        ("+44 7911 123456", CLINIC, None, "hello", 21211),
    ],
)
def test_refusal_code(
    to: str, from_: str | None, service: str | None, body: str | None, code: int | None
) -> None:
    assert refusal_code(to, from_, service, body, {SERVICE}) == code
