"""Which URLs a clinic may send events to, and where its FHIR server is (pure).

Events leave by HTTPS only. Plain HTTP is allowed only to this machine's loopback
address, and only when the app runs in development or tests (the receivers the tests
start). A URL carrying a user name or password, a fragment, or an address inside a
private network is refused: events go to the clinic's systems over the internet or its
own HTTPS gateway, never to whatever answers inside ours. A host name is checked again
where it leads when each event is sent (`app.events.sender`, `internal_address`).
"""

from __future__ import annotations

import enum
import ipaddress
from urllib.parse import urlsplit

from app.core.errors import Invalid

MAX_URL = 2000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The environments (WESAID_ENV) in which plain HTTP to this machine is allowed.
LOOPBACK_ENVIRONMENTS = frozenset({"development", "test"})


class UrlProblem(enum.StrEnum):
    MISSING = "enter the address"
    MALFORMED = "not a web address"
    NOT_HTTPS = "must start with https://"
    CREDENTIALS = "must not carry a user name or password"
    FRAGMENT = "must not have a fragment (#)"
    INTERNAL = "must not be a private or local address"
    SYSTEM = "enter a URI without spaces or |"


class UrlRefused(Invalid):
    """A URL (or identifier system) refused: `field` names it, `problem` says why."""

    def __init__(self, field: str, problem: UrlProblem) -> None:
        super().__init__(f"{field}: {problem.value}")
        self.field = field
        self.problem = problem


def check_url(raw: str, *, allow_loopback_http: bool, field: str = "url") -> str:
    """`raw`, trimmed, if events may go there; Invalid naming `field` and the reason."""
    url = raw.strip()
    if not url:
        raise UrlRefused(field, UrlProblem.MISSING)
    if len(url) > MAX_URL or not url.isprintable() or " " in url:
        raise UrlRefused(field, UrlProblem.MALFORMED)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused(field, UrlProblem.MALFORMED) from None
    host = (parts.hostname or "").lower()
    if not host or port == 0 or parts.scheme not in ("https", "http"):
        raise UrlRefused(field, UrlProblem.NOT_HTTPS)
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(field, UrlProblem.CREDENTIALS)
    if parts.fragment:
        raise UrlRefused(field, UrlProblem.FRAGMENT)
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and not (allow_loopback_http and loopback):
        raise UrlRefused(field, UrlProblem.NOT_HTTPS)
    if not (allow_loopback_http and loopback) and _internal(host):
        raise UrlRefused(field, UrlProblem.INTERNAL)
    return url


def _internal(host: str) -> bool:
    if host in LOOPBACK_HOSTS or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        return internal_address(host.strip("[]"))
    except ValueError:
        return False  # a name: where it leads is checked when an event is sent


def internal_address(text: str, *, loopback_allowed: bool = False) -> bool:
    """Whether the IP address `text` is not one on the internet at large: private,
    shared (carrier NAT), loopback (unless `loopback_allowed`), link-local, reserved,
    multicast or unspecified (none of them is global, but for multicast). An IPv6 zone
    (``%eth0``) is ignored. Raises ValueError for what is not an address."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if loopback_allowed and address.is_loopback:
        return False
    return not address.is_global or address.is_multicast


def check_identifier_system(raw: str) -> str:
    """The identifier system, trimmed: a URI without spaces or a "|" (it goes into a
    search parameter as ``system|value``)."""
    system = raw.strip()
    if not system:
        raise UrlRefused("identifier_system", UrlProblem.MISSING)
    if len(system) > 500 or "|" in system or not system.isprintable() or " " in system:
        raise UrlRefused("identifier_system", UrlProblem.SYSTEM)
    return system
