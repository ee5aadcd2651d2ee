"""When reminders and surveys go out: offsets, delivery hour, quiet hours and expiry.

Pure functions over timezone-aware instants. Every instant taken or returned is an aware
``datetime``; results are always in UTC. Naive instants are refused with ``ValueError``,
because a naive value cannot say which moment it means.

Quiet hours are a wall-clock rule in the patient's zone: an instant is quiet when its
local wall-clock time lies in ``[start, end)``. On daylight-saving days the wall clock
jumps, so the edges of a quiet period are found exactly, including the instant the
clocks change, rather than by adding hours to a local time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import to_utc

# A reminder held back by quiet hours goes out this long before they begin, so that it
# is claimed and handed to the provider while sending is still allowed.
QUIET_START_LEAD = timedelta(minutes=1)

# Offset changes are searched for this far either side of an instant. Quiet hours last
# under a day, so the edges of the quiet period around an instant are always inside.
_EDGE_SEARCH = timedelta(hours=50)
# Real zones change offset months apart; sampling this often cannot skip a change.
_OFFSET_SAMPLE = timedelta(hours=6)
_JUST_BEFORE = timedelta(seconds=1)


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock hours in which nothing is sent.

    ``start > end`` wraps midnight (21:00 to 08:00); ``start == end`` means no quiet
    hours at all. ``start`` is quiet, ``end`` is allowed again.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times and take no tzinfo")

    def contains(self, local: time) -> bool:
        """Whether the local wall-clock time ``local`` falls inside the quiet hours."""
        local = local.replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class ReminderRule:
    """One reminder: ``offset`` before the appointment, at ``delivery_hour`` local time.

    With ``delivery_hour`` None the reminder is due exactly ``offset`` before the
    appointment instant.
    """

    offset: timedelta
    delivery_hour: time | None
    name: str

    def __post_init__(self) -> None:
        if self.offset <= timedelta(0):
            raise ValueError(f"reminder {self.name!r} needs a positive offset")
        if self.delivery_hour is not None and self.delivery_hour.tzinfo is not None:
            raise ValueError(f"reminder {self.name!r}: delivery hour is local, no tzinfo")


DEFAULT_RULES: tuple[ReminderRule, ...] = (
    ReminderRule(timedelta(days=7), time(10), "7d"),
    ReminderRule(timedelta(days=1), time(10), "1d"),
)


@dataclass(frozen=True)
class ReminderPolicy:
    """A clinic's reminder settings.

    ``expiry_margin``: a reminder expires this long before the appointment; after that
    it cannot help and is dropped, never sent late.

    ``min_lead``: the shortest send window worth planning. A reminder is planned only if
    it is due at least this long before it expires, so that the sweep, the queue and the
    provider have time to get it out. This matters for plans made late, whose reminders
    are due at once: booking a patient shortly before the expiry plans nothing rather
    than a reminder that would expire while queued.
    """

    rules: tuple[ReminderRule, ...] = DEFAULT_RULES
    quiet_hours: QuietHours = QuietHours(time(21), time(8))
    expiry_margin: timedelta = timedelta(hours=2)
    min_lead: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.expiry_margin < timedelta(0) or self.min_lead < timedelta(0):
            raise ValueError("expiry_margin and min_lead must not be negative")


@dataclass(frozen=True)
class PlannedSend:
    """A message to write to the outbox: which rule, when it is due, when it expires."""

    rule: str
    due_at: datetime
    expires_at: datetime


def next_allowed(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """The earliest instant at or after ``instant`` that is outside the quiet hours.

    An instant outside quiet hours is returned unchanged (in UTC). Refuses naive input.
    """
    instant = _as_utc(instant, "instant")
    if not _is_quiet(instant, zone, quiet):
        return instant
    edges = _quiet_edges(instant, zone, quiet)
    return min(e for e in edges if e > instant and not _is_quiet(e, zone, quiet))


def previous_allowed(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """The last send time before the quiet period that holds ``instant`` began.

    That is ``QUIET_START_LEAD`` (one minute) before quiet hours started: a reminder due
    at 07:00 under quiet hours 21:00 to 08:00 moves to 20:59 the evening before. An
    instant outside quiet hours is returned unchanged (in UTC). Refuses naive input.
    """
    instant = _as_utc(instant, "instant")
    if not _is_quiet(instant, zone, quiet):
        return instant
    began = max(
        e
        for e in _quiet_edges(instant, zone, quiet)
        if e <= instant
        and _is_quiet(e, zone, quiet)
        and not _is_quiet(e - _JUST_BEFORE, zone, quiet)
    )
    return began - QUIET_START_LEAD


def is_expired(now: datetime, expires_at: datetime) -> bool:
    """Whether a message expiring at ``expires_at`` must no longer be sent at ``now``."""
    return _as_utc(now, "now") >= _as_utc(expires_at, "expires_at")


def plan_reminders(
    appointment_at: datetime, zone: ZoneInfo, now: datetime, policy: ReminderPolicy
) -> list[PlannedSend]:
    """The reminders to send for an appointment, sorted by due time.

    Each rule is due at its delivery hour on the local day ``offset`` before the
    appointment (counted on the local calendar, so a reminder keeps its local hour across
    a clock change), or exactly ``offset`` before it when the rule has no delivery hour.
    A due time in quiet hours moves to the previous allowed time. A due time already
    past moves to the next allowed time from ``now``. All reminders expire at the
    appointment minus ``expiry_margin``; one due less than ``min_lead`` before that
    expiry is dropped. Rules that land on the same instant are sent once, under the name
    of the rule with the longer offset. Refuses naive instants.
    """
    appointment_at = _as_utc(appointment_at, "appointment_at")
    now = _as_utc(now, "now")
    expires_at = appointment_at - policy.expiry_margin
    planned: dict[datetime, PlannedSend] = {}
    for rule in sorted(policy.rules, key=lambda r: r.offset, reverse=True):
        due_at = _reminder_due(rule, appointment_at, zone, now, policy.quiet_hours)
        if _worth_planning(due_at, expires_at, policy.min_lead):
            planned.setdefault(due_at, PlannedSend(rule.name, due_at, expires_at))
    return sorted(planned.values(), key=lambda send: send.due_at)


def plan_survey(
    attended_at: datetime,
    zone: ZoneInfo,
    delay: timedelta,
    quiet: QuietHours,
    window: timedelta,
) -> PlannedSend:
    """The survey invitation after an attended appointment.

    Due ``delay`` after attendance, moved to the next allowed time if that is in quiet
    hours; it expires ``window`` after it is due. Refuses naive instants and a negative
    delay or window.
    """
    if delay < timedelta(0) or window < timedelta(0):
        raise ValueError("survey delay and window must not be negative")
    attended_at = _as_utc(attended_at, "attended_at")
    due_at = next_allowed(attended_at + delay, zone, quiet)
    return PlannedSend("survey", due_at, due_at + window)


def _reminder_due(
    rule: ReminderRule,
    appointment_at: datetime,
    zone: ZoneInfo,
    now: datetime,
    quiet: QuietHours,
) -> datetime:
    due_at = previous_allowed(_nominal_due(rule, appointment_at, zone), zone, quiet)
    if due_at < now:
        # Planned late: the moment has passed, so send as soon as sending is allowed.
        return next_allowed(now, zone, quiet)
    return due_at


def _worth_planning(due_at: datetime, expires_at: datetime, min_lead: timedelta) -> bool:
    return due_at < expires_at and expires_at - due_at >= min_lead


def _nominal_due(rule: ReminderRule, appointment_at: datetime, zone: ZoneInfo) -> datetime:
    if rule.delivery_hour is None:
        return appointment_at - rule.offset
    # Local calendar arithmetic: "1 day before" an appointment at 00:30 just after the
    # clocks go forward is the previous local date, which UTC arithmetic can miss.
    local_appointment = appointment_at.astimezone(zone).replace(tzinfo=None)
    target_day = (local_appointment - rule.offset).date()
    return to_utc(datetime.combine(target_day, rule.delivery_hour), zone)


def _as_utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return instant.astimezone(UTC)


def _is_quiet(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> bool:
    return quiet.contains(instant.astimezone(zone).time())


def _quiet_edges(instant: datetime, zone: ZoneInfo, quiet: QuietHours) -> list[datetime]:
    """Instants near ``instant`` where being quiet can change.

    The wall clock reads ``start`` or ``end`` at those instants, or jumps because the
    offset changes; between them the answer of ``_is_quiet`` is constant.
    """
    local_day = instant.astimezone(zone).date()
    days = [local_day + timedelta(days=n) for n in (-1, 0, 1)]
    edges = {e for d in days for t in (quiet.start, quiet.end) for e in _readings(d, t, zone)}
    edges.update(_offset_changes(instant - _EDGE_SEARCH, instant + _EDGE_SEARCH, zone))
    return sorted(edges)


def _readings(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """Every instant at which the local clock shows ``wall`` on ``day``: none, one or two."""
    local = datetime.combine(day, wall)
    found = []
    for fold in (0, 1):
        candidate = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        # A gap time converts to an instant whose wall clock reads something else.
        if candidate.astimezone(zone).replace(tzinfo=None) == local:
            found.append(candidate)
    return found


def _offset_changes(lo: datetime, hi: datetime, zone: ZoneInfo) -> list[datetime]:
    """Instants in ``(lo, hi]`` at which the zone's UTC offset changes."""
    changes = []
    left = lo
    while left < hi:
        right = min(left + _OFFSET_SAMPLE, hi)
        if left.astimezone(zone).utcoffset() != right.astimezone(zone).utcoffset():
            changes.append(_first_second_of_change(left, right, zone))
        left = right
    return changes


def _first_second_of_change(left: datetime, right: datetime, zone: ZoneInfo) -> datetime:
    # Offsets change on whole seconds, so bisect over integer POSIX seconds.
    before = left.astimezone(zone).utcoffset()
    lo, hi = math.floor(left.timestamp()), math.ceil(right.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
