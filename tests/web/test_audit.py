"""The audit log in the workspace: `/staff/audit` (auditors and admins), its CSV export
and the data retention form."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor, record
from app.clinics.models import Clinic, Organisation
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.web.staff import Member, StaffDesk, csrf_token, post_form
from tests.world import World

FORMULA_NAME = '=HYPERLINK("http://evil.example","open")'


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north", org="trust")


@pytest.fixture
def south(world: World) -> Clinic:
    return world.clinic("south", org="elsewhere")


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _auditor(desk: StaffDesk, client: Any, org: str = "trust") -> Member:
    member = desk.member(Role.AUDITOR, org=org, name="Aud Itor")
    desk.sign_in(client, member)
    return member


def _date(prefix: str, day: int, month: int, year: int) -> dict[str, str]:
    return {f"{prefix}_day": str(day), f"{prefix}_month": str(month), f"{prefix}_year": str(year)}


def _search(client: Any, **filters: str) -> Any:
    return post_form(client, "/staff/audit", filters)


def _table(text: str) -> str:
    return (
        text.split('class="nhsuk-table', 1)[1].split("</table>", 1)[0] if "</table>" in text else ""
    )


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_auditors_and_admins_read_the_log(
    client: Any, desk: StaffDesk, north: Clinic, role: Role
) -> None:
    member = desk.member(role, name="Reader One")
    desk.sign_in(client, member)
    home = client.get("/staff/")
    assert 'href="/staff/audit"' in _text(home)
    page = client.get("/staff/audit")
    text = _text(page)
    assert page.status_code == 200
    assert "<title>Audit log – WeSaid</title>" in text
    assert "Signed in" in _table(text)
    assert re.search(rf"Reader One<span [^>]*>{re.escape(member.email)}</span>", _table(text))
    assert "Data retention" in text
    assert "13 months" in text
    assert ('href="/staff/audit/retention"' in text) == (role is Role.ADMIN)
    [viewed] = _events(AuditAction.VIEW_AUDIT)
    assert (viewed.actor_user_id, viewed.record_type) == (member.user_id, "audit_log")
    assert viewed.organisation_id == north.organisation_id
    assert viewed.detail["page"] == 1


@pytest.mark.parametrize(
    "role",
    [Role.CLINIC_MANAGER, Role.CLINICIAN, Role.RECEPTIONIST, Role.EXPERIENCE_LEAD, Role.ANALYST],
)
def test_other_roles_cannot(client: Any, desk: StaffDesk, north: Clinic, role: Role) -> None:
    desk.sign_in(client, desk.member(role, ["north"]))
    assert client.get("/staff/audit").status_code == 403
    token = csrf_token(client, "/staff/")
    for path in ("/staff/audit", "/staff/audit/export"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403
    assert 'href="/staff/audit"' not in _text(client.get("/staff/"))
    assert _events(AuditAction.VIEW_AUDIT) == _events(AuditAction.EXPORT) == []


def test_signed_out_goes_to_sign_in(client: Any) -> None:
    answer = client.get("/staff/audit")
    assert (answer.status_code, answer.headers["Location"].endswith("/staff/sign-in")) == (
        302,
        True,
    )


def test_another_organisations_events_are_invisible(
    client: Any, desk: StaffDesk, clock: FixedClock, north: Clinic, south: Clinic
) -> None:
    theirs = desk.member(Role.RECEPTIONIST, ["south"], org="elsewhere", name="Zebedee Theirs")
    desk.sign_in(client, theirs)  # their sign-in
    client.get("/staff/")
    record(
        AuditAction.VIEW_PATIENT,
        Actor(user_id=theirs.user_id, address="192.0.2.77"),
        clock.now(),
        record_type="patient",
        record_ids=[424242],
        clinic_id=south.id,
        organisation_id=south.organisation_id,
    )
    db.session.commit()
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    _auditor(desk, client)
    for page in (client.get("/staff/audit"), _search(client), _search(client, record_id="424242")):
        text = _text(page)
        assert page.status_code == 200
        assert "Zebedee" not in text
        assert "424242" not in _table(text)
        assert "192.0.2.77" not in text
    assert "No events match your search" in _text(_search(client, record_id="424242"))
    export = post_form(client, "/staff/audit/export", {}, page="/staff/audit")
    assert "Zebedee" not in _text(export)
    assert "424242" not in _text(export)


def test_a_search_filters_by_action_person_type_and_record(
    client: Any, desk: StaffDesk, clock: FixedClock, north: Clinic
) -> None:
    ours = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    for patient_id in (11, 12):
        record(
            AuditAction.VIEW_PATIENT,
            Actor(user_id=ours.user_id, address="10.9.8.7"),
            clock.now(),
            record_type="patient",
            record_ids=[patient_id],
            clinic_id=north.id,
            organisation_id=north.organisation_id,
        )
    db.session.commit()
    _auditor(desk, client)
    page = _search(
        client,
        action="view_patient",
        user=str(ours.user_id),
        record_type="patient",
        record_id="12",
        **_date("since", 2, 3, 2026),
        **_date("until", 2, 3, 2026),
    )
    table = _table(_text(page))
    assert page.status_code == 200
    assert table.count('<tr class="nhsuk-table__row"') == 2  # the heading and one event
    assert "Viewed a patient" in table
    assert "patient 12" in table
    assert "Rita Patel" in table
    assert "North" in table
    assert "10.9.8.7" in table
    assert "2 Mar 2026, 09:00:00" in table
    assert "No events match" in _text(_search(client, **_date("since", 3, 3, 2026)))


def test_pages_go_newest_first(
    client: Any, desk: StaffDesk, clock: FixedClock, north: Clinic
) -> None:
    for number in range(55):
        record(
            AuditAction.EXPORT,
            Actor(),
            clock.now(),
            record_type="report",
            record_ids=[number + 1],
            organisation_id=north.organisation_id,
        )
    db.session.commit()
    _auditor(desk, client)
    first = _text(_search(client, record_type="report"))
    assert "Showing events 1 to 50, newest first" in first
    assert "report 55" in _table(first)
    assert re.search(r'<button[^>]*name="page"[^>]*value="1"', first)
    second = _text(_search(client, record_type="report", page="1"))
    assert "Showing events 51 to 55" in second
    assert "report 1<" in _table(second)
    assert re.search(r'<button[^>]*name="page"[^>]*value="0"', second)


BAD_FILTERS: list[dict[str, str]] = [
    _date("since", 45, 13, 2026),
    _date("since", 31, 2, 2026),
    {"since_day": "yesterday"},
    {"since_day": "2"},
    _date("until", 1, 1, 1999),
    {**_date("since", 5, 3, 2026), **_date("until", 1, 3, 2026)},
    _date("until", 31, 12, 9999),
    {"until_day": "1", "until_month": "1", "until_year": "99999"},
    {"since_day": "٣", "since_month": "3", "since_year": "2026"},
    {"action": "drop_tables"},
    {"user": "999999"},
    {"user": "x"},
    {"record_type": "nonsense"},
    {"record_id": "abc"},
    {"record_id": "-4"},
    {"record_id": "99999999999999999999999"},
    {"record_id": "٣"},
    {"record_id": "9" * 5000},
]


def test_bad_filters_are_explained_never_a_crash(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    _auditor(desk, client)
    for filters in BAD_FILTERS:
        first = next(iter(filters))
        field = first if not first.startswith(("since", "until")) else ""
        field = field or ("until_day" if "until_day" in filters else "since_day")
        for path in ("/staff/audit", "/staff/audit/export"):
            answer = post_form(client, path, filters, page="/staff/audit")
            text = _text(answer)
            assert answer.status_code == 422, (filters, path)
            assert "There is a problem" in text
            assert "<title>Error: Audit log" in text
            assert re.search(rf'href="#{field}"', text), filters
    assert _events(AuditAction.EXPORT) == []


def test_a_bad_page_number_is_never_a_crash(client: Any, desk: StaffDesk, north: Clinic) -> None:
    _auditor(desk, client)
    for page in ("x", "-1", "99999999999999999999", "", "1e9", "9" * 5000):
        assert _search(client, page=page).status_code == 200, page


def test_the_export_escapes_formulas_and_is_audited(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    sneaky = desk.member(Role.RECEPTIONIST, ["north"], name=FORMULA_NAME)
    desk.sign_in(client, sneaky)  # their sign-in is in the log, named
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    auditor = _auditor(desk, client)
    answer = post_form(client, "/staff/audit/export", {"action": "sign_in"}, page="/staff/audit")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="audit-log-\d{8}-\d{6}\.csv"', answer.headers["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(_text(answer))))
    assert rows[0][:3] == ["when_utc", "action", "who"]
    who = {row[2] for row in rows[1:]}
    assert f"'{FORMULA_NAME} ({sneaky.email})" in who
    assert f"Aud Itor ({auditor.email})" in who
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    [export] = _events(AuditAction.EXPORT)
    assert (export.actor_user_id, export.record_type, export.detail) == (
        auditor.user_id,
        "audit_log",
        {"events": len(rows) - 1},
    )


def test_admins_set_the_retention_period(client: Any, desk: StaffDesk, north: Clinic) -> None:
    admin = desk.member(Role.ADMIN)
    desk.sign_in(client, admin)
    form = client.get("/staff/audit/retention")
    assert form.status_code == 200
    assert 'value="13"' in _text(form)
    refused = post_form(
        client,
        "/staff/audit/retention",
        {"organisation": str(north.organisation_id), "months": "0"},
    )
    assert refused.status_code == 422
    assert "Enter a whole number of months from 1 to 120" in _text(refused)
    saved = post_form(
        client,
        "/staff/audit/retention",
        {"organisation": str(north.organisation_id), "months": "6"},
    )
    assert (saved.status_code, saved.headers["Location"]) == (303, "/staff/audit")
    assert "The retention period has been saved" in _text(client.get("/staff/audit"))
    db.session.expire_all()
    assert db.session.get(Organisation, north.organisation_id).retention_months == 6  # type: ignore[union-attr]
    [changed] = _events(AuditAction.EDIT_SETTINGS)
    assert (changed.actor_user_id, changed.detail) == (admin.user_id, {"retention_months": 6})


def test_an_admin_cannot_set_another_organisations_period(
    client: Any, desk: StaffDesk, north: Clinic, south: Clinic
) -> None:
    desk.sign_in(client, desk.member(Role.ADMIN))
    answer = post_form(
        client,
        "/staff/audit/retention",
        {"organisation": str(south.organisation_id), "months": "1"},
    )
    assert answer.status_code == 422
    assert "Choose an organisation from the list" in _text(answer)
    db.session.expire_all()
    assert db.session.get(Organisation, south.organisation_id).retention_months == 13  # type: ignore[union-attr]


def test_auditors_cannot_change_the_period(client: Any, desk: StaffDesk, north: Clinic) -> None:
    _auditor(desk, client)
    assert client.get("/staff/audit/retention").status_code == 403
