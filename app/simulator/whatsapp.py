"""WhatsApp in the simulator: addresses, the 24-hour window and approved templates.

WhatsApp allows free text to a patient only within 24 hours of their last message to
the business; outside it only an approved template may start a conversation. Twilio
accepts a freeform create either way and reports the refusal later, as a `failed`
status with error 63016. Templates are Content SIDs (HX…) whose text holds numbered
placeholders, {{1}}, {{2}} …, filled from the create's ContentVariables (a JSON object).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

PREFIX = "whatsapp:"
WINDOW = timedelta(hours=24)

OUTSIDE_WINDOW = 63016
INVALID_CONTENT_SID = 21655
INVALID_CONTENT_VARIABLES = 21656
#: From and To on different channels (one WhatsApp, one not).
CHANNEL_MISMATCH = 21910

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def is_whatsapp(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def bare(value: str) -> str:
    """The number inside a WhatsApp address; anything else unchanged."""
    return value.removeprefix(PREFIX)


def address(number: str) -> str:
    """`number` as a WhatsApp address."""
    return number if is_whatsapp(number) else PREFIX + number


class ContentError(ValueError):
    """A template create Twilio refuses; `code` is its error code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"template refused with error {code}")
        self.code = code


def render(templates: Mapping[str, str], content_sid: str, variables: str | None) -> str:
    """The text of template `content_sid` with `variables` (JSON) filled in.

    Raises ContentError 21655 for an unknown sid, 21656 for variables that are not a
    JSON object of strings or that leave a placeholder empty.
    """
    template = templates.get(content_sid)
    if template is None:
        raise ContentError(INVALID_CONTENT_SID)
    try:
        values = json.loads(variables) if variables else {}
    except json.JSONDecodeError:
        raise ContentError(INVALID_CONTENT_VARIABLES) from None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise ContentError(INVALID_CONTENT_VARIABLES)

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise ContentError(INVALID_CONTENT_VARIABLES)
        return str(values[match.group(1)])

    return _PLACEHOLDER.sub(fill, template)


def mismatch(to: str, from_: str | None, service: str | None) -> bool:
    """Whether To and From are on different channels (a service sends on either)."""
    if service and not from_:
        return False
    return is_whatsapp(to) != is_whatsapp(from_)


class Windows:
    """When each patient last wrote to the business on WhatsApp, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, datetime] = {}

    def patient_wrote(self, number: str, at: datetime) -> None:
        with self._lock:
            self._last[bare(number)] = at

    def is_open(self, number: str, now: datetime) -> bool:
        """Whether free text may go to `number` at `now`."""
        with self._lock:
            last = self._last.get(bare(number))
        return last is not None and now - last < WINDOW
