"""Months and days as the attendance counts use them: local to the clinic (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import to_utc

#: The years a report may name: wide enough for any clinic's history and plans.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_month(text: str) -> date:
    """The date `text` names: YYYY-MM-DD, or YYYY-MM for the first day of its month.

    Raises ValueError for anything else, and for a year outside FIRST_YEAR..LAST_YEAR.
    """
    stripped = text.strip()
    try:
        day = date.fromisoformat(stripped if len(stripped) > len("2026-01") else f"{stripped}-01")
    except ValueError:
        raise ValueError("expected YYYY-MM or YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"expected a year from {FIRST_YEAR} to {LAST_YEAR}")
    return day


def month_of(day: date) -> date:
    """The first day of the month holding `day`."""
    return date(day.year, day.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_from(first: date, last: date) -> list[date]:
    """Every month from the one holding `first` to the one holding `last`."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def days_of(month: date) -> list[date]:
    """Every day of `month`."""
    return [date.fromordinal(n) for n in range(month.toordinal(), next_month(month).toordinal())]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone` (a skipped midnight: just after)."""
    return to_utc(datetime(day.year, day.month, day.day), zone)


def day_bounds(days: Sequence[date], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Each day as [start, end) in UTC."""
    return [
        (local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)) for day in days
    ]


def local_days(utc_day: date, zone: ZoneInfo) -> set[date]:
    """The local days (one or two) that the UTC day `utc_day` overlaps in `zone`."""
    start = datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC)
    last = start + timedelta(days=1) - timedelta(microseconds=1)
    return {start.astimezone(zone).date(), last.astimezone(zone).date()}
