"""Where an event may go, checked again when it is sent: a host name is looked up, and
an attempt whose name leads inside a private network is refused without a connection.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from app.core.clock import FixedClock
from app.events import outbox
from app.events.endpoints import internal_address
from app.events.models import DeliveryState, EventType, Target
from app.events.payloads import Reason
from app.events.sender import Call, Transport, send
from tests.events.conftest import Booked, deliveries, reply, subscribe


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier NAT)
        "127.0.0.1",
        "169.254.169.254",  # cloud instance metadata
        "0.0.0.0",  # noqa: S104 (an address checked, nothing bound)
        "224.0.0.1",
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:10.0.0.1",
    ],
)
def test_addresses_inside_a_private_network(address: str) -> None:
    assert internal_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_addresses_on_the_internet(address: str) -> None:
    assert not internal_address(address)


class Resolver:
    """Answers every name with the addresses given, and remembers what it was asked."""

    def __init__(self, *addresses: str, fails: bool = False) -> None:
        self.addresses = list(addresses)
        self.fails = fails
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        if self.fails:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.addresses


def _call(url: str, *, allow_loopback: bool = False) -> Call:
    return Call(
        Target.WEBHOOK,
        "evt_1",
        EventType.APPOINTMENT_CONFIRMED,
        b"{}",
        url,
        "secret",
        allow_loopback=allow_loopback,
    )


@pytest.mark.parametrize(
    "addresses",
    [("10.0.0.7",), ("169.254.169.254",), ("93.184.216.34", "192.168.0.4")],
    ids=["private", "metadata", "one-of-two"],
)
def test_a_name_that_leads_inside_is_refused_without_a_connection(
    addresses: tuple[str, ...],
) -> None:
    resolver = Resolver(*addresses)
    answer = send(_call("https://hooks.clinic.example/events"), Transport(resolve=resolver), 0)
    assert (answer.status, answer.error, answer.permanent) == (None, Reason.ADDRESS_REFUSED, True)
    assert resolver.asked == [("hooks.clinic.example", 443)]


def test_a_name_with_no_address_is_unreachable_and_tried_again() -> None:
    answer = send(
        _call("https://nowhere.clinic.example:8443/e"), Transport(resolve=Resolver(fails=True)), 0
    )
    assert (answer.error, answer.permanent) == (Reason.UNREACHABLE, False)


def test_this_machine_only_where_loopback_is_allowed() -> None:
    # Nothing listens on port 9 here: an attempt that went ahead would fail to connect.
    url = "http://localhost:9/events"
    refused = send(_call(url), Transport(resolve=Resolver("127.0.0.1")), 0)
    assert refused.error is Reason.ADDRESS_REFUSED
    tried = send(_call(url, allow_loopback=True), Transport(1.0, 1.0, Resolver("127.0.0.1")), 0)
    assert tried.error is Reason.UNREACHABLE


def test_a_subscription_whose_name_now_leads_inside_gets_nothing(
    booked: Booked, clock: FixedClock
) -> None:
    # Allowed when it was made (a name), refused once it resolves to a private address.
    subscribe(
        booked.clinic,
        "https://hooks.clinic.example/events",
        "appointment.confirmed",
        now=clock.now(),
    )
    reply(booked, "1", clock)
    [delivery_id] = outbox.claim_due_deliveries(clock.now())
    resolver = Resolver("10.20.30.40")
    state = outbox.deliver(
        delivery_id, clock, Transport(resolve=resolver), allow_loopback_http=True
    )
    assert state is DeliveryState.FAILED
    assert resolver.asked == [("hooks.clinic.example", 443)]
    [delivery] = deliveries()
    assert (delivery.last_error, delivery.attempts) == (Reason.ADDRESS_REFUSED, 1)
