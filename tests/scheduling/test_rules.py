"""Tables of cases for the pure reminder and survey scheduling rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.scheduling.rules import (
    QUIET_START_LEAD,
    PlannedSend,
    QuietHours,
    ReminderPolicy,
    ReminderRule,
    is_expired,
    next_allowed,
    plan_reminders,
    plan_survey,
    previous_allowed,
    to_utc,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")

NIGHT = QuietHours(time(21), time(8))
LUNCH = QuietHours(time(12), time(14))
NONE = QuietHours(time(9), time(9))

LONG_AGO = datetime(2025, 12, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def one_rule(offset: timedelta, hour: time | None, quiet: QuietHours = NIGHT) -> ReminderPolicy:
    return ReminderPolicy(rules=(ReminderRule(offset, hour, "r"),), quiet_hours=quiet)


def summary(sends: list[PlannedSend]) -> list[tuple[str, datetime]]:
    return [(send.rule, send.due_at) for send in sends]


@pytest.mark.parametrize(
    ("quiet", "local", "expected"),
    [
        pytest.param(NIGHT, time(22), True, id="wrap-evening"),
        pytest.param(NIGHT, time(0), True, id="wrap-midnight"),
        pytest.param(NIGHT, time(7, 59), True, id="wrap-before-end"),
        pytest.param(NIGHT, time(8), False, id="wrap-end-is-allowed"),
        pytest.param(NIGHT, time(21), True, id="wrap-start-is-quiet"),
        pytest.param(NIGHT, time(20, 59), False, id="wrap-before-start"),
        pytest.param(NIGHT, time(12), False, id="wrap-midday"),
        pytest.param(LUNCH, time(13, 30), True, id="plain-inside"),
        pytest.param(LUNCH, time(14), False, id="plain-end"),
        pytest.param(LUNCH, time(11, 59), False, id="plain-before"),
        pytest.param(LUNCH, time(23), False, id="plain-night"),
        pytest.param(NONE, time(9), False, id="equal-at-boundary"),
        pytest.param(NONE, time(3), False, id="equal-night"),
    ],
)
def test_quiet_hours_contains(quiet: QuietHours, local: time, expected: bool) -> None:
    assert quiet.contains(local) is expected


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        pytest.param(datetime(2026, 1, 15, 10), LONDON, utc(2026, 1, 15, 10), id="gmt"),
        pytest.param(datetime(2026, 7, 15, 10), LONDON, utc(2026, 7, 15, 9), id="bst"),
        pytest.param(datetime(2026, 3, 29, 1, 30), LONDON, utc(2026, 3, 29, 1, 30), id="uk-gap"),
        pytest.param(
            datetime(2026, 10, 25, 1, 30), LONDON, utc(2026, 10, 25, 0, 30), id="uk-overlap"
        ),
        pytest.param(datetime(2026, 3, 8, 2, 30), NEW_YORK, utc(2026, 3, 8, 7, 30), id="us-gap"),
        pytest.param(
            datetime(2026, 11, 1, 1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30), id="us-overlap"
        ),
        pytest.param(datetime(2026, 3, 29, 10), KOLKATA, utc(2026, 3, 29, 4, 30), id="ist"),
    ],
)
def test_to_utc(local: datetime, zone: ZoneInfo, expected: datetime) -> None:
    resolved = to_utc(local, zone)
    assert resolved == expected
    assert resolved.tzinfo is UTC


@pytest.mark.parametrize(
    ("appointment_at", "zone", "expected"),
    [
        pytest.param(
            utc(2026, 1, 20, 14),
            LONDON,
            [("7d", utc(2026, 1, 13, 10)), ("1d", utc(2026, 1, 19, 10))],
            id="london-gmt",
        ),
        pytest.param(
            utc(2026, 7, 20, 13),
            LONDON,
            [("7d", utc(2026, 7, 13, 9)), ("1d", utc(2026, 7, 19, 9))],
            id="london-bst",
        ),
        pytest.param(
            utc(2026, 4, 2, 10),
            LONDON,
            [("7d", utc(2026, 3, 26, 10)), ("1d", utc(2026, 4, 1, 9))],
            id="offset-crosses-spring-change",
        ),
        pytest.param(
            utc(2026, 10, 28, 11),
            LONDON,
            [("7d", utc(2026, 10, 21, 9)), ("1d", utc(2026, 10, 27, 10))],
            id="offset-crosses-autumn-change",
        ),
        pytest.param(
            # 00:30 BST on 30 March is 23:30 UTC on the 29th; the day before is the 29th.
            utc(2026, 3, 29, 23, 30),
            LONDON,
            [("7d", utc(2026, 3, 23, 10)), ("1d", utc(2026, 3, 29, 9))],
            id="just-after-midnight-on-change-day",
        ),
        pytest.param(
            utc(2026, 1, 20, 20),
            NEW_YORK,
            [("7d", utc(2026, 1, 13, 15)), ("1d", utc(2026, 1, 19, 15))],
            id="new-york",
        ),
        pytest.param(
            utc(2026, 6, 10, 5, 30),
            KOLKATA,
            [("7d", utc(2026, 6, 3, 4, 30)), ("1d", utc(2026, 6, 9, 4, 30))],
            id="kolkata",
        ),
    ],
)
def test_default_plan(
    appointment_at: datetime, zone: ZoneInfo, expected: list[tuple[str, datetime]]
) -> None:
    sends = plan_reminders(appointment_at, zone, LONG_AGO, ReminderPolicy())
    assert summary(sends) == expected
    assert all(send.expires_at == appointment_at - timedelta(hours=2) for send in sends)
    assert all(send.due_at.tzinfo is UTC for send in sends)


@pytest.mark.parametrize(
    ("appointment_at", "policy", "expected_due"),
    [
        pytest.param(
            utc(2026, 1, 20, 14),
            one_rule(timedelta(days=1), time(7)),
            utc(2026, 1, 18, 20, 59),
            id="07:00-moves-to-evening-before-gmt",
        ),
        pytest.param(
            utc(2026, 7, 20, 13),
            one_rule(timedelta(days=1), time(7)),
            utc(2026, 7, 18, 19, 59),
            id="07:00-moves-to-evening-before-bst",
        ),
        pytest.param(
            utc(2026, 1, 20, 14),
            one_rule(timedelta(days=1), time(22, 30)),
            utc(2026, 1, 19, 20, 59),
            id="22:30-moves-to-same-evening",
        ),
        pytest.param(
            # 07:00 BST on the spring day; quiet began 21:00 GMT the night before.
            utc(2026, 3, 30, 11),
            one_rule(timedelta(days=1), time(7)),
            utc(2026, 3, 28, 20, 59),
            id="07:00-on-spring-change-day",
        ),
        pytest.param(
            utc(2026, 1, 20, 9),
            one_rule(timedelta(hours=10), None),
            utc(2026, 1, 19, 20, 59),
            id="no-delivery-hour-lands-at-23:00",
        ),
        pytest.param(
            utc(2026, 1, 20, 16),
            one_rule(timedelta(days=1), time(13), LUNCH),
            utc(2026, 1, 19, 11, 59),
            id="quiet-hours-not-wrapping",
        ),
        pytest.param(
            utc(2026, 1, 20, 16),
            one_rule(timedelta(days=1), time(13), NONE),
            utc(2026, 1, 19, 13),
            id="equal-start-end-means-no-quiet",
        ),
    ],
)
def test_delivery_hour_in_quiet_hours_moves_earlier(
    appointment_at: datetime, policy: ReminderPolicy, expected_due: datetime
) -> None:
    assert summary(plan_reminders(appointment_at, LONDON, LONG_AGO, policy)) == [
        ("r", expected_due)
    ]


@pytest.mark.parametrize(
    ("appointment_at", "now", "policy", "expected"),
    [
        pytest.param(
            utc(2026, 1, 15, 9),
            utc(2026, 1, 14, 8, 30),
            ReminderPolicy(),
            [("7d", utc(2026, 1, 14, 8, 30)), ("1d", utc(2026, 1, 14, 10))],
            id="7d-late-goes-now-1d-on-time",
        ),
        pytest.param(
            utc(2026, 1, 15, 9),
            utc(2026, 1, 14, 12),
            one_rule(timedelta(days=1), time(10)),
            [("r", utc(2026, 1, 14, 12))],
            id="1d-late-goes-now",
        ),
        pytest.param(
            utc(2026, 1, 15, 9),
            utc(2026, 1, 14, 12),
            ReminderPolicy(),
            [("7d", utc(2026, 1, 14, 12))],
            id="both-late-collapse-keep-longer",
        ),
        pytest.param(
            utc(2026, 1, 15, 14),
            utc(2026, 1, 14, 22),
            ReminderPolicy(),
            [("7d", utc(2026, 1, 15, 8))],
            id="late-in-quiet-waits-for-morning",
        ),
        pytest.param(
            utc(2026, 1, 15, 9),
            utc(2026, 1, 14, 22),
            ReminderPolicy(),
            [],
            id="late-in-quiet-morning-past-expiry",
        ),
        pytest.param(
            utc(2026, 1, 15, 9), utc(2026, 1, 15, 7, 30), ReminderPolicy(), [], id="after-expiry"
        ),
        pytest.param(
            utc(2026, 1, 15, 9), utc(2026, 1, 15, 8, 30), ReminderPolicy(), [], id="30-min-away"
        ),
        pytest.param(
            utc(2026, 1, 15, 14),
            utc(2026, 1, 15, 11, 30),
            ReminderPolicy(),
            [],
            id="window-shorter-than-min-lead",
        ),
        pytest.param(
            utc(2026, 1, 15, 14),
            utc(2026, 1, 15, 11),
            ReminderPolicy(),
            [("7d", utc(2026, 1, 15, 11))],
            id="window-exactly-min-lead",
        ),
        pytest.param(
            utc(2026, 1, 15, 14),
            utc(2026, 1, 15, 11, 30),
            ReminderPolicy(min_lead=timedelta(0)),
            [("7d", utc(2026, 1, 15, 11, 30))],
            id="no-min-lead",
        ),
    ],
)
def test_late_plans(
    appointment_at: datetime,
    now: datetime,
    policy: ReminderPolicy,
    expected: list[tuple[str, datetime]],
) -> None:
    assert summary(plan_reminders(appointment_at, LONDON, now, policy)) == expected


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            (
                ReminderRule(timedelta(hours=20), time(10), "20h"),
                ReminderRule(timedelta(days=1), time(10), "1d"),
            ),
            [("1d", utc(2026, 1, 14, 10))],
            id="same-instant-keeps-longer-offset",
        ),
        pytest.param(
            (
                ReminderRule(timedelta(hours=3), None, "3h"),
                ReminderRule(timedelta(days=1), time(10), "1d"),
                ReminderRule(timedelta(days=2), None, "2d"),
            ),
            [
                ("2d", utc(2026, 1, 13, 14)),
                ("1d", utc(2026, 1, 14, 10)),
                ("3h", utc(2026, 1, 15, 11)),
            ],
            id="sorted-by-due",
        ),
    ],
)
def test_rule_combinations(
    rules: tuple[ReminderRule, ...], expected: list[tuple[str, datetime]]
) -> None:
    policy = ReminderPolicy(rules=rules)
    assert summary(plan_reminders(utc(2026, 1, 15, 14), LONDON, LONG_AGO, policy)) == expected


@pytest.mark.parametrize(
    ("appointment_at", "expected_due"),
    [
        # 01:30 does not exist on 29 March: it resolves to 02:30 BST.
        pytest.param(utc(2026, 3, 30, 11), utc(2026, 3, 29, 1, 30), id="spring-gap"),
        # 01:30 happens twice on 25 October: the first, BST, occurrence.
        pytest.param(utc(2026, 10, 26, 12), utc(2026, 10, 25, 0, 30), id="autumn-overlap"),
    ],
)
def test_delivery_hour_on_change_days_is_sent_once(
    appointment_at: datetime, expected_due: datetime
) -> None:
    policy = one_rule(timedelta(days=1), time(1, 30), NONE)
    assert summary(plan_reminders(appointment_at, LONDON, LONG_AGO, policy)) == [
        ("r", expected_due)
    ]


@pytest.mark.parametrize(
    ("instant", "zone", "quiet", "expected"),
    [
        pytest.param(utc(2026, 3, 28, 23), LONDON, NIGHT, utc(2026, 3, 29, 7), id="spring-night"),
        pytest.param(utc(2026, 10, 24, 22), LONDON, NIGHT, utc(2026, 10, 25, 8), id="autumn"),
        pytest.param(utc(2026, 1, 15, 7, 59), LONDON, NIGHT, utc(2026, 1, 15, 8), id="minute"),
        pytest.param(utc(2026, 1, 15, 12), LONDON, NIGHT, utc(2026, 1, 15, 12), id="allowed"),
        pytest.param(utc(2026, 1, 15, 13), LONDON, LUNCH, utc(2026, 1, 15, 14), id="not-wrap"),
        pytest.param(utc(2026, 1, 15, 3), LONDON, NONE, utc(2026, 1, 15, 3), id="no-quiet"),
        pytest.param(
            # Clocks jump from 01:00 GMT to 02:00 BST, past the 01:30 end of quiet hours.
            utc(2026, 3, 29, 0, 45),
            LONDON,
            QuietHours(time(21), time(1, 30)),
            utc(2026, 3, 29, 1),
            id="end-inside-spring-gap",
        ),
        pytest.param(
            utc(2026, 10, 25, 0, 10),
            LONDON,
            QuietHours(time(0), time(1, 30)),
            utc(2026, 10, 25, 0, 30),
            id="end-in-overlap-first-pass",
        ),
        pytest.param(
            utc(2026, 10, 25, 1, 10),
            LONDON,
            QuietHours(time(0), time(1, 30)),
            utc(2026, 10, 25, 1, 30),
            id="end-in-overlap-second-pass",
        ),
        pytest.param(utc(2026, 3, 8, 4), NEW_YORK, NIGHT, utc(2026, 3, 8, 12), id="new-york"),
        pytest.param(utc(2026, 6, 10, 16, 30), KOLKATA, NIGHT, utc(2026, 6, 11, 2, 30), id="ist"),
    ],
)
def test_next_allowed(
    instant: datetime, zone: ZoneInfo, quiet: QuietHours, expected: datetime
) -> None:
    assert next_allowed(instant, zone, quiet) == expected


@pytest.mark.parametrize(
    ("instant", "zone", "quiet", "expected"),
    [
        pytest.param(utc(2026, 1, 15, 7), LONDON, NIGHT, utc(2026, 1, 14, 20, 59), id="gmt"),
        pytest.param(utc(2026, 7, 15, 6), LONDON, NIGHT, utc(2026, 7, 14, 19, 59), id="bst"),
        pytest.param(utc(2026, 3, 29, 6), LONDON, NIGHT, utc(2026, 3, 28, 20, 59), id="spring"),
        pytest.param(utc(2026, 10, 25, 7), LONDON, NIGHT, utc(2026, 10, 24, 19, 59), id="autumn"),
        pytest.param(utc(2026, 1, 14, 23), LONDON, NIGHT, utc(2026, 1, 14, 20, 59), id="same-eve"),
        pytest.param(utc(2026, 1, 14, 18), LONDON, NIGHT, utc(2026, 1, 14, 18), id="allowed"),
        pytest.param(utc(2026, 1, 15, 13), LONDON, LUNCH, utc(2026, 1, 15, 11, 59), id="not-wrap"),
        pytest.param(
            # Quiet from 01:30: on 29 March that wall time is skipped, so quiet hours
            # begin when the clocks jump, at 01:00 UTC.
            utc(2026, 3, 29, 5),
            LONDON,
            QuietHours(time(1, 30), time(7)),
            utc(2026, 3, 29, 0, 59),
            id="start-inside-spring-gap",
        ),
        pytest.param(utc(2026, 6, 10, 17), KOLKATA, NIGHT, utc(2026, 6, 10, 15, 29), id="ist"),
    ],
)
def test_previous_allowed(
    instant: datetime, zone: ZoneInfo, quiet: QuietHours, expected: datetime
) -> None:
    assert previous_allowed(instant, zone, quiet) == expected


@pytest.mark.parametrize(
    ("zone", "quiet", "day"),
    [
        pytest.param(LONDON, NIGHT, utc(2026, 3, 28), id="london-spring"),
        pytest.param(LONDON, NIGHT, utc(2026, 10, 24), id="london-autumn"),
        pytest.param(LONDON, QuietHours(time(1, 15), time(1, 45)), utc(2026, 10, 24), id="tiny"),
        pytest.param(NEW_YORK, QuietHours(time(23), time(2, 30)), utc(2026, 3, 7), id="ny"),
        pytest.param(KOLKATA, LUNCH, utc(2026, 3, 28), id="kolkata"),
    ],
)
def test_moved_instants_are_never_quiet(zone: ZoneInfo, quiet: QuietHours, day: datetime) -> None:
    for step in range(0, 3 * 24 * 60, 10):
        instant = day + timedelta(minutes=step)
        later = next_allowed(instant, zone, quiet)
        earlier = previous_allowed(instant, zone, quiet)
        assert later >= instant
        assert earlier <= instant
        assert not quiet.contains(later.astimezone(zone).time())
        assert not quiet.contains(earlier.astimezone(zone).time())
        if earlier < instant:
            assert quiet.contains((earlier + QUIET_START_LEAD).astimezone(zone).time())


@pytest.mark.parametrize(
    ("attended_at", "zone", "delay", "expected_due"),
    [
        pytest.param(utc(2026, 1, 15, 16), LONDON, timedelta(hours=2), utc(2026, 1, 15, 18)),
        pytest.param(utc(2026, 1, 15, 20), LONDON, timedelta(hours=2), utc(2026, 1, 16, 8)),
        pytest.param(utc(2026, 3, 28, 20, 30), LONDON, timedelta(hours=3), utc(2026, 3, 29, 7)),
        pytest.param(utc(2026, 10, 24, 19), LONDON, timedelta(hours=3), utc(2026, 10, 25, 8)),
        pytest.param(utc(2026, 1, 16, 2), NEW_YORK, timedelta(hours=1), utc(2026, 1, 16, 13)),
    ],
)
def test_plan_survey(
    attended_at: datetime, zone: ZoneInfo, delay: timedelta, expected_due: datetime
) -> None:
    window = timedelta(days=3)
    assert plan_survey(attended_at, zone, delay, NIGHT, window) == PlannedSend(
        "survey", expected_due, expected_due + window
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(utc(2026, 1, 15, 6, 59), False, id="before"),
        pytest.param(utc(2026, 1, 15, 7), True, id="at"),
        pytest.param(utc(2026, 1, 15, 8), True, id="after"),
    ],
)
def test_is_expired(now: datetime, expected: bool) -> None:
    assert is_expired(now, utc(2026, 1, 15, 7)) is expected


NAIVE = datetime(2026, 1, 15, 10)
AWARE = utc(2026, 1, 15, 10)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: plan_reminders(NAIVE, LONDON, AWARE, ReminderPolicy()), id="appt"),
        pytest.param(lambda: plan_reminders(AWARE, LONDON, NAIVE, ReminderPolicy()), id="now"),
        pytest.param(lambda: next_allowed(NAIVE, LONDON, NIGHT), id="next"),
        pytest.param(lambda: previous_allowed(NAIVE, LONDON, NIGHT), id="previous"),
        pytest.param(
            lambda: plan_survey(NAIVE, LONDON, timedelta(hours=2), NIGHT, timedelta(days=3)),
            id="survey",
        ),
        pytest.param(lambda: is_expired(NAIVE, AWARE), id="expired-now"),
        pytest.param(lambda: is_expired(AWARE, NAIVE), id="expired-at"),
        pytest.param(lambda: to_utc(AWARE, LONDON), id="to-utc-aware"),
        pytest.param(lambda: ReminderRule(timedelta(0), time(10), "zero"), id="zero-offset"),
        pytest.param(lambda: ReminderPolicy(expiry_margin=timedelta(hours=-1)), id="margin"),
    ],
)
def test_refused_inputs(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"aware|naive|offset|negative"):
        call()


def test_aware_non_utc_input_is_returned_in_utc() -> None:
    local = datetime(2026, 7, 15, 18, tzinfo=LONDON)
    result = next_allowed(local, LONDON, NIGHT)
    assert result == utc(2026, 7, 15, 17)
    assert result.tzinfo is UTC
