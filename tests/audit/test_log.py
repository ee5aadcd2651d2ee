"""The audit log is append-only on PostgreSQL, and searchable."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditAction
from app.audit.queries import AuditSearch, all_events, search_events
from app.audit.service import Actor, record
from app.core.clock import FixedClock
from app.extensions import db


def test_postgres_refuses_to_change_or_remove_an_event(app: Flask, clock: FixedClock) -> None:
    record(AuditAction.EXPORT, Actor(address="10.0.0.1"), clock.now(), record_type="report")
    db.session.commit()
    for statement in ("UPDATE audit_events SET address = NULL", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.execute(text("SELECT count(*) FROM audit_events")).scalar() == 1


def test_search_by_action_and_record(app: Flask, clock: FixedClock) -> None:
    for patient_id in (1, 2, 3):
        record(
            AuditAction.VIEW_PATIENT,
            Actor(user_id=None),
            clock.now(),
            record_type="patient",
            record_ids=[patient_id],
        )
    record(AuditAction.EXPORT, Actor(), clock.now(), record_type="report")
    db.session.commit()
    found = search_events(AuditSearch(action=AuditAction.VIEW_PATIENT, record_id=2))
    assert [e.record_ids for e in found] == [[2]]
    assert len(list(all_events(AuditSearch()))) == 4
