"""A clinic's settings as staff edit them, read and checked field by field (pure).

`read_settings` turns what the settings form sends, as text, into `ClinicSettings`: the
sender, quiet hours, reminder rules, the survey and its timing, the pathways never
surveyed and the default language. Every field is checked and every wrong one reported
(`SettingsRefused.problems`: field name → `Problem`), so that a form can show them all at
once; nothing is half read. What needs the database (is the sender another clinic's?)
is checked by the service.

A reminder rule is an offset before the appointment, as `app.scheduling` plans it:
whole days, at a local time of day or at the appointment's own time ("7 days before, at
10:00"), or whole hours ("3 hours before").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from typing import Any

from app.core import locales, phone
from app.core.channels import Channel
from app.core.errors import Invalid
from app.core.inputs import whole_number

#: How many reminder rules a clinic may have (rows of the form).
MAX_REMINDERS = 4
#: The furthest ahead a reminder may go.
MAX_REMINDER_DAYS = 28
#: The shortest send window worth planning (as `app.scheduling`'s policy has it): a rule
#: must leave this long between its due time and the reminder's expiry.
MIN_SEND_WINDOW_MINUTES = 60
#: The units of a reminder's offset.
DAYS, HOURS = "days", "hours"
#: Whole-number fields and their ranges, both ends allowed.
RANGES: dict[str, tuple[int, int]] = {
    "survey_delay_hours": (0, 7 * 24),
    "survey_window_hours": (1, 7 * 24),
    "survey_interval_days": (0, 365),
}
MAX_PATHWAYS = 50
_SENDER_SID = re.compile(r"MG[0-9a-f]{32}")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_PATHWAY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_DAY_MINUTES = 24 * 60


class Problem(enum.StrEnum):
    SENDER_MISSING = "sender_missing"  # no sender given
    SENDER_INVALID = "sender_invalid"  # neither a UK number nor a Messaging Service sid
    SENDER_TAKEN = "sender_taken"  # another clinic sends from this number
    TIME_INVALID = "time_invalid"  # not a time of day written HH:MM
    REMINDERS_NONE = "reminders_none"  # no reminder rule at all
    REMINDER_AMOUNT = "reminder_amount"  # how long before is not a whole number
    REMINDER_UNIT = "reminder_unit"  # neither days nor hours
    REMINDER_TOO_CLOSE = "reminder_too_close"  # it would expire before it could go
    REMINDER_TOO_FAR = "reminder_too_far"  # more than MAX_REMINDER_DAYS ahead
    REMINDER_TIME_WITH_HOURS = "reminder_time_with_hours"  # a time of day for an hours rule
    REMINDER_TIME_QUIET = "reminder_time_quiet"  # its time of day is in quiet hours
    REMINDER_OVERLAP = "reminder_overlap"  # the same offset as another rule
    SURVEY_UNKNOWN = "survey_unknown"  # not a survey the clinic can send
    NUMBER_INVALID = "number_invalid"  # not a whole number
    OUT_OF_RANGE = "out_of_range"  # a whole number outside its RANGES
    PATHWAY_INVALID = "pathway_invalid"  # not lower-case letters, digits and dashes
    TOO_MANY_PATHWAYS = "too_many_pathways"  # more than MAX_PATHWAYS
    LOCALE_UNKNOWN = "locale_unknown"  # not a supported language


class SettingsRefused(Invalid):
    """Some fields are wrong: `problems` names each one and what is wrong with it."""

    def __init__(self, problems: Mapping[str, Problem]) -> None:
        super().__init__("; ".join(f"{name}: {p.value}" for name, p in problems.items()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class ReminderInput:
    """One row of reminder rules as typed: how many, of which unit, at what time."""

    amount: str = ""
    unit: str = DAYS
    at: str = ""

    @property
    def blank(self) -> bool:
        return not self.amount.strip() and not self.at.strip()


@dataclass(frozen=True)
class SettingsInput:
    """The settings as the form sends them: text, field by field."""

    sender: str = ""
    quiet_start: str = ""
    quiet_end: str = ""
    reminders: tuple[ReminderInput, ...] = ()
    survey_slug: str = ""
    survey_delay_hours: str = ""
    survey_window_hours: str = ""
    survey_interval_days: str = ""
    #: One pathway a line (commas also separate them).
    suppressed_pathways: str = ""
    default_locale: str = ""


@dataclass(frozen=True)
class ClinicSettings:
    """The settings as stored: each field is the `Clinic` column of the same name."""

    sender: str
    quiet_start: time
    quiet_end: time
    reminder_rules: list[dict[str, Any]]
    survey_slug: str
    survey_delay_minutes: int
    survey_window_minutes: int
    survey_interval_days: int
    survey_suppressed_pathways: list[str] = field(default_factory=list)
    default_locale: str = locales.DEFAULT_LOCALE

    def changed(self, other: ClinicSettings) -> list[str]:
        """The names of the fields whose values differ in `other`."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def reminder_field(row: int, part: str) -> str:
    """The form field of part ("amount", "unit", "at") of reminder row `row` (from 1)."""
    return f"reminder_{row}_{part}"


