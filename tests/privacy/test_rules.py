"""Tests for app/privacy/rules.py: months back, retries and sids (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.privacy.rules import (
    MAX_RETENTION_MONTHS,
    check_retention_months,
    erased_reference,
    is_call_sid,
    is_message_sid,
    months_before,
    retry_delay,
)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 13, datetime(2025, 2, 2, 9, 0, tzinfo=UTC)),
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 0, datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        (datetime(2026, 5, 31, tzinfo=UTC), 3, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 5, 31, tzinfo=UTC), 3, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 1, datetime(2025, 12, 15, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 120, datetime(2016, 1, 15, tzinfo=UTC)),
    ],
)
def test_months_before(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


def test_months_before_refuses_going_forward() -> None:
    with pytest.raises(ValueError, match="negative"):
        months_before(datetime(2026, 1, 1, tzinfo=UTC), -1)


@pytest.mark.parametrize("months", [0, -1, MAX_RETENTION_MONTHS + 1])
def test_retention_periods_outside_the_range_are_refused(months: int) -> None:
    with pytest.raises(ValueError, match="1 to 120 months"):
        check_retention_months(months)


@pytest.mark.parametrize("months", [1, 13, 120])
def test_retention_periods_in_range(months: int) -> None:
    assert check_retention_months(months) == months


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [
        (1, timedelta(minutes=5)),
        (2, timedelta(minutes=10)),
        (4, timedelta(minutes=40)),
        (12, timedelta(days=1)),
        (20, timedelta(days=1)),
    ],
)
def test_retries_back_off_to_a_day(attempts: int, delay: timedelta) -> None:
    assert retry_delay(attempts) == delay


@pytest.mark.parametrize(
    ("sid", "message", "call"),
    [
        ("SM" + "a" * 32, True, False),
        ("MM" + "0" * 32, True, False),
        ("CA" + "f" * 32, False, True),
        ("CA" + "f" * 32 + ":m1:t0:1", False, False),  # a key press on a call
        ("SM123", False, False),
        ("", False, False),
        (None, False, False),
    ],
)
def test_sids(sid: str | None, message: bool, call: bool) -> None:
    assert (is_message_sid(sid), is_call_sid(sid)) == (message, call)


def test_an_erased_reference_names_the_row_only() -> None:
    assert erased_reference("patient", 12) == "erased-patient-12"
