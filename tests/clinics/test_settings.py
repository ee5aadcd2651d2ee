"""A clinic's settings: every field read and checked (pure), and the service that stores
them, refuses another clinic's sender, saves nothing on error and audits field names."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.clinics.service import current_settings, update_settings
from app.clinics.settings import (
    ClinicSettings,
    Problem,
    ReminderInput,
    SettingsInput,
    SettingsRefused,
    as_input,
    min_reminder_hours,
    read_settings,
)
from app.core.clock import FixedClock
from app.core.errors import NotFound
from app.extensions import db
from tests.world import World

GOOD = SettingsInput(
    sender="020 7183 8750",
    quiet_start="21:00",
    quiet_end="08:00",
    reminders=(ReminderInput("7", "days", "10:00"), ReminderInput("3", "hours", "")),
    survey_slug="fft",
    survey_delay_hours="2",
    survey_window_hours="24",
    survey_interval_days="30",
    suppressed_pathways="pregnancy-loss",
    default_locale="cy",
)
SURVEYS = ("fft",)
ADMIN = Actor(user_id=None, address="10.0.0.1")


def _read(raw: SettingsInput) -> ClinicSettings:
    return read_settings(raw, surveys=SURVEYS, expiry_margin_minutes=120)


def _problems(raw: SettingsInput) -> dict[str, Problem]:
    with pytest.raises(SettingsRefused) as refused:
        _read(raw)
    return refused.value.problems


def _rows(*rows: tuple[str, str, str]) -> tuple[ReminderInput, ...]:
    return tuple(ReminderInput(*row) for row in rows)


def test_good_settings_are_read_into_stored_values() -> None:
    read = _read(GOOD)
    assert read.sender == "+442071838750"
    assert (read.quiet_start, read.quiet_end) == (time(21), time(8))
    assert read.reminder_rules == [
        {"name": "7d", "offset_minutes": 10080, "delivery": "10:00"},
        {"name": "3h", "offset_minutes": 180, "delivery": None},
    ]
    assert (read.survey_delay_minutes, read.survey_window_minutes) == (120, 1440)
    assert read.survey_interval_days == 30
    assert read.survey_suppressed_pathways == ["pregnancy-loss"]
    assert read.default_locale == "cy"


def test_a_messaging_service_sid_is_a_sender() -> None:
    sid = "MG" + "0123456789abcdef" * 2
    assert _read(replace(GOOD, sender=sid)).sender == sid


def test_a_day_rule_without_a_time_goes_at_the_appointments_own_time() -> None:
    read = _read(replace(GOOD, reminders=_rows(("2", "days", ""))))
    assert read.reminder_rules == [{"name": "2d", "offset_minutes": 2880, "delivery": None}]


def test_equal_quiet_hours_mean_none_so_any_time_will_do() -> None:
    raw = replace(GOOD, quiet_start="09:00", quiet_end="09:00")
    raw = replace(raw, reminders=_rows(("1", "days", "03:00")))
    assert _read(raw).reminder_rules[0]["delivery"] == "03:00"


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"sender": " "}, "sender", Problem.SENDER_MISSING),
        ({"sender": "hello"}, "sender", Problem.SENDER_INVALID),
        ({"sender": "+1 202 555 0143"}, "sender", Problem.SENDER_INVALID),
        ({"sender": "MG123"}, "sender", Problem.SENDER_INVALID),
        ({"quiet_start": "24:00"}, "quiet_start", Problem.TIME_INVALID),
        ({"quiet_end": "7"}, "quiet_end", Problem.TIME_INVALID),
        ({"survey_slug": "physio"}, "survey_slug", Problem.SURVEY_UNKNOWN),
        ({"survey_delay_hours": ""}, "survey_delay_hours", Problem.NUMBER_INVALID),
        ({"survey_delay_hours": "169"}, "survey_delay_hours", Problem.OUT_OF_RANGE),
        ({"survey_window_hours": "0"}, "survey_window_hours", Problem.OUT_OF_RANGE),
        ({"survey_interval_days": "٣"}, "survey_interval_days", Problem.NUMBER_INVALID),
        ({"survey_interval_days": "366"}, "survey_interval_days", Problem.OUT_OF_RANGE),
        ({"suppressed_pathways": "a b"}, "suppressed_pathways", Problem.PATHWAY_INVALID),
        (
            {"suppressed_pathways": "\n".join(f"p{n}" for n in range(51))},
            "suppressed_pathways",
            Problem.TOO_MANY_PATHWAYS,
        ),
        ({"default_locale": "fr"}, "default_locale", Problem.LOCALE_UNKNOWN),
        ({"reminders": ()}, "reminder_1_amount", Problem.REMINDERS_NONE),
        ({"reminders": _rows(("", "days", ""))}, "reminder_1_amount", Problem.REMINDERS_NONE),
        ({"reminders": _rows(("x", "days", ""))}, "reminder_1_amount", Problem.REMINDER_AMOUNT),
        ({"reminders": _rows(("0", "hours", ""))}, "reminder_1_amount", Problem.REMINDER_AMOUNT),
        ({"reminders": _rows(("1", "weeks", ""))}, "reminder_1_unit", Problem.REMINDER_UNIT),
        ({"reminders": _rows(("29", "days", ""))}, "reminder_1_amount", Problem.REMINDER_TOO_FAR),
        (
            {"reminders": _rows(("673", "hours", ""))},
            "reminder_1_amount",
            Problem.REMINDER_TOO_FAR,
        ),
        (
            {"reminders": _rows(("2", "hours", ""))},
            "reminder_1_amount",
            Problem.REMINDER_TOO_CLOSE,
        ),
        (
            {"reminders": _rows(("3", "hours", "10:00"))},
            "reminder_1_at",
            Problem.REMINDER_TIME_WITH_HOURS,
        ),
        ({"reminders": _rows(("1", "days", "9am"))}, "reminder_1_at", Problem.TIME_INVALID),
        (
            {"reminders": _rows(("1", "days", "07:59"))},
            "reminder_1_at",
            Problem.REMINDER_TIME_QUIET,
        ),
        (
            {"reminders": _rows(("1", "days", "10:00"), ("24", "hours", ""))},
            "reminder_2_amount",
            Problem.REMINDER_OVERLAP,
        ),
        (
            {"reminders": _rows(("", "days", ""), ("2", "days", ""), ("2", "days", "12:00"))},
            "reminder_3_amount",
            Problem.REMINDER_OVERLAP,
        ),
    ],
)
def test_each_wrong_field_is_named(changes: dict[str, Any], field: str, problem: Problem) -> None:
    assert _problems(replace(GOOD, **changes)) == {field: problem}


def test_every_wrong_field_is_named_at_once() -> None:
    raw = replace(GOOD, sender="x", quiet_end="x", survey_slug="x", default_locale="x")
    assert set(_problems(raw)) == {"sender", "quiet_end", "survey_slug", "default_locale"}


def test_the_closest_reminder_leaves_an_hour_before_the_expiry() -> None:
    assert min_reminder_hours(120) == 3
    assert min_reminder_hours(90) == 3  # 2.5 hours, rounded up to whole hours
    assert min_reminder_hours(0) == 1


def test_stored_settings_show_in_the_form_and_read_back_the_same() -> None:
    read = _read(GOOD)
    shown = as_input(read)
    assert len(shown.reminders) == 4
    assert shown.reminders[1] == ReminderInput("3", "hours", "")
    assert shown.reminders[3].blank
    assert _read(shown) == read


# -- the service ---------------------------------------------------------------------------


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    return made


def _stored(clinic_id: int) -> ClinicSettings:
    db.session.expire_all()
    clinic = db.session.get(Clinic, clinic_id)
    assert clinic is not None
    return current_settings(clinic)


def _audits() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_SETTINGS))
    )


def test_the_service_stores_the_changes_and_audits_field_names(
    north: Clinic, clock: FixedClock
) -> None:
    raw = replace(as_input(_stored(north.id)), quiet_start="22:00", default_locale="pl")
    changed = update_settings(north.id, raw, surveys=SURVEYS, clock=clock, actor=ADMIN)
    assert changed == ["quiet_start", "default_locale"]
    stored = _stored(north.id)
    assert (stored.quiet_start, stored.default_locale) == (time(22), "pl")
    [event] = _audits()
    assert event.detail == {"fields": "quiet_start,default_locale"}
    assert (event.clinic_id, event.record_ids) == (north.id, [north.id])
    assert event.address == "10.0.0.1"


def test_nothing_changed_is_neither_saved_nor_audited(north: Clinic, clock: FixedClock) -> None:
    raw = as_input(_stored(north.id))
    assert update_settings(north.id, raw, surveys=SURVEYS, clock=clock, actor=ADMIN) == []
    assert _audits() == []


def test_another_clinics_sender_is_refused_with_the_other_problems(
    north: Clinic, clock: FixedClock, world: World
) -> None:
    before = _stored(north.id)
    south = world.clinics["south"]
    raw = replace(as_input(before), sender=south.sender, quiet_end="nope")
    with pytest.raises(SettingsRefused) as refused:
        update_settings(north.id, raw, surveys=SURVEYS, clock=clock, actor=ADMIN)
    assert refused.value.problems == {
        "sender": Problem.SENDER_TAKEN,
        "quiet_end": Problem.TIME_INVALID,
    }
    raw = replace(as_input(before), sender="020 7183 8751")  # south's, written another way
    with pytest.raises(SettingsRefused) as refused:
        update_settings(north.id, raw, surveys=SURVEYS, clock=clock, actor=ADMIN)
    assert refused.value.problems == {"sender": Problem.SENDER_TAKEN}
    assert _stored(north.id) == before
    assert _audits() == []


def test_the_clinics_own_sender_is_not_taken(north: Clinic, clock: FixedClock) -> None:
    raw = replace(as_input(_stored(north.id)), sender="020 7183 8750", quiet_end="07:00")
    assert update_settings(north.id, raw, surveys=SURVEYS, clock=clock, actor=ADMIN) == [
        "quiet_end"
    ]


def test_an_unknown_clinic_is_not_found(app: Flask, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        update_settings(999, GOOD, surveys=SURVEYS, clock=clock, actor=ADMIN)
