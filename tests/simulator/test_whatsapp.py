"""WhatsApp and landlines in the Twilio simulator: windows, templates, channel pairs, 30006."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from app.core.clock import FixedClock
from app.messaging.channels.twilio_common import TwilioSettings, build_client
from app.simulator.faults import carrier_error
from app.simulator.server import TwilioSimulator
from app.simulator.whatsapp import WINDOW, ContentError, Windows, mismatch, render
from tests.simulator.conftest import Receiver

ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "whatsapp-sim-token"
CLINIC = "+442071838750"
PATIENT = "+447400123456"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEMPLATE = "HX" + "3" * 32


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sim(receiver: Receiver, clock: FixedClock) -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        clock=clock.now,
        inbound_url=receiver.base_url + "/inbound",
        content_templates={TEMPLATE: "{{1}} says hello to {{ 2 }}"},
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: TwilioSimulator) -> Any:
    return build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.base_url))


def _free_text(client: Any, receiver: Receiver) -> Any:
    return client.messages.create(
        to="whatsapp:" + PATIENT,
        from_="whatsapp:" + CLINIC,
        body="Your results are ready",
        status_callback=receiver.base_url + "/status",
    )


def _statuses(receiver: Receiver) -> list[tuple[str, str | None]]:
    return [
        (c.form["MessageStatus"], c.form.get("ErrorCode"))
        for c in receiver.captured
        if "MessageStatus" in c.form
    ]


@pytest.mark.parametrize(
    ("wrote", "sent", "delivered"),
    [
        (None, NOW, False),
        (NOW, NOW + timedelta(minutes=5), True),
        (NOW, NOW + WINDOW - timedelta(seconds=1), True),
        (NOW, NOW + WINDOW, False),
        (NOW - timedelta(days=3), NOW, False),
    ],
)
def test_free_text_needs_the_24_hour_window(
    client: Any,
    sim: TwilioSimulator,
    receiver: Receiver,
    clock: FixedClock,
    wrote: datetime | None,
    sent: datetime,
    delivered: bool,
) -> None:
    if wrote is not None:
        clock.set(wrote)
        sim.inject_inbound("whatsapp:" + PATIENT, "whatsapp:" + CLINIC, "hi")
    clock.set(sent)
    created = _free_text(client, receiver)
    assert sim.flush()
    fetched = client.messages(created.sid).fetch()
    assert created.status == "queued"
    if delivered:
        assert _statuses(receiver)[-1] == ("delivered", None)
        assert (fetched.status, fetched.error_code) == ("delivered", None)
    else:
        assert _statuses(receiver) == [("queued", None), ("failed", "63016")]
        assert (fetched.status, fetched.error_code) == ("failed", 63016)


def test_an_sms_does_not_open_the_whatsapp_window(
    client: Any, sim: TwilioSimulator, receiver: Receiver
) -> None:
    sim.inject_inbound(PATIENT, CLINIC, "hi")
    assert sim.flush()
    _free_text(client, receiver)
    assert sim.flush()
    assert _statuses(receiver)[-1] == ("failed", "63016")


def test_a_template_is_rendered_and_needs_no_window(
    client: Any, sim: TwilioSimulator, receiver: Receiver
) -> None:
    created = client.messages.create(
        to="whatsapp:" + PATIENT,
        from_="whatsapp:" + CLINIC,
        content_sid=TEMPLATE,
        content_variables='{"1": "North Clinic", "2": "you"}',
    )
    assert sim.flush()
    fetched = client.messages(created.sid).fetch()
    assert (fetched.body, fetched.status) == ("North Clinic says hello to you", "delivered")
    assert sim.creates_to(PATIENT) == 1


@pytest.mark.parametrize(
    ("to", "from_", "code"),
    [
        ("whatsapp:" + PATIENT, CLINIC, 21910),
        (PATIENT, "whatsapp:" + CLINIC, 21910),
        ("whatsapp:07400123456", "whatsapp:" + CLINIC, 21211),
    ],
)
def test_bad_addresses_are_refused(client: Any, to: str, from_: str, code: int) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=to, from_=from_, body="hello")
    assert (raised.value.status, raised.value.code) == (400, code)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ('{"1": "a", "2": "b"}', "a says hello to b"),
        ('{"1": "a", "2": "b", "3": "unused"}', "a says hello to b"),
        ('{"1": "a"}', 21656),
        ('{"1": "a", "2": 2}', 21656),
        ('["a", "b"]', 21656),
        ("not json", 21656),
        (None, 21656),
    ],
)
def test_render(variables: str | None, expected: str | int) -> None:
    templates = {TEMPLATE: "{{1}} says hello to {{ 2 }}"}
    if isinstance(expected, str):
        assert render(templates, TEMPLATE, variables) == expected
    else:
        with pytest.raises(ContentError) as raised:
            render(templates, TEMPLATE, variables)
        assert raised.value.code == expected


def test_render_refuses_an_unknown_template() -> None:
    with pytest.raises(ContentError) as raised:
        render({}, TEMPLATE, "{}")
    assert raised.value.code == 21655


@pytest.mark.parametrize(
    ("to", "from_", "service", "expected"),
    [
        ("whatsapp:+447400123456", "whatsapp:+442071838750", None, False),
        ("+447400123456", "+442071838750", None, False),
        ("whatsapp:+447400123456", "+442071838750", None, True),
        ("whatsapp:+447400123456", None, "MG" + "a" * 32, False),
        ("+447400123456", "whatsapp:+442071838750", "MG" + "a" * 32, True),
    ],
)
def test_mismatch(to: str, from_: str | None, service: str | None, expected: bool) -> None:
    assert mismatch(to, from_, service) is expected


def test_windows_are_per_number_whatever_the_prefix() -> None:
    windows = Windows()
    windows.patient_wrote("whatsapp:" + PATIENT, NOW)
    assert windows.is_open(PATIENT, NOW + timedelta(hours=1))
    assert windows.is_open("whatsapp:" + PATIENT, NOW + timedelta(hours=23))
    assert not windows.is_open("+447400123457", NOW)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+441134960123", 30006),
        ("+442920180999", 30006),
        (PATIENT, None),
        ("+442071838750", 30006),
        ("not a number", None),
    ],
)
def test_carrier_error(number: str, code: int | None) -> None:
    assert carrier_error(number) == code


def test_a_text_to_a_landline_is_undelivered_with_30006(
    client: Any, sim: TwilioSimulator, receiver: Receiver
) -> None:
    created = client.messages.create(
        to="+441134960123", from_=CLINIC, body="Reminder", status_callback=receiver.base_url + "/s"
    )
    assert sim.flush()
    assert _statuses(receiver) == [("queued", None), ("sent", None), ("undelivered", "30006")]
    assert client.messages(created.sid).fetch().error_code == 30006
