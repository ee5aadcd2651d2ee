"""The themes page: survey themes as weighted shares with intervals (suppressed under 10
coded answers), beside PALS contacts and complaints, and who complains against who is
seen; downloads are audited; a place outside the staff member's reach is refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.appointments.models import AppointmentStatus
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.themes import service
from app.themes.codebook import codebook, name_resolver
from app.themes.models import PalsContact, ThemeComment
from app.themes.pals import PalsKind
from tests.web.staff import StaffDesk
from tests.world import World
from tests.yousaid.seed import surveyed_month

NOW = datetime(2026, 4, 20, 9, tzinfo=UTC)
WORDS = ("The staff were kind",) * 14


def _code(clinic: Clinic, how_many: int) -> None:
    """Confirm the first `how_many` comments of the clinic as about staff manner, every
    other one about parking too."""
    find = name_resolver(codebook(clinic.organisation_id))
    staff, parking = find("Staff manner & personal attributes"), find("Parking")
    assert staff is not None
    assert parking is not None
    comments = db.session.scalars(
        select(ThemeComment).where(ThemeComment.clinic_id == clinic.id).order_by(ThemeComment.id)
    ).all()
    for index, comment in enumerate(comments[:how_many]):
        themes = [staff.id, parking.id] if index % 2 else [staff.id]
        service.confirm(comment.id, themes, 2, SYSTEM, NOW)


def _complaints(world: World, clinic: Clinic) -> None:
    """12 complaints from Asian patients about parking; 30 White and 10 Asian patients seen."""
    find = name_resolver(codebook(clinic.organisation_id))
    parking = find("Parking")
    assert parking is not None
    for index in range(12):
        contact = PalsContact(
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            contact_date=date(2026, 3, 5),
            kind=PalsKind.COMPLAINT,
            text=None,
            ethnic_category="H",
            row_key=f"complaint-{index}",
            imported_at=NOW,
        )
        db.session.add(contact)
        db.session.flush()
        comment = service.pals_comment(contact, NOW)
        db.session.add(comment)
        db.session.flush()
        service.set_codes(comment, [parking.id])
        comment.confirmed_at = NOW
    db.session.commit()
    for k in range(40):
        patient = world.patient(clinic, f"P{k}", ethnic_category="H" if k < 10 else "A")
        world.add(patient, datetime(2026, 3, 10, 9, tzinfo=UTC), AppointmentStatus.ATTENDED)


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    surveyed_month(made, "2026-03", 20, 14, WORDS)
    return made


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def test_shares_pals_and_who_complains(
    client: Any, desk: StaffDesk, world: World, north: Clinic
) -> None:
    _code(north, 9)
    _complaints(world, north)
    desk.sign_in(client, desk.member(Role.ANALYST, ["north"]))
    where = f"where=clinic:{north.id}&month=2026-03"
    # Nine coded answers: no share yet.
    page = _text(client.get(f"/staff/themes?{where}"))
    assert "Not enough coded answers yet" in page
    _code(north, 14)
    page = _text(client.get(f"/staff/themes?{where}"))
    assert "Themes patients wrote about" in page
    assert "Staff manner &amp; personal attributes" in page
    assert "100.0%" in page  # every coded respondent mentioned staff manner
    # Parking beside its twelve complaints; who complained, by ethnic group.
    assert "Beside PALS contacts and complaints" in page
    assert "Who contacts PALS or complains, by ethnic group" in page
    assert "Asian or Asian British" in page

    answer = client.get(f"/staff/themes/download/survey.csv?{where}")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(_text(answer))))
    assert rows[0][:3] == ["Theme", "Category", "Weighted share"]
    staff = next(r for r in rows if r[0] == "Staff manner & personal attributes")
    assert float(staff[2]) == pytest.approx(1.0)
    assert float(staff[4]) <= 1.0
    beside = list(
        csv.reader(io.StringIO(_text(client.get(f"/staff/themes/download/beside.csv?{where}"))))
    )
    parking = next(r for r in beside if r[0] == "Parking")
    assert parking[4] == "12"  # complaints
    assert client.get(f"/staff/themes/download/who-ethnic.svg?{where}").status_code == 200
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
    ).all()
    assert [e.detail["what"] for e in exports] == [
        "themes_survey",
        "themes_beside",
        "themes_who-ethnic",
    ]

    # One group's share: the women among the respondents.
    women = _text(client.get(f"/staff/themes?{where}&who=sex:F"))
    assert "Staff manner &amp; personal attributes" in women or "Not enough coded" in women


@pytest.mark.parametrize(
    "query",
    ["where=clinic:999999", "month=1999-01", "who=sex:Q", "who=nonsense", "where=organisation:x"],
)
def test_bad_choices_are_400(client: Any, desk: StaffDesk, north: Clinic, query: str) -> None:
    desk.sign_in(client, desk.member(Role.ANALYST, ["north"]))
    answer = client.get(f"/staff/themes?{query}")
    assert answer.status_code == 400
    assert "There is a problem" in _text(answer)
    assert client.get(f"/staff/themes/download/survey.csv?{query}").status_code == 404


def test_another_clinics_themes_are_not_offered(
    app: Flask, client: Any, desk: StaffDesk, north: Clinic
) -> None:
    south = db.session.scalar(select(Clinic).where(Clinic.slug == "south"))
    assert south is not None
    desk.sign_in(client, desk.member(Role.EXPERIENCE_LEAD, ["south"]))
    page = client.get(f"/staff/themes?where=clinic:{north.id}")
    assert page.status_code == 400
    assert f'value="clinic:{north.id}"' not in _text(page)
    receptionist = app.test_client()
    desk.sign_in(receptionist, desk.member(Role.RECEPTIONIST, ["north"]))
    assert receptionist.get("/staff/themes").status_code == 403


def test_any_choice_is_answered_without_error(client: Any, desk: StaffDesk, north: Clinic) -> None:
    desk.sign_in(client, desk.member(Role.ANALYST, ["north"]))
    known = [f"clinic:{north.id}", "2026-03", "sex:F", "imd:1"]
    value = st.one_of(st.sampled_from(known), st.text(max_size=16))

    @settings(max_examples=40, deadline=None, phases=[Phase.generate])
    @given(where=value, month=value, who=value, figure=st.sampled_from(["survey", "who-imd", "x"]))
    def visit(where: str, month: str, who: str, figure: str) -> None:
        args = {"where": where, "month": month, "who": who}
        assert client.get("/staff/themes", query_string=args).status_code in (200, 400)
        download = client.get(f"/staff/themes/download/{figure}.csv", query_string=args)
        assert download.status_code in (200, 404)

    visit()
