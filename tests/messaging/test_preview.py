"""Template previews: a clinic's texts rendered as the dispatcher renders them, for a
sample appointment, with their cost and the lint's findings; and the audit of a
clinic's own wording."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.core.sms import measure
from app.extensions import db
from app.messaging.lint import Problem
from app.messaging.preview import preview, preview_all, sample_appointment, template_groups
from app.messaging.registry import template_texts
from app.messaging.templates import set_template_override
from tests.world import World

PRICE = Decimal("0.04")


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    return world.clinic("north")


def _codes(problems: tuple[Problem, ...]) -> set[str]:
    return {p.code for p in problems}


def test_the_sample_appointment_is_a_week_ahead_at_half_past_ten_local(north: Clinic) -> None:
    winter = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert sample_appointment(north, winter) == datetime(2026, 3, 9, 10, 30, tzinfo=UTC)
    summer = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)  # a week later the clocks have gone on
    assert sample_appointment(north, summer) == datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def test_a_welsh_reminder_is_rendered_as_a_patient_reads_it(
    north: Clinic, clock: FixedClock
) -> None:
    shown = preview(north, "reminder", "cy", clock.now(), PRICE)
    assert shown.body.startswith("North: mae eich apwyntiad ar Dydd Llun 9 Mawrth am 10:30.")
    assert (shown.locale, shown.read_in, shown.translated) == ("cy", "cy", True)
    assert shown.override is None
    assert shown.text == shown.default_text
    sized = measure(shown.body)
    assert (shown.encoding, shown.segments) == (sized.encoding, sized.segments)
    assert shown.cost == PRICE * sized.segments
    assert shown.errors == ()


def test_arabic_is_read_in_arabic(north: Clinic, clock: FixedClock) -> None:
    shown = preview(north, "reminder", "ar", clock.now(), PRICE)
    assert shown.read_in == "ar"
    assert shown.encoding == "UCS-2"


def test_the_clinics_wording_is_previewed_and_a_draft_in_its_place(
    north: Clinic, clock: FixedClock
) -> None:
    own = "%(clinic)s: welwn ni chi %(date)s am %(time)s. Atebwch 1 i gadarnhau."
    set_template_override(north.id, "reminder", "cy", own, clock)
    shown = preview(north, "reminder", "cy", clock.now(), PRICE)
    assert (shown.override, shown.text) == (own, own)
    assert shown.body == "North: welwn ni chi Dydd Llun 9 Mawrth am 10:30. Atebwch 1 i gadarnhau."
    draft = preview(north, "reminder", "cy", clock.now(), PRICE, draft="%(clinic)s %(date)s")
    assert draft.override == own  # what is saved, beside the draft
    assert draft.text == "%(clinic)s %(date)s"
    assert "missing-placeholder" in _codes(draft.errors)
    english = preview(north, "reminder", "en", clock.now(), PRICE)
    assert english.override is None  # the Welsh wording is for Welsh readers only


@pytest.mark.parametrize(
    ("draft", "codes"),
    [
        ("%(clinic)s %(date)s %(time)s: reply CANCEL to cancel", {"reply-word-opts-out"}),
        ("%(clinic)s %(date)s %(time)s %(nope)s", {"unknown-placeholder", "render-failed"}),
        ("%(clinic)s %(date)s %(time)s 100%", {"bad-percent", "render-failed"}),
        ("%", {"bad-percent", "missing-placeholder", "render-failed"}),
        ("%(clinic)s %(date)s %(time)s " + "x" * 1600, {"too-long"}),
    ],
)
def test_a_bad_draft_is_reported_never_raised(
    north: Clinic, clock: FixedClock, draft: str, codes: set[str]
) -> None:
    shown = preview(north, "reminder", "en", clock.now(), PRICE, draft=draft)
    assert codes <= _codes(shown.errors)


def test_a_typographic_draft_is_warned_about(north: Clinic, clock: FixedClock) -> None:
    draft = "%(clinic)s: see you %(date)s at %(time)s – reply 1 to confirm."
    shown = preview(north, "reminder", "en", clock.now(), PRICE, draft=draft)
    assert shown.errors == ()
    assert _codes(shown.warnings) == {"gsm-rewrite-available"}
    assert shown.encoding == "UCS-2"


def test_every_text_in_every_language_asked(north: Clinic, clock: FixedClock) -> None:
    rows = preview_all(north, ["en", "cy", "ur"], clock.now(), PRICE)
    assert len(rows) == 3 * len(template_texts())
    assert {row.locale for row in rows} == {"en", "cy", "ur"}
    grouped = [name for names in template_groups().values() for name in names]
    assert sorted(grouped) == sorted(template_texts())
    assert not [row for row in rows if row.errors]


@pytest.mark.parametrize(("name", "locale"), [("nope", "cy"), ("reminder", "fr")])
def test_an_unknown_text_or_language_is_not_found(
    north: Clinic, clock: FixedClock, name: str, locale: str
) -> None:
    with pytest.raises(NotFound):
        preview(north, name, locale, clock.now(), PRICE)


def _edits() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_TEMPLATE))
    )


def test_saving_and_removing_a_wording_is_audited_without_the_text(
    north: Clinic, clock: FixedClock
) -> None:
    who = Actor(user_id=None, address="10.1.2.3")
    text = "%(clinic)s: %(date)s %(time)s. Reply 1 to confirm."
    set_template_override(north.id, "reminder", "pl", text, clock, who)
    set_template_override(north.id, "reminder", "pl", None, clock, who)
    set_template_override(north.id, "reminder", "pl", None, clock, who)  # nothing to remove
    with pytest.raises(Invalid):
        set_template_override(north.id, "reminder", "pl", "Reply CANCEL", clock, who)
    events = _edits()
    assert [e.detail for e in events] == [
        {"template": "reminder", "locale": "pl", "removed": False},
        {"template": "reminder", "locale": "pl", "removed": True},
    ]
    assert {(e.clinic_id, e.organisation_id, e.address) for e in events} == {
        (north.id, north.organisation_id, "10.1.2.3")
    }
