"""The rules of erasure and retention that need no database (pure)."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

#: Retention periods an organisation may choose, in months, and the default.
DEFAULT_RETENTION_MONTHS = 13
MIN_RETENTION_MONTHS = 1
MAX_RETENTION_MONTHS = 120

#: Twilio's sids of messages (SMS, MMS, WhatsApp) and calls: two letters, 32 hex digits.
_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")

#: Attempts at the provider before an erasure is left for an operator. Twilio finishes
#: with a message or call within days, so the backoff reaches a day and stays there.
MAX_ATTEMPTS = 20
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(days=1)


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier; a day past the end of the
    shorter month is its last day (31 May less 3 months is 28 or 29 February)."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


def check_retention_months(months: int) -> int:
    """`months` if it is an allowed retention period; ValueError otherwise."""
    if not MIN_RETENTION_MONTHS <= months <= MAX_RETENTION_MONTHS:
        raise ValueError(
            f"a retention period is {MIN_RETENTION_MONTHS} to {MAX_RETENTION_MONTHS} months"
        )
    return months


def erased_reference(kind: str, row_id: int) -> str:
    """What replaces an erased patient's (or appointment's) external id: it names the row
    and nothing outside WeSaid, and stays unique within the clinic."""
    return f"erased-{kind}-{row_id}"


def is_message_sid(sid: str | None) -> bool:
    """Whether `sid` names a message Twilio keeps (not a key press on a call)."""
    return bool(sid and _MESSAGE_SID.match(sid))


def is_call_sid(sid: str | None) -> bool:
    return bool(sid and _CALL_SID.match(sid))


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th attempt before the next one."""
    delay: timedelta = min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX)
    return delay
