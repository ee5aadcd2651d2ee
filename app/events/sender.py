"""Calling a target over HTTP: a signed webhook POST, or the FHIR write-back.

No database here: `outbox` hands over a `Call` (everything the attempt needs, read
before the session was closed) and gets an `Answer` back. Every request has a connect
and a read timeout, follows no redirect, and no answer body is ever stored or logged.

Before each attempt the host's name is looked up, and if any of its addresses is inside
a private network (`endpoints.internal_address`) nothing is sent: a name is checked
only as text when a subscription is made, and the clinic's DNS may point it anywhere
since. The request then goes to the address checked, not to the name (`Pinned`): the
Host header and, over TLS, the name sent and the certificate checked are the name's, so
a name whose records change between the check and the connection (DNS rebinding) still
reaches only what was checked. Where an HTTP proxy from the environment carries the
request, the proxy looks the name up; it is the proxy's rules that keep it outside.

The FHIR write-back reads the Appointment first
(``GET [base]/Appointment?identifier=<system>|<external id>``) and then writes it back
changed with a conditional update to the same search
(``PUT [base]/Appointment?identifier=<system>|<external id>``), with ``If-Match`` on
the version read when the server gave one, so a change made in between is not
overwritten: the server answers 412 and the attempt is retried. No match is retried
(the patient system may not have it yet); more than one is refused for good.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from urllib3 import exceptions as urllib3_errors

from app.events import payloads
from app.events.endpoints import internal_address
from app.events.models import EventType, Target
from app.events.payloads import Answer, FhirRefusal, Reason
from app.events.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)

USER_AGENT = "WeSaid-Events/1"
FHIR_JSON = "application/fhir+json"
#: The most of a FHIR search answer read; a webhook's answer body is never read at all.
MAX_SEARCH_BYTES = 2 * 1024 * 1024


def addresses_of(host: str, port: int) -> list[str]:
    """The IP addresses `host` has for TCP on `port` (socket.gaierror if none)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for _family, _kind, _proto, _name, sockaddr in found]


@dataclass(frozen=True)
class Transport:
    """How calls are made: timeouts in seconds (connect, read), and how a host's name
    is looked up (its addresses)."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    resolve: Callable[[str, int], Sequence[str]] = addresses_of

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class Call:
    """One attempt's request, as read from the outbox."""

    target: Target
    event_id: str
    event_type: EventType
    body: bytes
    #: The webhook URL, or the FHIR base URL.
    url: str
    #: The webhook's signing secret ("" for FHIR).
    secret: str = ""
    #: For FHIR: the identifier system and the appointment's external id.
    identifier_system: str = ""
    external_id: str = ""
    #: Whether the URL may lead to this machine's loopback address: in development and
    #: tests only, where `endpoints.check_url` allows plain HTTP to it.
    allow_loopback: bool = False


