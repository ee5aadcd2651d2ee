"""`wesaid retention run` through the Flask CLI runner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import OutboundMessage
from tests.privacy.rows import fresh, sent, sid
from tests.world import World

OLD = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)


def _old_text(world: World, slug: str, org: str) -> int:
    clinic = world.clinic(slug, org=org)
    patient = world.patient(clinic, f"P-{slug}")
    message = sent(patient, "an old text", OLD, provider_sid=sid())
    db.session.commit()
    return message.id


def test_run_prints_counts_per_organisation(runner: Any, world: World, clock: FixedClock) -> None:
    north = _old_text(world, "north", "trust")
    south = _old_text(world, "south", "elsewhere")
    result = runner.invoke(args=["retention", "run", "--org", "trust"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "trust: message bodies 1, replies 0, survey texts 0 "
        "(older than 13 months, before 2025-02-02 09:00 UTC)"
    ]
    assert fresh(OutboundMessage, north).body is None
    assert fresh(OutboundMessage, south).body == "an old text"
    everyone = runner.invoke(args=["retention", "run"])
    assert everyone.exit_code == 0, everyone.output
    assert everyone.output.splitlines()[:2] == [
        "trust: message bodies 0, replies 0, survey texts 0 "
        "(older than 13 months, before 2025-02-02 09:00 UTC)",
        "elsewhere: message bodies 1, replies 0, survey texts 0 "
        "(older than 13 months, before 2025-02-02 09:00 UTC)",
    ]
    assert everyone.output.splitlines()[2].startswith("replies to no clinic: replies 0")


def test_an_unknown_organisation_is_an_error(runner: Any, world: World) -> None:
    result = runner.invoke(args=["retention", "run", "--org", "nowhere"])
    assert result.exit_code == 2
    assert "no organisation 'nowhere'" in result.output
