"""The DNA report: every section's definition on small hand-made data, and how the stored
counts follow late changes (outcomes, demographics, delivery receipts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.appointments.imports import import_outcome_rows
from app.appointments.models import AppointmentStatus as S
from app.appointments.service import withdraw_appointment
from app.attendance import refresh as cells_refresh
from app.attendance.reports import AttendanceReport, Counts, Rate, funnel_points
from app.attendance.service import attendance_report, refresh_counts
from app.core.clock import FixedClock
from app.core.intervals import wilson_interval
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState as M
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from tests.world import World

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


def noon(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def people(world: World) -> dict[str, Patient]:
    """North (the clinic reported on) and south in one trust, west in another.

    North, January and February 2026 (a-f have outcomes; g-l are cancellations or
    rebook requests; n has no outcome yet). Reminders: D delivered, E expired,
    U undelivered.

    | id | who | day    | status            | reminders | booked | other               |
    | a  | p1  | 10 Jan | attended          | D, D      | 10 d   | confirmed           |
    | b  | p1  | 20 Jan | dna               | D         | 3 d    |                     |
    | c  | p2  | 15 Jan | dna               | E         | 30 d   |                     |
    | d  | p3  | 25 Jan | dna               |           | 60 d   |                     |
    | e  | p2  | 5 Feb  | attended          | U         | 20 d   |                     |
    | f  | p3  | 10 Feb | dna               |           | 10 d   |                     |
    | g  | p1  | 12 Feb | cancelled_patient |           |        | 72 h notice         |
    | h  | p2  | 14 Feb | cancelled_patient |           |        | 10 h notice         |
    | i  | p3  | 16 Feb | cancelled_clinic  |           |        |                     |
    | j  | p1  | 20 Feb | booked            |           |        | rebook 24 h before  |
    | k  | p1  | 10 Mar | booked            |           | 13 d   | (fulfils j's rebook) |
    | l  | p2  | 26 Feb | cancelled_patient |           |        | rebook 6 d before   |
    | n  | p3  | 27 Feb | booked            |           |        | no outcome yet      |
    """
    north, south, west = world.clinic("north"), world.clinic("south"), world.clinic("west", "other")
    p = {
        "p1": world.patient(
            north, "p1", birth_year=1990, sex="F", ethnic_category="A", imd_quintile=1
        ),
        "p2": world.patient(
            north, "p2", birth_year=1950, sex="M", ethnic_category="M", imd_quintile=5, locale="pl"
        ),
        "p3": world.patient(north, "p3", locale="ur"),
        "s1": world.patient(south, "s1"),
        "w1": world.patient(west, "w1"),
    }
    add = world.add
    add(p["p1"], noon(1, 10), S.ATTENDED, reminders=[M.DELIVERED, M.DELIVERED], confirmed=True)
    add(p["p1"], noon(1, 20), S.DNA, reminders=[M.DELIVERED], booked_days_before=3)
    add(p["p2"], noon(1, 15), S.DNA, reminders=[M.EXPIRED], booked_days_before=30)
    add(p["p3"], noon(1, 25), S.DNA, booked_days_before=60)
    add(p["p2"], noon(2, 5), S.ATTENDED, reminders=[M.UNDELIVERED], booked_days_before=20)
    add(p["p3"], noon(2, 10), S.DNA)
    add(p["p1"], noon(2, 12), S.CANCELLED_PATIENT, cancel_lead_minutes=72 * 60)
    add(p["p2"], noon(2, 14), S.CANCELLED_PATIENT, cancel_lead_minutes=600)
    add(p["p3"], noon(2, 16), S.CANCELLED_CLINIC)
    add(p["p1"], noon(2, 20), S.BOOKED, rebook_requested_at=noon(2, 19))
    add(p["p1"], noon(3, 10), S.BOOKED, booked_days_before=13)
    add(p["p2"], noon(2, 26), S.CANCELLED_PATIENT, rebook_requested_at=noon(2, 20))
    add(p["p3"], noon(2, 27), S.BOOKED)
    for day in range(1, 11):
        add(p["s1"], noon(1, day), S.DNA if day <= 2 else S.ATTENDED)
    for day in range(1, 6):
        add(p["w1"], noon(1, day), S.DNA)
    return p


def _report(clock: FixedClock, first: date = JAN, last: date = FEB) -> AttendanceReport:
    return attendance_report("north", first, last, clock)


def _table(rows: list[Rate]) -> dict[str, tuple[int, int]]:
    return {row.label: (row.n, row.dna) for row in rows}


@pytest.mark.storage
def test_every_section_counts_by_its_definition(
    backend: str, people: dict[str, Patient], clock: FixedClock
) -> None:
    report = _report(clock)
    assert (report.overall.n, report.overall.dna) == (6, 4)
    assert (report.overall.low, report.overall.high) == pytest.approx(wilson_interval(4, 6))
    assert _table(report.months) == {"2026-01": (4, 3), "2026-02": (2, 1)}
    groups = {name: _table(rows) for name, rows in report.groups.items()}
    assert {k: v for k, v in groups["age_band"].items() if v[0]} == {
        "25-39": (2, 1),
        "75+": (2, 1),
        "unknown": (2, 2),
    }
    assert list(groups["age_band"]) == [
        "16-24",
        "25-39",
        "40-54",
        "55-64",
        "65-74",
        "75+",
        "unknown",
    ]
    assert groups["sex"] == {"F": (2, 1), "M": (2, 1), "unknown": (2, 2)}
    assert {k: v for k, v in groups["ethnic"].items() if v[0]} == {
        "white": (2, 1),
        "black": (2, 1),
        "unknown": (2, 2),
    }
    assert {k: v for k, v in groups["imd"].items() if v[0]} == {
        "1": (2, 1),
        "5": (2, 1),
        "unknown": (2, 2),
    }
    assert groups["language"] == {"en": (2, 1), "pl": (2, 1), "ur": (2, 2), "unknown": (0, 0)}
    assert _table(report.exposure) == {
        "none": (2, 2),
        "planned": (2, 1),
        "delivered": (1, 1),
        "confirmed": (1, 0),
    }
    assert _table(report.exposure_itt) == {"reminder planned": (4, 2), "none planned": (2, 2)}
    assert _table(report.lead) == {
        "0-6": (1, 1),
        "7-13": (2, 1),
        "14-27": (1, 0),
        "28-55": (1, 1),
        "56+": (1, 1),
        "unknown": (0, 0),
    }
    assert [
        (r.band, r.cancelled_by_patient, r.rebook_requests, r.rebooked) for r in report.notice
    ] == [
        ("72h+", 1, 1, 0),
        ("24-72h", 0, 1, 1),
        ("<24h", 1, 0, 0),
        ("unknown", 1, 0, 0),
    ]
    assert report.cancelled_by_clinic == 1


@pytest.mark.storage
def test_the_funnel_compares_the_clinics_of_the_organisation(
    backend: str, people: dict[str, Patient], clock: FixedClock
) -> None:
    report = _report(clock)
    assert report.funnel_rate == pytest.approx(6 / 16)
    assert [(p.clinic, p.n, p.dna) for p in report.funnel] == [("north", 6, 4), ("south", 10, 2)]
    for point in report.funnel:
        assert point.limits is not None
        assert point.outside is not None
        low95, high95 = point.limits["95"]
        low998, high998 = point.limits["99.8"]
        assert low998 <= low95 < 6 / 16 < high95 <= high998
        assert point.outside["95"] == (not low95 <= (point.rate or 0) <= high95)


def test_the_report_text_names_the_rate_and_every_section(
    people: dict[str, Patient], clock: FixedClock
) -> None:
    text = _report(clock).render_text()
    assert "DNA rate = DNA / (attended + DNA)" in text
    for heading in ("By month", "By age band", "By reminder exposure", "By booking lead time"):
        assert heading in text
    assert "*north" in text
    assert "2026-01" in text


def test_a_late_outcome_changes_the_figures_at_the_next_report(
    people: dict[str, Patient], world: World, clock: FixedClock
) -> None:
    assert _table(_report(clock).months)["2026-02"] == (2, 1)
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    north = world.clinics["north"]
    late = world.appointment(north, "X13")  # n: p3 on 27 February, no outcome yet
    report = import_outcome_rows(
        north.id,
        [{"external_id": late.external_id, "outcome": "dna"}],
        source="t",
        strict=True,
        clock=clock,
    )
    assert report.updated == 1
    again = _report(clock)
    assert _table(again.months)["2026-02"] == (3, 2)
    assert (again.overall.n, again.overall.dna) == (7, 5)


@pytest.mark.storage
def test_appointments_entered_in_error_count_nowhere(
    backend: str, people: dict[str, Patient], world: World, clock: FixedClock
) -> None:
    """Neither attended nor DNA, nor a cancellation by the patient or the clinic, nor the
    booking that fulfils a rebook request; withdrawn late, they leave the figures."""
    world.add(people["p1"], noon(1, 11), S.ENTERED_IN_ERROR, reminders=[M.CANCELLED])
    before = _report(clock)
    assert (before.overall.n, before.overall.dna, before.cancelled_by_clinic) == (6, 4, 1)
    clock.advance(timedelta(hours=1))
    north = world.clinics["north"]
    for external_id in ("X7", "X9", "X11", "X13"):  # g, i, k (fulfils j's rebook), n
        withdraw_appointment(world.appointment(north, external_id).id, clock)
    db.session.commit()
    after = _report(clock)
    assert (after.overall.n, after.overall.dna) == (6, 4)
    assert _table(after.months) == _table(before.months)
    assert after.groups == before.groups
    assert [
        (r.band, r.cancelled_by_patient, r.rebook_requests, r.rebooked) for r in after.notice
    ] == [
        ("72h+", 0, 1, 0),
        ("24-72h", 0, 1, 0),
        ("<24h", 1, 0, 0),
        ("unknown", 1, 0, 0),
    ]
    assert after.cancelled_by_clinic == 0


def test_changed_demographics_and_late_receipts_reach_the_figures(
    people: dict[str, Patient], world: World, clock: FixedClock
) -> None:
    _report(clock)
    clock.advance(timedelta(hours=1))
    north = world.clinics["north"]
    row = {"external_id": "p3", "phone": people["p3"].phone, "locale": "ur", "sex": "F"}
    import_patient_rows(north.id, [row], source="t", strict=True, clock=clock)
    c = world.appointment(north, "X3")
    db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.appointment_id == c.id)
        .values(state=M.DELIVERED, updated_at=clock.now())
    )
    db.session.commit()
    report = _report(clock)
    assert _table(report.groups["sex"])["F"] == (4, 3)
    assert _table(report.exposure)["delivered"] == (2, 2)


def test_months_are_built_once_then_only_changed_days_are_recomputed(
    people: dict[str, Patient], world: World, clock: FixedClock
) -> None:
    clinic_ids = [clinic.id for clinic in world.clinics.values()]
    clock.advance(cells_refresh.WATERMARK_MARGIN * 2)  # past the margin, so the data is not "new"
    first = refresh_counts(dict.fromkeys(clinic_ids, (JAN, FEB)), clock)
    assert first.months_built == 6
    clock.advance(timedelta(days=1))
    quiet = refresh_counts(dict.fromkeys(clinic_ids, (JAN, FEB)), clock)
    assert (quiet.months_built, quiet.days_recomputed) == (0, 0)
    north = world.clinics["north"]
    late = world.appointment(north, "X13")
    import_outcome_rows(
        north.id,
        [{"external_id": late.external_id, "outcome": "attended"}],
        source="t",
        strict=True,
        clock=clock,
    )
    after = refresh_counts({}, clock)
    assert (after.months_built, after.days_recomputed) == (0, 1)


@pytest.mark.storage
def test_months_follow_the_clinic_clock(backend: str, world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "p1")
    world.add(patient, datetime(2026, 3, 31, 23, 30, tzinfo=UTC), S.DNA)  # 00:30 BST, 1 April
    world.add(patient, datetime(2026, 3, 1, 0, 30, tzinfo=UTC), S.ATTENDED)  # GMT: 1 March
    report = attendance_report("north", MAR, date(2026, 4, 30), clock)
    assert _table(report.months) == {"2026-03": (1, 0), "2026-04": (1, 1)}


@pytest.mark.parametrize(
    ("counts", "rate", "limits"),
    [
        ([("a", Counts(attended=8, dna=2)), ("b", Counts())], 0.2, {"a": True, "b": False}),
        ([("a", Counts(attended=5)), ("b", Counts(attended=3))], 0.0, {"a": False, "b": False}),
        ([("a", Counts())], None, {"a": False}),
    ],
)
def test_funnel_points_without_data_or_spread_have_no_limits(
    counts: list[tuple[str, Counts]], rate: float | None, limits: dict[str, bool]
) -> None:
    pooled, points = funnel_points(counts)
    assert pooled == rate
    assert {p.clinic: p.limits is not None for p in points} == limits


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (Counts(), ("x", 0, 0, None, None, None)),
        (Counts(attended=3, dna=1, cancelled_patient=5), ("x", 4, 1, 0.25, *wilson_interval(1, 4))),
    ],
)
def test_a_rate_leaves_cancellations_out_of_the_denominator(
    counts: Counts, expected: tuple[Any, ...]
) -> None:
    rate = Rate.of("x", counts)
    assert (rate.label, rate.n, rate.dna, rate.rate, rate.low, rate.high) == expected


def test_a_period_ending_before_it_starts_is_refused(world: World, clock: FixedClock) -> None:
    world.clinic("north")
    with pytest.raises(Exception, match="the period ends before it starts"):
        attendance_report("north", FEB, JAN, clock)