def _addresses(call: Call, transport: Transport) -> Sequence[str]:
    """The addresses of the URL's host; socket.gaierror when it has none."""
    parts = urlsplit(call.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = transport.resolve(parts.hostname or "", port)
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return found


class _KeepTheName(HTTPAdapter):
    """Connects wherever the URL says (the address checked), but speaks TLS to `name`:
    the name sent to the server and the one its certificate must carry."""

    def __init__(self, name: str) -> None:
        self._name = name
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs |= {"server_hostname": self._name, "assert_hostname": self._name}
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


@dataclass(frozen=True)
class Pinned:
    """One attempt's requests, sent to the address that was checked: `url` names it in
    place of the host, `headers` carry the host's name, and `session` keeps that name
    for TLS."""

    url: str
    headers: dict[str, str]
    session: requests.Session

    @classmethod
    def to(cls, url: str, address: str) -> Pinned:
        session = requests.Session()
        parts = urlsplit(url)
        if get_environ_proxies(url):  # the proxy looks the name up, not us
            return cls(url, {}, session)
        name = parts.hostname or ""
        host = f"[{address}]" if ":" in address else address
        netloc = f"{host}:{parts.port}" if parts.port else host
        session.mount(f"{parts.scheme}://{netloc}", _KeepTheName(name))
        return cls(
            parts._replace(netloc=netloc).geturl(),
            {"Host": parts.netloc.rpartition("@")[2]},
            session,
        )


def send(call: Call, transport: Transport, unix_now: int) -> Answer:
    """Make one attempt; never raises for what the network or the receiver does."""
    try:
        addresses = _addresses(call, transport)
        if any(internal_address(a, loopback_allowed=call.allow_loopback) for a in addresses):
            return Answer(None, Reason.ADDRESS_REFUSED, permanent=True)
        pinned = Pinned.to(call.url, addresses[0])
    except (OSError, ValueError):  # no such name, or not an address
        return Answer(None, Reason.UNREACHABLE)
    try:
        with pinned.session:
            if call.target is Target.WEBHOOK:
                return _webhook(call, pinned, transport, unix_now)
            return _fhir(call, pinned, transport)
    except (requests.Timeout, urllib3_errors.TimeoutError):
        return Answer(None, Reason.TIMEOUT)
    except requests.ConnectionError:
        return Answer(None, Reason.UNREACHABLE)
    except (requests.RequestException, urllib3_errors.HTTPError, OSError):
        # A body read directly (the FHIR search's) raises urllib3's own errors.
        return Answer(None, Reason.REQUEST_FAILED)


def _webhook(call: Call, pinned: Pinned, transport: Transport, unix_now: int) -> Answer:
    headers = pinned.headers | {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(call.secret, unix_now, call.body),
        EVENT_ID_HEADER: call.event_id,
        EVENT_TYPE_HEADER: call.event_type.value,
    }
    response = pinned.session.post(
        pinned.url,
        data=call.body,
        headers=headers,
        timeout=transport.timeout,
        allow_redirects=False,
        stream=True,  # the status is all we need: the body is never read
    )
    response.close()
    return payloads.webhook_answer(response.status_code)


def _search_url(call: Call, pinned: Pinned) -> tuple[str, dict[str, str]]:
    identifier = f"{call.identifier_system}|{call.external_id}"
    return f"{pinned.url}/Appointment", {"identifier": identifier}


def _fhir(call: Call, pinned: Pinned, transport: Transport) -> Answer:
    url, params = _search_url(call, pinned)
    headers = pinned.headers | {"Accept": FHIR_JSON, "User-Agent": USER_AGENT}
    found = pinned.session.get(
        url,
        params=params,
        headers=headers,
        timeout=transport.timeout,
        allow_redirects=False,
        stream=True,
    )
    with found:
        if found.status_code != 200:
            return Answer(found.status_code, Reason.SEARCH_FAILED)
        raw = found.raw.read(MAX_SEARCH_BYTES + 1, decode_content=True)
    try:
        if len(raw) > MAX_SEARCH_BYTES:
            raise ValueError("too large")
        resources = payloads.matches(json.loads(raw))
    except (ValueError, RecursionError):
        return Answer(found.status_code, Reason.NOT_A_BUNDLE)
    if not resources:
        return Answer(found.status_code, Reason.NO_MATCH)
    if len(resources) > 1:
        return Answer(found.status_code, Reason.SEVERAL_MATCHES, permanent=True)
    return _put(call, pinned, transport, resources[0])


def _put(call: Call, pinned: Pinned, transport: Transport, resource: dict[str, Any]) -> Answer:
    try:
        changed = payloads.written_back(call.event_type, resource)
    except FhirRefusal:
        return Answer(None, Reason.NO_PATIENT, permanent=True)
    url, params = _search_url(call, pinned)
    headers = pinned.headers | {
        "Content-Type": FHIR_JSON,
        "Accept": FHIR_JSON,
        "User-Agent": USER_AGENT,
    }
    version = payloads.version_of(resource)
    if version is not None:
        headers["If-Match"] = f'W/"{version}"'
    response = pinned.session.put(
        url,
        params=params,
        data=json.dumps(changed).encode("utf-8"),
        headers=headers,
        timeout=transport.timeout,
        allow_redirects=False,
        stream=True,
    )
    response.close()
    if response.status_code in (200, 201):
        return Answer(response.status_code)
    # 400 and 422: the server will never take what we send; anything else may pass later.
    permanent = response.status_code in (400, 422)
    return Answer(response.status_code, Reason.UPDATE_FAILED, permanent)
