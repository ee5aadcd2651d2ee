"""The DNA charts' services: every clinic's chart read in a fixed number of statements
however many clinics, the funnel plot of clinics, targets and rebase months (audited,
checked), and the audit entry of a download."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from app.attendance.models import AttendanceRebase, AttendanceTarget
from app.attendance.service import (
    clinic_attendance,
    dna_board,
    dna_funnel,
    record_export,
    set_dna_target,
    set_rebase,
)
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.core.spc import Improvement, xmr
from app.extensions import db
from tests.attendance.monthly import add_months, rates, series
from tests.world import World

FIRST, LAST = date(2025, 1, 1), date(2025, 12, 1)
DNA = [12, 11, 13, 12, 10, 14, 8, 7, 8, 6, 7, 8]
ACTOR = Actor(user_id=None, address="198.51.100.7")


def _clinic(world: World, slug: str, dna: list[int], org: str = "trust", n: int = 100) -> Clinic:
    clinic = world.clinic(slug, org=org)
    patient = world.patient(clinic, f"{slug}-1")
    add_months(clinic, [patient], series(FIRST, dna, n), world.clock)
    return clinic


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_every_clinic_is_read_in_the_same_statements_however_many(
    world: World, clock: FixedClock
) -> None:
    clinics = [_clinic(world, slug, DNA) for slug in ("north", "south", "west")]
    ids = [clinic.id for clinic in clinics]
    for _ in range(2):  # builds the months, then passes the refresh's margin
        dna_board(ids, FIRST, LAST, clock)
        clock.advance(timedelta(hours=1))
    with _statements() as one:
        dna_board(ids[:1], FIRST, LAST, clock)
    with _statements() as three:
        board = dna_board(ids, FIRST, LAST, clock)
    assert len(three) == len(one)
    assert sum("FROM attendance_cells" in sql for sql in three) == 1
    assert sum("FROM attendance_targets" in sql for sql in three) == 1
    expected = xmr(rates(series(FIRST, DNA)), Improvement.DECREASE)
    assert {clinic_id: chart.xmr for clinic_id, chart in board.items()} == dict.fromkeys(
        ids, expected
    )


def test_the_board_charts_months_with_outcomes_with_their_target_and_rebases(
    world: World, clock: FixedClock
) -> None:
    north = _clinic(world, "north", DNA)
    empty = world.clinic("empty")
    set_dna_target(north.id, 0.09, clock, ACTOR)
    set_rebase(north.id, date(2025, 7, 20), True, clock, ACTOR)
    board = dna_board([north.id, empty.id], date(2024, 11, 1), LAST, clock)
    chart = board[north.id]
    assert chart.months == list(series(FIRST, DNA))
    assert chart.target == 0.09
    assert chart.rebased_at == [date(2025, 7, 1)]
    assert chart.xmr == xmr(
        rates(series(FIRST, DNA)), Improvement.DECREASE, target=0.09, rebase_at=[6]
    )
    assert board[empty.id].xmr is None
    with pytest.raises(Invalid, match="ends before it starts"):
        dna_board([north.id], LAST, FIRST, clock)
    with pytest.raises(Invalid, match="at most 120"):
        dna_board([north.id], date(2010, 1, 1), LAST, clock)
    assert dna_board([], FIRST, LAST, clock) == {}


def test_the_clinic_report_covers_the_same_months(world: World, clock: FixedClock) -> None:
    north = _clinic(world, "north", DNA)
    found = clinic_attendance(north.id, FIRST, LAST, clock)
    assert found.clinic.id == north.id
    assert found.months[0] == FIRST
    assert len(found.months) == 12
    assert (found.report.overall.dna, found.report.overall.n) == (sum(DNA), 1200)
    assert found.chart.values == rates(series(FIRST, DNA))
    with pytest.raises(NotFound):
        clinic_attendance(north.id + 99, FIRST, LAST, clock)


def test_the_funnel_compares_the_clinics_asked_for(world: World, clock: FixedClock) -> None:
    north = _clinic(world, "north", DNA)
    south = _clinic(world, "south", [20] * 12, n=60)
    other = _clinic(world, "east", [1] * 12, org="other")
    funnel = dna_funnel([north.id, south.id], FIRST, LAST, clock)
    assert sorted(funnel.clinics) == ["north", "south"]
    assert funnel.rate == pytest.approx((sum(DNA) + 240) / (1200 + 720))
    north_point, south_point = funnel.points
    assert (north_point.clinic, north_point.dna, north_point.n) == ("north", sum(DNA), 1200)
    assert south_point.outside is not None
    assert south_point.outside["99.8"]
    assert other.slug not in funnel.clinics
    nothing = dna_funnel([], FIRST, LAST, clock)
    assert (nothing.rate, nothing.points, nothing.clinics) == (None, [], {})


def test_a_target_is_checked_saved_once_and_audited(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    for bad in (1.0, -0.01, 1.5):
        with pytest.raises(Invalid, match="from 0 to 1"):
            set_dna_target(north.id, bad, clock, ACTOR)
    with pytest.raises(NotFound):
        set_dna_target(north.id + 99, 0.1, clock, ACTOR)
    assert set_dna_target(north.id, None, clock, ACTOR) is False
    assert set_dna_target(north.id, 0.085, clock, ACTOR) is True
    assert set_dna_target(north.id, 0.085, clock, ACTOR) is False
    assert set_dna_target(north.id, 0.07, clock, ACTOR) is True
    stored = db.session.get(AttendanceTarget, north.id)
    assert stored is not None
    assert stored.dna_rate == 0.07
    assert set_dna_target(north.id, None, clock, ACTOR) is True
    assert db.session.get(AttendanceTarget, north.id) is None
    events = _events(AuditAction.EDIT_SETTINGS)
    assert [(e.clinic_id, e.record_ids, e.address) for e in events] == [
        (north.id, [north.id], "198.51.100.7")
    ] * 3
    assert [e.detail["removed"] for e in events] == [False, False, True]


def test_rebase_months_are_whole_months_saved_once_and_audited(
    world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    assert set_rebase(north.id, date(2025, 7, 20), True, clock, ACTOR) is True
    assert set_rebase(north.id, date(2025, 7, 1), True, clock, ACTOR) is False
    assert db.session.scalars(select(AttendanceRebase.month)).all() == [date(2025, 7, 1)]
    assert set_rebase(north.id, date(2025, 8, 1), False, clock, ACTOR) is False
    assert set_rebase(north.id, date(2025, 7, 31), False, clock, ACTOR) is True
    assert db.session.scalars(select(AttendanceRebase)).all() == []
    with pytest.raises(NotFound):
        set_rebase(north.id + 99, date(2025, 7, 1), True, clock, ACTOR)
    assert [e.detail for e in _events(AuditAction.EDIT_SETTINGS)] == [
        {"setting": "dna_rebase", "month": "2025-07", "removed": False},
        {"setting": "dna_rebase", "month": "2025-07", "removed": True},
    ]


def test_a_download_names_its_clinics_and_organisation(world: World, clock: FixedClock) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    east = world.clinic("east", org="other")
    record_export([north], "dna", 12, "csv", clock, ACTOR)
    record_export([south, north], "funnel", 2, "svg", clock, ACTOR)
    record_export([north, east], "board", 2, "csv", clock, ACTOR)
    found = [
        (e.clinic_id, e.organisation_id, e.record_ids, e.detail)
        for e in _events(AuditAction.EXPORT)
    ]
    assert found == [
        (
            north.id,
            north.organisation_id,
            [north.id],
            {"what": "attendance_dna", "format": "csv", "rows": 12},
        ),
        (
            None,
            north.organisation_id,
            sorted([north.id, south.id]),
            {"what": "attendance_funnel", "format": "svg", "rows": 2},
        ),
        (
            None,
            None,
            sorted([north.id, east.id]),
            {"what": "attendance_board", "format": "csv", "rows": 2},
        ),
    ]
