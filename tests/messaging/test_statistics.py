"""The planner's statistics: on SQLite a few appointments' messages in one state are found
through the appointments' index once the statistics are fresh, not by reading every
message in that state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from app.appointments.models import AppointmentStatus
from app.core.clock import FixedClock
from app.db import refresh_statistics
from app.extensions import db
from app.messaging.states import MessageState
from tests.world import World

QUERY = (
    "SELECT DISTINCT appointment_id FROM outbound_messages "
    "WHERE appointment_id IN (1, 2, 3) AND kind = 'reminder' AND state = 'delivered'"
)


def _plan() -> str:
    rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {QUERY}")).all()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.mark.storage
def test_fresh_statistics_lead_sqlite_to_the_selective_index(
    app: Flask, world: World, clock: FixedClock
) -> None:
    clinic = world.clinic("north")
    patient = world.patient(clinic, "P1")
    for day in range(200):
        world.add(
            patient,
            clock.now() - timedelta(days=day + 1),
            AppointmentStatus.ATTENDED,
            reminders=[MessageState.DELIVERED],
        )
    if db.engine.dialect.name != "sqlite":
        assert refresh_statistics(db.session) is False  # autovacuum keeps them there
        return
    assert "state_due_at" in _plan()  # without statistics: every delivered message
    assert refresh_statistics(db.session) is True
    plan = _plan()
    assert "appointment" in plan or "reminder_plan" in plan, plan
    assert "state_due_at" not in plan, plan
    found = db.session.scalars(text(QUERY)).all()
    assert sorted(found) == [1, 2, 3]
