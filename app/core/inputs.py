"""Reading values that come from outside: ids, whole numbers and text (pure).

Whatever a request, a file or a provider sends is bounded before it reaches the
database: PostgreSQL refuses a NUL character in text and an integer past its column's
range, and Python refuses to turn more than 4,300 digits into an int. Each reader
returns None (or raises ValueError) for a value it cannot use, never something the
database would choke on.
"""

from __future__ import annotations

import re

#: The largest value of a 32-bit signed integer column (our ids and error codes).
MAX_INT32 = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
#: What stands in for a NUL character in stored text (the replacement character).
NUL_REPLACEMENT = "\ufffd"


def whole_number(text: str | None, *, maximum: int = MAX_INT32) -> int | None:
    """`text` as a whole number from 0 to `maximum`, ASCII digits only; None otherwise.

    Digits of other scripts ("²", "٣") and more than ten digits are refused here: a
    caller that reads digits in every script does so on purpose (`core.parsing`).
    """
    if text is None:
        return None
    stripped = text.strip()
    if not _ASCII_DIGITS.fullmatch(stripped):
        return None
    number = int(stripped)
    return number if number <= maximum else None


def record_id(text: str | None) -> int | None:
    """`text` as a database id (1 to 2^31 - 1); None for anything else."""
    number = whole_number(text)
    return number if number is not None and number >= 1 else None


_PROVIDER_SID = re.compile(r"[A-Za-z0-9]{2,64}")


def provider_sid(text: str | None) -> str | None:
    """`text` if it can be a provider's sid (2 to 64 letters and digits); None otherwise."""
    if text is None:
        return None
    stripped = text.strip()
    return stripped if _PROVIDER_SID.fullmatch(stripped) else None


def storable_text(text: str) -> str:
    """`text` with every NUL replaced, so any database stores it; nothing else changes."""
    return text.replace("\x00", NUL_REPLACEMENT)


def bounded_text(text: str, limit: int) -> str | None:
    """`text` if it is printable and at most `limit` characters; None otherwise."""
    return text if len(text) <= limit and text.isprintable() else None
