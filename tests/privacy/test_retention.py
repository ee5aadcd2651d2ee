"""The retention purge (app/privacy/service.py): message bodies, replies and the words
of survey answers older than each organisation's period are blanked; nothing newer,
and nothing of another organisation. Twice is harmless; so are two machines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM, Actor
from app.clinics.models import Clinic, Organisation
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.privacy import service as privacy
from app.results.models import SurveyResponse
from app.runtime import get_runtime
from app.surveys.models import SurveyAnswer
from tests.conftest import PG_URL
from tests.privacy.rows import fresh, received, sent, sid, surveyed
from tests.world import World
from workers.clock import schedule

#: The clock is 2 March 2026 09:00; 13 months before is 2 February 2025 09:00.
OLD = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)
RECENT = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


class Rows:
    """Old and recent texts of one clinic, by id."""

    def __init__(self, world: World, clinic: Clinic, phone_tail: str) -> None:
        patient = world.patient(clinic, f"P{phone_tail}")
        self.sent = {
            when: sent(patient, f"text {when}", at, provider_sid=sid()).id
            for when, at in (("old", OLD), ("recent", RECENT))
        }
        self.received = {
            when: received(clinic, patient.phone, f"reply {when}", at, patient=patient).id
            for when, at in (("old", OLD), ("recent", RECENT))
        }
        self.sessions = {
            when: surveyed(clinic, patient, at, "2", f"comment {when}").id
            for when, at in (("old", OLD), ("recent", RECENT))
        }
        db.session.commit()

    def bodies(self) -> dict[str, object]:
        db.session.expire_all()
        return {
            **{f"sent {k}": fresh(OutboundMessage, v).body for k, v in self.sent.items()},
            **{f"reply {k}": fresh(InboundMessage, v).body for k, v in self.received.items()},
            **{f"answers {k}": _answers(v) for k, v in self.sessions.items()},
        }


def _answers(session_id: int) -> list[tuple[str | None, str | None]]:
    rows = db.session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.session_id == session_id).order_by(SurveyAnswer.id)
    )
    return [(a.value, a.raw_text) for a in rows]


def _comments() -> list[object]:
    db.session.expire_all()
    responses = db.session.scalars(select(SurveyResponse).order_by(SurveyResponse.id))
    return [r.answers["comment"]["value"] for r in responses]


def _purges() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.RETENTION_PURGE)
        )
    )


@pytest.fixture
def two(app: Flask, world: World) -> tuple[Rows, Rows]:
    north = world.clinic("north", org="trust")
    south = world.clinic("south", org="elsewhere")
    return Rows(world, north, "1"), Rows(world, south, "2")


def test_only_what_is_older_than_the_period_is_purged(
    two: tuple[Rows, Rows], clock: FixedClock
) -> None:
    north, south = two
    south_before = south.bodies()

    [report] = privacy.purge_old_text(clock, SYSTEM, "trust")

    assert (report.slug, report.months) == ("trust", 13)
    assert report.cutoff == datetime(2025, 2, 2, 9, 0, tzinfo=UTC)
    assert dict(report.counts) == {"message_bodies": 1, "replies": 1, "survey_texts": 2}
    assert north.bodies() == {
        "sent old": None,
        "sent recent": "text recent",
        "reply old": None,
        "reply recent": "reply recent",
        "answers old": [("good", None), (None, None)],
        "answers recent": [("good", "2"), ("comment recent", "comment recent")],
    }
    assert _comments() == [None, "comment recent", "comment old", "comment recent"]
    assert south.bodies() == south_before
    [event] = _purges()
    assert (event.organisation_id, event.record_type, event.actor_user_id) == (
        report.organisation_id,
        "organisation",
        None,
    )
    assert event.detail == {"message_bodies": 1, "replies": 1, "survey_texts": 2, "months": 13}


@pytest.mark.storage
def test_twice_is_harmless(two: tuple[Rows, Rows], clock: FixedClock) -> None:
    north, _south = two
    privacy.purge_old_text(clock, SYSTEM)
    after_first = north.bodies()
    events = len(_purges())

    again = privacy.purge_old_text(clock, SYSTEM)

    assert [r.total for r in again] == [0, 0, 0]
    assert north.bodies() == after_first
    assert len(_purges()) == events == 2


def test_each_organisation_keeps_its_own_period(two: tuple[Rows, Rows], clock: FixedClock) -> None:
    north, south = two
    elsewhere = db.session.scalars(
        select(Organisation).where(Organisation.slug == "elsewhere")
    ).one()
    privacy.set_retention(elsewhere.id, 1, clock, Actor(user_id=None, address="10.0.0.9"))

    reports = {r.slug: r for r in privacy.purge_old_text(clock, SYSTEM)}

    assert reports["trust"].total == 4
    assert reports["elsewhere"].months == 1
    assert dict(reports["elsewhere"].counts) == {
        "message_bodies": 2,
        "replies": 2,
        "survey_texts": 4,
    }
    blank = [("good", None), (None, None)]
    assert all(value in (None, blank) for value in south.bodies().values())
    assert north.bodies()["sent recent"] == "text recent"


def test_replies_to_no_clinic_are_purged_after_the_default_period(
    app: Flask, clock: FixedClock
) -> None:
    stray = InboundMessage(
        provider_sid=sid(),
        clinic_id=None,
        from_number="+447400100001",
        to_number="+442071830000",
        body="wrong number",
        received_at=OLD,
    )
    db.session.add(stray)
    db.session.commit()
    [unowned] = privacy.purge_old_text(clock, SYSTEM)
    assert (unowned.organisation_id, dict(unowned.counts)) == (None, {"replies": 1})
    assert fresh(InboundMessage, stray.id).body is None


def test_an_organisation_being_purged_elsewhere_is_skipped(
    two: tuple[Rows, Rows], clock: FixedClock
) -> None:
    north, _south = two
    trust = db.session.scalars(select(Organisation).where(Organisation.slug == "trust")).one()
    other_machine = create_engine(PG_URL)
    try:
        with other_machine.connect() as conn, conn.begin():
            conn.execute(
                text("SELECT id FROM organisations WHERE id = :id FOR NO KEY UPDATE"),
                {"id": trust.id},
            )
            [report] = privacy.purge_old_text(clock, SYSTEM, "trust")
            assert report.skipped
            assert north.bodies()["sent old"] == "text old"
        [report] = privacy.purge_old_text(clock, SYSTEM, "trust")
        assert (report.skipped, report.total) == (False, 4)
    finally:
        other_machine.dispose()


def test_the_clock_runs_it_and_a_second_round_is_harmless(
    two: tuple[Rows, Rows], clock: FixedClock, app: Flask
) -> None:
    north, _south = two
    [task] = [t for t in schedule(5.0) if t.name == "retention"]
    assert task.every_seconds == 24 * 3600.0
    task.run(get_runtime(app))
    task.run(get_runtime(app))
    assert north.bodies()["sent old"] is None
    assert len(_purges()) == 2  # one per organisation, not one per round


def test_an_unknown_organisation_is_not_found(app: Flask, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        privacy.purge_old_text(clock, SYSTEM, "nowhere")


def test_setting_the_period_is_checked_and_audited(
    app: Flask, world: World, clock: FixedClock
) -> None:
    clinic = world.clinic("north", org="trust")
    organisation_id = clinic.organisation_id
    assert db.session.get(Organisation, organisation_id).retention_months == 13  # type: ignore[union-attr]
    for months in (0, 121):
        with pytest.raises(Invalid, match="1 to 120 months"):
            privacy.set_retention(organisation_id, months, clock, SYSTEM)
    privacy.set_retention(organisation_id, 6, clock, SYSTEM)
    assert fresh(Organisation, organisation_id).retention_months == 6
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_SETTINGS)
    ).all()
    assert (event.organisation_id, event.detail) == (organisation_id, {"retention_months": 6})
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1
