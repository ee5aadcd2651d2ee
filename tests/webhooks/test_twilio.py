"""Twilio webhooks: signatures, malformed forms, duplicate replies, disordered statuses.

Signature cases use Flask's test client, which puts the raw request URI in RAW_URI and
REQUEST_URI as gunicorn and werkzeug's server do. The rest run over real HTTP, with the
simulator (or a poster that signs exactly as it does) calling the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.clinics.service import create_clinic
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.inbox import Stored, process_inbound, store_inbound
from app.messaging.models import InboundMessage
from app.messaging.states import InboundState, MessageState
from app.patients.models import Patient
from app.webhooks.twilio import EMPTY_TWIML
from tests.conftest import START, make_test_app
from tests.integration import (
    ACCOUNT_SID,
    CLINIC_SENDER,
    INBOUND_PATH,
    PATIENT_A,
    REMINDER_DUE,
    STATUS_PATH,
    TOMORROW,
    Harness,
    running_harness,
)
from tests.statements import counting

BASE = "https://wesaid.example.org"
CURRENT = "current-auth-token"
PREVIOUS = "previous-auth-token"
UNRELATED = "some-other-accounts-token"
INBOUND = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": ACCOUNT_SID,
    "From": PATIENT_A,
    "To": CLINIC_SENDER,
    "Body": "1",
}


@contextmanager
def _test_client(
    database_url: str, clock: FixedClock, redis_conn: Redis, **extra: Any
) -> Iterator[FlaskClient]:
    """A test client of an app served at BASE (behind a TLS proxy) with token CURRENT."""
    signed_app = make_test_app(
        database_url, clock, redis_conn, PUBLIC_BASE_URL=BASE, TWILIO_AUTH_TOKEN=CURRENT, **extra
    )
    try:
        yield signed_app.test_client()
    finally:
        with signed_app.app_context():
            db.engine.dispose()


@pytest.fixture
def signed(
    app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis
) -> Iterator[FlaskClient]:
    """A client of an app in the middle of a token rotation."""
    with _test_client(database_url, clock, redis_conn, TWILIO_AUTH_TOKEN_PREVIOUS=PREVIOUS) as c:
        yield c


@pytest.fixture
def h(app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[Harness]:
    with running_harness(database_url, clock, redis_conn) as harness:
        yield harness


def _sign(url: str, form: dict[str, str], token: str = CURRENT) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


SIGNATURE_CASES = [
    # (id, path requested, URL signed, form posted, form signed, token, headers, status)
    ("valid", INBOUND_PATH, BASE + INBOUND_PATH, INBOUND, INBOUND, CURRENT, {}, 200),
    ("missing-header", INBOUND_PATH, None, INBOUND, INBOUND, CURRENT, {}, 403),
    (
        "tampered-body",
        INBOUND_PATH,
        BASE + INBOUND_PATH,
        {**INBOUND, "Body": "2"},
        INBOUND,
        CURRENT,
        {},
        403,
    ),
    (
        "tampered-query",
        INBOUND_PATH + "?clinic=south",
        BASE + INBOUND_PATH + "?clinic=north",
        INBOUND,
        INBOUND,
        CURRENT,
        {},
        403,
    ),
    (
        "escaped-tilde-in-query",
        INBOUND_PATH + "?tag=%7Enorth",
        BASE + INBOUND_PATH + "?tag=%7Enorth",
        INBOUND,
        INBOUND,
        CURRENT,
        {},
        200,
    ),
    (
        "tilde-decoded-is-not-what-was-signed",
        INBOUND_PATH + "?tag=%7Enorth",
        BASE + INBOUND_PATH + "?tag=~north",
        INBOUND,
        INBOUND,
        CURRENT,
        {},
        403,
    ),
    (
        "empty-query-no-question-mark",
        INBOUND_PATH + "?",
        BASE + INBOUND_PATH,
        INBOUND,
        INBOUND,
        CURRENT,
        {},
        200,
    ),
    (
        "behind-tls-proxy",
        INBOUND_PATH,
        BASE + INBOUND_PATH,
        INBOUND,
        INBOUND,
        CURRENT,
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wesaid.example.org"},
        200,
    ),
    (
        "proxy-url-as-flask-sees-it",
        INBOUND_PATH,
        "http://localhost" + INBOUND_PATH,
        INBOUND,
        INBOUND,
        CURRENT,
        {"X-Forwarded-Proto": "https"},
        403,
    ),
    ("previous-token", INBOUND_PATH, BASE + INBOUND_PATH, INBOUND, INBOUND, PREVIOUS, {}, 200),
    ("unrelated-token", INBOUND_PATH, BASE + INBOUND_PATH, INBOUND, INBOUND, UNRELATED, {}, 403),
    (
        "status-with-escaped-query",
        STATUS_PATH + "?m=7&note=%7Ex",
        BASE + STATUS_PATH + "?m=7&note=%7Ex",
        {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"},
        {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"},
        CURRENT,
        {},
        200,
    ),
]


@pytest.mark.parametrize(
    ("path", "signed_url", "form", "signed_form", "token", "headers", "status"),
    [pytest.param(*case[1:], id=str(case[0])) for case in SIGNATURE_CASES],
)
def test_signature_is_checked_against_the_public_url(
    signed: FlaskClient,
    path: str,
    signed_url: str | None,
    form: dict[str, str],
    signed_form: dict[str, str],
    token: str,
    headers: dict[str, str],
    status: int,
) -> None:
    if signed_url is not None:
        headers = {**headers, "X-Twilio-Signature": _sign(signed_url, signed_form, token)}
    response = signed.post(path, data=form, headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "text/xml"
        assert response.get_data(as_text=True) == EMPTY_TWIML


@pytest.mark.parametrize(
    "path", [INBOUND_PATH, INBOUND_PATH + "?tag=%7Enorth", INBOUND_PATH + "?a=%2F&b=%C3%A9"]
)
def test_signature_without_a_raw_uri_from_the_server(signed: FlaskClient, path: str) -> None:
    """A WSGI server that gives no RAW_URI or REQUEST_URI: the app rebuilds the URL from
    PATH_INFO (quoted again) and the undecoded QUERY_STRING."""
    url = BASE + path
    response = signed.post(
        path,
        data=INBOUND,
        headers={"X-Twilio-Signature": _sign(url, INBOUND)},
        environ_overrides={"RAW_URI": "", "REQUEST_URI": ""},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["", "not-base64-at-all", "A" * 400])
def test_malformed_signature_header_is_refused(signed: FlaskClient, header: str) -> None:
    response = signed.post(INBOUND_PATH, data=INBOUND, headers={"X-Twilio-Signature": header})
    assert response.status_code == 403


def test_previous_token_is_refused_once_the_rotation_is_over(
    app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis
) -> None:
    signature = _sign(BASE + INBOUND_PATH, INBOUND, PREVIOUS)
    with _test_client(database_url, clock, redis_conn) as rotated:
        response = rotated.post(
            INBOUND_PATH, data=INBOUND, headers={"X-Twilio-Signature": signature}
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "form"),
    [
        pytest.param(
            INBOUND_PATH,
            {k: v for k, v in INBOUND.items() if k != "MessageSid"},
            id="inbound-without-sid",
        ),
        pytest.param(INBOUND_PATH, {**INBOUND, "MessageSid": "SM1\x00"}, id="inbound-sid-with-nul"),
        pytest.param(INBOUND_PATH, {**INBOUND, "MessageSid": "SM" + "1" * 70}, id="long-sid"),
        pytest.param(INBOUND_PATH, {}, id="inbound-empty"),
        pytest.param(
            STATUS_PATH + "?m=1", {"MessageSid": "SM" + "3" * 32}, id="status-without-status"
        ),
        pytest.param(STATUS_PATH + "?m=1", {"MessageStatus": "sent"}, id="status-without-sid"),
    ],
)
def test_malformed_form_with_a_valid_signature_is_a_400(
    signed: FlaskClient, path: str, form: dict[str, str]
) -> None:
    signature = _sign(BASE + path, form)
    response = signed.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("changed", "flag"),
    [
        pytest.param({"From": None}, "unknown_sender", id="without-from"),
        pytest.param({"To": None}, "unknown_clinic", id="without-to"),
        pytest.param({"From": "+44" + "7" * 60}, "unknown_sender", id="from-too-long"),
        pytest.param({"From": PATIENT_A + "\x00"}, "unknown_sender", id="from-with-nul"),
        pytest.param({"To": "\x00" * 3}, "unknown_clinic", id="to-with-nul"),
    ],
)
def test_an_inbound_with_a_bad_address_is_kept_for_staff(
    signed: FlaskClient, changed: dict[str, str | None], flag: str
) -> None:
    """The message is stored as well as it can be and answered 200, so Twilio does not
    retry; with no patient or clinic to match, it waits for staff."""
    create_clinic(
        "north",
        name="North",
        timezone="Europe/London",
        sender=CLINIC_SENDER,
        clock=FixedClock(START),
    )
    db.session.commit()
    form = {k: v for k, v in {**INBOUND, **changed}.items() if v is not None}
    signature = _sign(BASE + INBOUND_PATH, form)
    response = signed.post(INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    [stored] = db.session.scalars(select(InboundMessage))
    assert len(stored.from_number) <= 40
    assert "\x00" not in stored.from_number + stored.to_number
    assert stored.body == INBOUND["Body"]
    process_inbound(stored.id, FixedClock(START))
    assert db.session.get(InboundMessage, stored.id).flag_reason == flag  # type: ignore[union-attr]


def test_a_body_with_a_nul_is_kept_with_a_mark_where_it_was(signed: FlaskClient) -> None:
    form = {**INBOUND, "Body": "yes\x00 please"}
    signature = _sign(BASE + INBOUND_PATH, form)
    response = signed.post(INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    [stored] = db.session.scalars(select(InboundMessage))
    assert stored.body == "yes\ufffd please"


@pytest.mark.storage
def test_a_reply_is_stored_in_one_statement_and_its_repeat_in_two(app: Flask) -> None:
    """A webhook's whole work in the database: find the clinic by the number written
    to, the patient by theirs, and insert unless the sid is known, in one statement."""
    clinic = create_clinic(
        "north",
        name="North",
        timezone="Europe/London",
        sender=CLINIC_SENDER,
        clock=FixedClock(START),
    )
    patient = Patient(
        clinic_id=clinic.id,
        external_id="P1",
        phone=INBOUND["From"],
        locale="en",
        created_at=START,
        updated_at=START,
    )
    db.session.add(patient)
    db.session.commit()
    arrived = {
        "provider_sid": INBOUND["MessageSid"],
        "from_number": INBOUND["From"],
        "to_number": INBOUND["To"],
        "body": "1",
        "messaging_service_sid": None,
        "channel": Channel.SMS,
        "now": START,
    }
    with counting(db.engine) as first:
        stored = store_inbound(**arrived)
    with counting(db.engine) as again:
        repeat = store_inbound(**arrived)
    assert (first.statements, again.statements) == (1, 2)
    assert stored == Stored(repeat.id, True, patient.id)
    assert repeat == Stored(stored.id, False, patient.id)
    row = db.session.get(InboundMessage, stored.id)
    assert row is not None
    assert (row.clinic_id, row.state, row.received_at) == (clinic.id, InboundState.RECEIVED, START)


def test_escaped_query_verifies_over_real_http(h: Harness) -> None:
    """werkzeug's server passes the request line through as RAW_URI; the simulator's
    poster sends the URL byte for byte as it signed it."""
    form = {**INBOUND, "MessageSid": "SM" + "4" * 32}
    assert h.post(INBOUND_PATH + "?tag=%7Enorth&x=%2F", form) == 200
    assert [m.provider_sid for m in h.inbox()] == [form["MessageSid"]]


@pytest.mark.parametrize("concurrent", [False, True], ids=["one-after-another", "at-once"])
def test_duplicate_inbound_is_stored_and_processed_once(h: Harness, concurrent: bool) -> None:
    person = h.add_patient(h.add_clinic(), PATIENT_A)
    appointment_id = h.book(person, TOMORROW)
    form = {**INBOUND, "MessageSid": "SM" + "5" * 32}
    if concurrent:
        with ThreadPoolExecutor(max_workers=4) as pool:
            codes = list(pool.map(lambda _: h.post(INBOUND_PATH, form), range(4)))
    else:
        codes = [h.post(INBOUND_PATH, form) for _ in range(4)]
    h.drain()
    assert h.post(INBOUND_PATH, form) == 200  # a retry after processing changes nothing
    h.drain()
    [stored] = h.inbox()
    assert codes == [200] * 4
    assert (stored.state, stored.appointment_id) == (InboundState.PROCESSED, appointment_id)
    assert [m.kind for m in h.outbox(reply_to_id=stored.id)] == ["confirmed"]
    assert h.appointment(appointment_id).confirmed_at == h.clock.now()
    assert h.creates(PATIENT_A) == 1


# Each case: the callbacks in arrival order (status, error code), the state after each.
STATUS_CASES = [
    (
        "delivered-first",
        [("delivered", None), ("sent", None), ("queued", None), ("sent", None)],
        ["delivered", "delivered", "delivered", "delivered"],
        None,
    ),
    (
        "in-order-each-twice",
        [
            ("queued", None),
            ("queued", None),
            ("sent", None),
            ("sent", None),
            ("delivered", None),
            ("delivered", None),
        ],
        ["accepted", "accepted", "sent", "sent", "delivered", "delivered"],
        None,
    ),
    (
        "first-error-kept",
        [("undelivered", 30003), ("failed", 30008), ("sent", None), ("delivered", None)],
        ["undelivered", "undelivered", "undelivered", "undelivered"],
        30003,
    ),
    (
        "stale-status-brings-the-first-code",
        [("sent", None), ("delivered", None), ("undelivered", 30005), ("undelivered", 30007)],
        ["sent", "delivered", "delivered", "delivered"],
        30005,
    ),
]


@pytest.mark.parametrize(
    ("callbacks", "states", "error_code"),
    [pytest.param(*case[1:], id=str(case[0])) for case in STATUS_CASES],
)
def test_status_callbacks_only_move_forward(
    h: Harness,
    callbacks: list[tuple[str, int | None]],
    states: list[str],
    error_code: int | None,
) -> None:
    h.book(h.add_patient(h.add_clinic(), PATIENT_A), TOMORROW)
    h.sim.faults.callback_statuses = frozenset()  # these callbacks are the test's own
    h.advance_to(REMINDER_DUE)
    [message] = h.outbox(kind="reminder")
    assert message.state is MessageState.ACCEPTED
    seen = []
    for status, code in callbacks:
        form = {"MessageSid": message.provider_sid or "", "MessageStatus": status, "To": PATIENT_A}
        form |= {"ErrorCode": str(code)} if code else {}
        assert h.post(f"{STATUS_PATH}?m={message.id}", form) == 200
        seen.append(h.message(message.id).state.value)
    assert seen == states
    assert h.message(message.id).error_code == error_code


def test_callback_with_another_sid_is_ignored(h: Harness) -> None:
    h.book(h.add_patient(h.add_clinic(), PATIENT_A), TOMORROW)
    h.sim.faults.callback_statuses = frozenset()
    h.advance_to(REMINDER_DUE)
    [message] = h.outbox(kind="reminder")
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "failed", "ErrorCode": "30008"}
    assert h.post(f"{STATUS_PATH}?m={message.id}", form) == 200
    row = h.message(message.id)
    assert (row.state, row.error_code) == (MessageState.ACCEPTED, None)


def test_simulator_reordering_and_duplicating_still_ends_delivered(h: Harness) -> None:
    h.sim.faults.reorder = True
    h.sim.faults.duplicate_callbacks = 1.0
    h.book(h.add_patient(h.add_clinic(), PATIENT_A), TOMORROW)
    h.advance_to(REMINDER_DUE)
    [message] = h.outbox(kind="reminder")
    statuses = [w for w in h.sim.webhook_log if w.kind == "status"]
    assert message.state is MessageState.DELIVERED
    assert len(statuses) == 6
    assert {w.status_code for w in statuses} == {200}