def min_reminder_hours(expiry_margin_minutes: int) -> int:
    """The fewest whole hours before the appointment a reminder can go and still be
    planned: a reminder expires `expiry_margin_minutes` before, and needs an hour to go."""
    return -(-(expiry_margin_minutes + MIN_SEND_WINDOW_MINUTES) // 60)


def normalise_sender(text: str) -> str | None:
    """A clinic's sender as stored: a UK number in E.164 (landlines too, for calls) or a
    Messaging Service sid (MG…); None for anything else."""
    cleaned = text.strip()
    if _SENDER_SID.fullmatch(cleaned):
        return cleaned
    try:
        return phone.normalise(cleaned, Channel.VOICE)
    except phone.PhoneRejected:
        return None


def read_settings(
    raw: SettingsInput, *, surveys: Collection[str], expiry_margin_minutes: int
) -> ClinicSettings:
    """The settings in `raw`, every field checked.

    `surveys` are the survey slugs the clinic can send ("" always means none). Raises
    SettingsRefused naming every field that is wrong.
    """
    problems: dict[str, Problem] = {}
    sender = _sender(raw.sender, problems)
    quiet_start = _time(raw.quiet_start, "quiet_start", problems)
    quiet_end = _time(raw.quiet_end, "quiet_end", problems)
    quiet = (quiet_start, quiet_end) if quiet_start and quiet_end else None
    rules = _reminder_rules(raw.reminders, quiet, expiry_margin_minutes, problems)
    slug = raw.survey_slug.strip()
    if slug and slug not in surveys:
        problems["survey_slug"] = Problem.SURVEY_UNKNOWN
    numbers = {name: _number(getattr(raw, name), name, problems) for name in RANGES}
    pathways = _pathways(raw.suppressed_pathways, problems)
    locale = raw.default_locale.strip()
    if not locales.is_supported(locale):
        problems["default_locale"] = Problem.LOCALE_UNKNOWN
    if problems or quiet_start is None or quiet_end is None:
        raise SettingsRefused(problems)
    return ClinicSettings(
        sender=sender,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        reminder_rules=rules,
        survey_slug=slug,
        survey_delay_minutes=numbers["survey_delay_hours"] * 60,
        survey_window_minutes=numbers["survey_window_hours"] * 60,
        survey_interval_days=numbers["survey_interval_days"],
        survey_suppressed_pathways=pathways,
        default_locale=locale,
    )


def as_input(settings: ClinicSettings) -> SettingsInput:
    """`settings` as the form shows them (the inverse of `read_settings`), with a blank
    row for each reminder rule not in use."""
    rows = [_rule_input(rule) for rule in settings.reminder_rules][:MAX_REMINDERS]
    rows += [ReminderInput()] * (MAX_REMINDERS - len(rows))
    return SettingsInput(
        sender=settings.sender,
        quiet_start=settings.quiet_start.strftime("%H:%M"),
        quiet_end=settings.quiet_end.strftime("%H:%M"),
        reminders=tuple(rows),
        survey_slug=settings.survey_slug,
        survey_delay_hours=str(settings.survey_delay_minutes // 60),
        survey_window_hours=str(settings.survey_window_minutes // 60),
        survey_interval_days=str(settings.survey_interval_days),
        suppressed_pathways="\n".join(settings.survey_suppressed_pathways),
        default_locale=settings.default_locale,
    )


def _rule_input(rule: Mapping[str, Any]) -> ReminderInput:
    minutes = int(rule.get("offset_minutes", 0))
    delivery = str(rule.get("delivery") or "")
    if minutes % _DAY_MINUTES == 0:
        return ReminderInput(str(minutes // _DAY_MINUTES), DAYS, delivery)
    return ReminderInput(str(round(minutes / 60)), HOURS, "")


def _sender(text: str, problems: dict[str, Problem]) -> str:
    if not text.strip():
        problems["sender"] = Problem.SENDER_MISSING
        return ""
    sender = normalise_sender(text)
    if sender is None:
        problems["sender"] = Problem.SENDER_INVALID
        return ""
    return sender


def _time(text: str, name: str, problems: dict[str, Problem]) -> time | None:
    found = _TIME.fullmatch(text.strip())
    if found is None:
        problems[name] = Problem.TIME_INVALID
        return None
    return time(int(found.group(1)), int(found.group(2)))


def _number(text: str, name: str, problems: dict[str, Problem]) -> int:
    value = whole_number(text)
    low, high = RANGES[name]
    if value is None:
        problems[name] = Problem.NUMBER_INVALID
        return 0
    if not low <= value <= high:
        problems[name] = Problem.OUT_OF_RANGE
    return value


def _reminder_rules(
    rows: tuple[ReminderInput, ...],
    quiet: tuple[time, time] | None,
    expiry_margin_minutes: int,
    problems: dict[str, Problem],
) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    seen: set[int] = set()
    for number, row in enumerate(rows[:MAX_REMINDERS], start=1):
        if row.blank:
            continue
        rule = _reminder_rule(number, row, quiet, expiry_margin_minutes, problems)
        if rule is None:
            continue
        if rule["offset_minutes"] in seen:
            problems[reminder_field(number, "amount")] = Problem.REMINDER_OVERLAP
            continue
        seen.add(rule["offset_minutes"])
        rules.append(rule)
    if not rules and not any(name.startswith("reminder_") for name in problems):
        problems[reminder_field(1, "amount")] = Problem.REMINDERS_NONE
    return sorted(rules, key=lambda rule: -int(rule["offset_minutes"]))


def _reminder_rule(
    number: int,
    row: ReminderInput,
    quiet: tuple[time, time] | None,
    expiry_margin_minutes: int,
    problems: dict[str, Problem],
) -> dict[str, Any] | None:
    amount_field, at_field = reminder_field(number, "amount"), reminder_field(number, "at")
    if row.unit not in (DAYS, HOURS):
        problems[reminder_field(number, "unit")] = Problem.REMINDER_UNIT
        return None
    amount = whole_number(row.amount)
    if amount is None or amount == 0:
        problems[amount_field] = Problem.REMINDER_AMOUNT
        return None
    minutes = amount * (_DAY_MINUTES if row.unit == DAYS else 60)
    if minutes > MAX_REMINDER_DAYS * _DAY_MINUTES:
        problems[amount_field] = Problem.REMINDER_TOO_FAR
        return None
    if minutes < min_reminder_hours(expiry_margin_minutes) * 60:
        problems[amount_field] = Problem.REMINDER_TOO_CLOSE
        return None
    delivery = None
    if row.at.strip():
        if row.unit == HOURS:
            problems[at_field] = Problem.REMINDER_TIME_WITH_HOURS
            return None
        delivery = _time(row.at, at_field, problems)
        if delivery is None:
            return None
        if quiet is not None and _is_quiet(delivery, *quiet):
            problems[at_field] = Problem.REMINDER_TIME_QUIET
            return None
    name = f"{amount}d" if row.unit == DAYS else f"{amount}h"
    return {
        "name": name,
        "offset_minutes": minutes,
        "delivery": delivery.strftime("%H:%M") if delivery else None,
    }


def _is_quiet(local: time, start: time, end: time) -> bool:
    """Whether `local` is inside quiet hours [start, end) (which may wrap midnight; equal
    ends mean none), as `app.scheduling.rules.QuietHours` reads them."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _pathways(text: str, problems: dict[str, Problem]) -> list[str]:
    found: list[str] = []
    for part in re.split(r"[\n,]", text):
        cleaned = part.strip().lower()
        if not cleaned:
            continue
        if not _PATHWAY.fullmatch(cleaned):
            problems["suppressed_pathways"] = Problem.PATHWAY_INVALID
            return []
        if cleaned not in found:
            found.append(cleaned)
    if len(found) > MAX_PATHWAYS:
        problems["suppressed_pathways"] = Problem.TOO_MANY_PATHWAYS
        return []
    return found
