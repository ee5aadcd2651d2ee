"""What kind of number a message is sent from, and how fast each kind may send.

Twilio sends each sender's messages at a rate that depends on the kind of sender: a
long code (an ordinary number), a toll-free number, a short code, or a Messaging
Service that spreads messages over a pool of numbers. `WESAID_SENDER_RATES` says how
many messages a second WeSaid hands over for one sender of each kind, for example
`long_code=1,toll_free=3,short_code=100` (a kind not named, or 0, is not paced).
"""

from __future__ import annotations

import enum
import re


class SenderKind(enum.StrEnum):
    LONG_CODE = "long_code"
    TOLL_FREE = "toll_free"
    SHORT_CODE = "short_code"
    MESSAGING_SERVICE = "messaging_service"


#: Toll-free prefixes in E.164: the UK's 0800 and 0808, and North America's 8xx.
_TOLL_FREE = re.compile(r"\+(44800|44808|1800|1833|1844|1855|1866|1877|1888)\d+")
_SHORT_CODE = re.compile(r"\d{5,6}")


def sender_kind(sender: str) -> SenderKind:
    """The kind of `sender`: a Messaging Service sid (MG…), a short code (5 or 6 digits),
    a toll-free number, or else a long code."""
    if sender.startswith("MG"):
        return SenderKind.MESSAGING_SERVICE
    if _SHORT_CODE.fullmatch(sender):
        return SenderKind.SHORT_CODE
    if _TOLL_FREE.fullmatch(sender):
        return SenderKind.TOLL_FREE
    return SenderKind.LONG_CODE


def parse_rates(text: str) -> dict[SenderKind, float]:
    """`kind=rate` pairs separated by commas, as messages a second; ValueError naming
    the part that is wrong. Rates of 0 are left out (not paced)."""
    rates: dict[SenderKind, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            kind = SenderKind(name.strip())
        except ValueError:
            known = ", ".join(k.value for k in SenderKind)
            raise ValueError(f"{part!r}: the kind must be one of {known}") from None
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"{part!r}: the rate must be a number of messages a second") from None
        if not rate >= 0 or rate == float("inf"):
            raise ValueError(f"{part!r}: the rate must be 0 or more")
        if rate > 0:
            rates[kind] = rate
    return rates
