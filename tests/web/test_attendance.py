"""Attendance in the workspace: the summary of every clinic, a clinic's DNA chart (the
same numbers as `app.core.spc` computes from the seeded counts), its target and new
periods, its breakdowns, the funnel plot, every download (CSV escaped, SVG) in the audit
log, bad input refused with the field named, and other clinics out of sight."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.appointments.models import AppointmentStatus as S
from app.attendance.models import AttendanceRebase, AttendanceTarget
from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.spc import Improvement, PointType, XmR, xmr
from app.extensions import db
from tests.attendance.monthly import add_months, rates, series
from tests.charts.svgdoc import by_class, check_frame, parse
from tests.web.staff import StaffDesk, post_form
from tests.world import World

FIRST, LAST = date(2024, 3, 1), date(2026, 2, 1)
PERIOD = "first=2024-03&last=2026-02"
#: North's DNA per 100 appointments a month, March 2024 to February 2026: steady, then
#: lower from July 2025 (a change of process).
NORTH_DNA = [12, 11, 13, 12, 10, 14, 12, 11, 13, 12, 12, 11, 13, 12, 10, 14, 8, 7, 8, 6, 7, 8, 7, 6]
SOUTH_DNA = [9, 10, 8, 9, 11, 10] * 4
FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def clinics(world: World) -> dict[str, Clinic]:
    """North and south in one trust, east in another."""
    return {
        "north": world.clinic("north", org="trust"),
        "south": world.clinic("south", org="trust"),
        "east": world.clinic("east", org="other"),
    }


@pytest.fixture
def trust(world: World, clinics: dict[str, Clinic]) -> dict[str, Clinic]:
    """The clinics with two years of outcomes each."""
    for slug, dna, n in (
        ("north", NORTH_DNA, 100),
        ("south", SOUTH_DNA, 60),
        ("east", SOUTH_DNA, 80),
    ):
        patient = world.patient(clinics[slug], f"{slug}-1")
        add_months(clinics[slug], [patient], series(FIRST, dna, n), world.clock)
    return clinics


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _sign_in(client: Any, desk: StaffDesk, role: Role, clinics: tuple[str, ...] = ()) -> Any:
    return desk.sign_in(client, desk.member(role, list(clinics), org="trust"))


def _chart(page: str, prefix: str = "dna") -> Any:
    found = re.search(rf'<svg[^>]*id="{prefix}".*?</svg>', page, re.S)
    assert found is not None, f"no chart {prefix} on the page"
    return check_frame(found.group(0), prefix)


def _csv(answer: Any) -> list[list[str]]:
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(_text(answer))))


def _events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _expected(rebase_at: tuple[int, ...] = (), target: float | None = None) -> XmR:
    values = rates(series(FIRST, NORTH_DNA))
    return xmr(values, Improvement.DECREASE, target=target, rebase_at=rebase_at)


def _limit(value: str) -> float:
    return float(value) if value else math.nan


def test_the_summary_lists_each_clinic_the_user_sees_with_its_icons(
    client: Any, desk: StaffDesk, trust: dict[str, Clinic]
) -> None:
    _sign_in(client, desk, Role.ANALYST)
    answer = client.get("/staff/attendance")
    assert answer.status_code == 200
    page = _text(answer)
    assert "DNA rate by clinic, March 2024 to February 2026" in page
    assert "North" in page
    assert "South" in page
    assert "East" not in page
    expected = _expected()
    north_row = page[page.index(">North<") : page.index(">South<")]
    assert "6.0%" in north_row  # February 2026: 6 of 100
    assert f"{100 * expected.mean[-1]:.1f}%" in north_row
    assert 'data-icon="improvement_low"' in north_row
    assert "Special cause improvement: lower than expected" in north_row
    assert "No target set" in north_row
    assert "Target and new periods" not in page  # no settings on the summary


def test_the_clinic_chart_has_the_points_and_limits_spc_computes(
    client: Any, desk: StaffDesk, trust: dict[str, Clinic]
) -> None:
    north = trust["north"]
    _sign_in(client, desk, Role.ANALYST)
    page = _text(client.get(f"/staff/attendance/{north.id}?{PERIOD}"))
    expected = _expected()
    root = _chart(page)
    points = by_class(root, "point")
    assert [p.get("data-type") for p in points] == [t.value for t in expected.point_type]
    assert PointType.IMPROVEMENT in expected.point_type  # the seeded change shows
    (mean,) = by_class(root, "mean")
    assert float(mean.get("data-value") or "") == expected.mean[0]
    (upper,) = by_class(root, "upper-limit")
    assert float(upper.get("data-value") or "") == expected.upper[0]
    # The table behind it, and its CSV, hold the same numbers.
    assert 'id="dna-table"' in page
    rows = _csv(client.get(f"/staff/attendance/{north.id}/download/dna.csv?{PERIOD}"))
    assert rows[0][:5] == [
        "Month",
        "DNA rate",
        "Mean",
        "Lower process limit",
        "Upper process limit",
    ]
    body = rows[1:]
    assert [row[0] for row in body][:2] == ["Mar 2024", "Apr 2024"]
    assert [float(row[1]) for row in body] == expected.values
    assert [float(row[2]) for row in body] == expected.mean
    assert [_limit(row[3]) for row in body] == pytest.approx(expected.lower, nan_ok=True)
    assert [_limit(row[4]) for row in body] == expected.upper


def test_a_new_period_recalculates_the_limits_and_is_audited(
    client: Any, desk: StaffDesk, trust: dict[str, Clinic]
) -> None:
    north = trust["north"]
    _sign_in(client, desk, Role.CLINIC_MANAGER, ("north",))
    path = f"/staff/attendance/{north.id}/rebase?{PERIOD}"
    answer = post_form(
        client, path, {"month": "2025-07", "action": "save"}, page=f"/staff/attendance/{north.id}"
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/staff/attendance/{north.id}?{PERIOD}")
    page = _text(client.get(answer.headers["Location"]))
    assert "A new period starts in July 2025." in page
    expected = _expected(rebase_at=(16,))
    root = _chart(page)
    assert [float(m.get("data-value") or "") for m in by_class(root, "mean")] == [
        expected.mean[0],
        expected.mean[16],
    ]
    assert [p.get("data-type") for p in by_class(root, "point")] == [
        t.value for t in expected.point_type
    ]
    (event,) = _events(AuditAction.EDIT_SETTINGS)
    assert event.clinic_id == north.id
    assert event.detail == {"setting": "dna_rebase", "month": "2025-07", "removed": False}
    # Taking it away again.
    answer = post_form(
        client, path, {"month": "2025-07", "action": "remove"}, page=f"/staff/attendance/{north.id}"
    )
    assert answer.status_code == 303
    assert db.session.scalars(select(AttendanceRebase)).all() == []
    assert len(by_class(_chart(_text(client.get(f"/staff/attendance/{north.id}"))), "mean")) == 1


def test_a_target_gives_assurance_and_can_be_removed(
    client: Any, desk: StaffDesk, trust: dict[str, Clinic]
) -> None:
    north = trust["north"]
    _sign_in(client, desk, Role.CLINIC_MANAGER, ("north",))
    path, shown = f"/staff/attendance/{north.id}/target", f"/staff/attendance/{north.id}"
    answer = post_form(client, path, {"target": " 15.5 % ", "action": "save"}, page=shown)
    assert answer.status_code == 303
    stored = db.session.get(AttendanceTarget, north.id)
    assert stored is not None
    assert stored.dna_rate == pytest.approx(0.155)
    page = _text(client.get(f"{shown}?{PERIOD}"))
    assert "15.5% or lower" in page
    expected = _expected(target=0.155)
    assert expected.assurance_type is not None
    assert f'data-icon="{expected.assurance_type.value}"' in page
    assert "The target will be met consistently" in page
    (target_line,) = by_class(_chart(page), "target")
    assert float(target_line.get("data-value") or "") == pytest.approx(0.155)
    answer = post_form(client, path, {"target": "", "action": "remove"}, page=shown)
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(AttendanceTarget, north.id) is None
    events = _events(AuditAction.EDIT_SETTINGS)
    assert [e.detail for e in events] == [
        {"setting": "dna_target", "removed": False},
        {"setting": "dna_target", "removed": True},
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("first=banana", "Choose a month from the list"),
        ("last=2026-13", "Choose a month from the list"),
        ("first=2026-02&last=2025-01", "the same as or after the ‘From’ month"),
        ("first=2010-01&last=2026-02", "Choose a period of 120 months or fewer"),
        ("last=2027-01", "Choose a month up to March 2026"),
        ("first=%00", "Choose a month from the list"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(
    client: Any, desk: StaffDesk, clinics: dict[str, Clinic], query: str, message: str
) -> None:
    north = clinics["north"]
    _sign_in(client, desk, Role.ADMIN)
    for path in (
        "/staff/attendance",
        f"/staff/attendance/{north.id}",
        f"/staff/attendance/{north.id}/breakdowns",
        "/staff/attendance/funnel",
        f"/staff/attendance/{north.id}/download/dna.csv",
        "/staff/attendance/funnel.svg",
        "/staff/attendance/board.csv",
    ):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 400, path
        page = _text(answer)
        assert "There is a problem" in page
        assert message in page, path
        assert 'id="dna"' not in page
        assert 'id="funnel"' not in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"target": "", "action": "save"}, "Enter the target DNA rate as a percentage"),
        ({"target": "lots", "action": "save"}, "Enter the target DNA rate as a percentage"),
        ({"target": "100", "action": "save"}, "Enter a percentage from 0 to 99.9"),
        ({"target": "-2", "action": "save"}, "Enter a percentage from 0 to 99.9"),
        ({"target": "nan", "action": "save"}, "Enter a percentage from 0 to 99.9"),
    ],
)
def test_a_bad_target_is_a_422_and_saves_nothing(
    client: Any, desk: StaffDesk, clinics: dict[str, Clinic], form: dict[str, str], message: str
) -> None:
    north = clinics["north"]
    _sign_in(client, desk, Role.CLINIC_MANAGER, ("north",))
    shown = f"/staff/attendance/{north.id}"
    answer = post_form(client, f"{shown}/target?{PERIOD}", form, page=shown)
    assert answer.status_code == 422
    page = _text(answer)
    assert "There is a problem" in page
    assert message in page
    assert 'href="#target"' in page
    assert db.session.get(AttendanceTarget, north.id) is None
    assert _events(AuditAction.EDIT_SETTINGS) == []


@pytest.mark.parametrize("month", ["", "2025-13", "July", "2027-01"])
def test_a_bad_rebase_month_is_a_422_and_saves_nothing(
    client: Any, desk: StaffDesk, clinics: dict[str, Clinic], month: str
) -> None:
    north = clinics["north"]
    _sign_in(client, desk, Role.CLINIC_MANAGER, ("north",))
    shown = f"/staff/attendance/{north.id}"
    answer = post_form(client, f"{shown}/rebase", {"month": month, "action": "save"}, page=shown)
    assert answer.status_code == 422
    assert 'href="#month"' in _text(answer)
    assert db.session.scalars(select(AttendanceRebase)).all() == []


def test_breakdowns_and_the_funnel_plot(
    client: Any, desk: StaffDesk, world: World, trust: dict[str, Clinic]
) -> None:
    north = trust["north"]
    patient = world.patient(north, "north-2")
    for day, notice_hours in ((3, 100), (4, 30), (5, 2)):
        starts_at = datetime(2025, 9, day, 10, tzinfo=UTC)
        world.add(patient, starts_at, S.CANCELLED_PATIENT, cancel_lead_minutes=notice_hours * 60)
    _sign_in(client, desk, Role.ANALYST)
    page = _text(client.get(f"/staff/attendance/{north.id}/breakdowns?{PERIOD}"))
    assert "DNA rates by group" in page
    assert f"{sum(NORTH_DNA)} DNA of 2400 attended or DNA" in page
    for prefix in ("group-sex", "group-age-band", "exposure-itt", "lead", "notice"):
        assert f'id="{prefix}"' in page
    notice = _csv(client.get(f"/staff/attendance/{north.id}/download/notice.csv?{PERIOD}"))
    assert [row[:2] for row in notice[1:]] == [
        ["72 hours or more", "1"],
        ["24 to 72 hours", "1"],
        ["Under 24 hours", "1"],
        ["Not recorded", "0"],
    ]
    answer = client.get(f"/staff/attendance/funnel?{PERIOD}")
    assert answer.status_code == 200
    root = _chart(_text(answer), "funnel")
    assert len(by_class(root, "unit")) == 2  # north and south; east is another trust's
    rows = _csv(client.get(f"/staff/attendance/funnel.csv?{PERIOD}"))
    assert [row[:3] for row in rows[1:]] == [
        ["North", str(sum(NORTH_DNA)), "2400"],
        ["South", str(sum(SOUTH_DNA)), "1440"],
    ]


def test_downloads_are_escaped_and_audited(
    client: Any, desk: StaffDesk, trust: dict[str, Clinic]
) -> None:
    north = trust["north"]
    north.name = FORMULA_NAME
    db.session.commit()
    _sign_in(client, desk, Role.ANALYST)
    board = _csv(client.get(f"/staff/attendance/board.csv?{PERIOD}"))
    assert board[0][:3] == ["Clinic", "Latest month", "DNA rate"]
    assert [row[0] for row in board[1:]] == ["'" + FORMULA_NAME, "South"]
    funnel = _csv(client.get(f"/staff/attendance/funnel.csv?{PERIOD}"))
    assert "'" + FORMULA_NAME in [row[0] for row in funnel]
    svg = client.get(f"/staff/attendance/{north.id}/download/dna.svg?{PERIOD}")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert "attachment" in svg.headers["Content-Disposition"]
    assert 'filename="north-dna-2024-03-2026-02.svg"' in svg.headers["Content-Disposition"]
    root = parse(_text(svg).split("\n", 1)[1])
    assert len(by_class(root, "point")) == len(NORTH_DNA)
    events = _events(AuditAction.EXPORT)
    assert [
        (e.clinic_id, e.detail["what"], e.detail["format"], e.detail["rows"]) for e in events
    ] == [
        (None, "attendance_board", "csv", 2),
        (None, "attendance_funnel", "csv", 2),
        (north.id, "attendance_dna", "svg", 24),
    ]
    assert all(e.organisation_id == north.organisation_id for e in events)
    assert FORMULA_NAME not in str([e.detail for e in events])


def test_other_clinics_are_not_found_and_analysts_change_nothing(
    client: Any, desk: StaffDesk, trust: dict[str, Clinic]
) -> None:
    north, south = trust["north"], trust["south"]
    _sign_in(client, desk, Role.CLINIC_MANAGER, ("south",))
    for path in (
        f"/staff/attendance/{north.id}",
        f"/staff/attendance/{north.id}/breakdowns",
        f"/staff/attendance/{north.id}/download/dna.csv",
        f"/staff/attendance/{north.id}/download/sex.svg",
        f"/staff/attendance/{trust['east'].id}",
    ):
        assert client.get(path).status_code == 404, path
    token_page = f"/staff/attendance/{south.id}"
    answer = post_form(client, f"/staff/attendance/{north.id}/target", {"target": "5"}, token_page)
    assert answer.status_code == 404
    board = _text(client.get("/staff/attendance"))
    assert ">South<" in board
    assert ">North<" not in board
    assert client.get(f"/staff/attendance/{south.id}/download/nonsense.csv").status_code == 404
    other = desk.sign_in(client.application.test_client(), desk.member(Role.ANALYST, org="trust"))
    analyst_page = _text(other.get(f"/staff/attendance/{north.id}"))
    assert "Target and new periods" not in analyst_page
    answer = post_form(other, f"/staff/attendance/{north.id}/target", {"target": "5"}, "/staff/")
    assert answer.status_code == 403
    assert db.session.scalars(select(AttendanceTarget)).all() == []
