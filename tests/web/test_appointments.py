"""The diary pages: a day's appointments with their reminders, and a day's outcomes
recorded in one go."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.states import MessageState
from app.patients.models import Patient
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World

A = AppointmentStatus
S = MessageState
#: The fixed clock's day: Monday 2 March 2026, 09:00 UTC (09:00 in London).
TODAY = "2026-03-02"


@pytest.fixture
def north(world: World) -> Clinic:
    return world.clinic("north")


@pytest.fixture
def ann(world: World, north: Clinic) -> Patient:
    return world.patient(north, "P100", given_name="Ann", family_name="Lee")


@pytest.fixture
def receptionist(client: FlaskClient, desk: StaffDesk, north: Clinic) -> FlaskClient:
    return desk.sign_in(client, desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel"))


#: A form's CSRF token: it carries the real time and random bytes, in which a short text
#: looked for (a name, an id) can turn up by chance.
_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


def _text(answer: Any) -> str:
    """The page, its CSRF tokens left out."""
    return _TOKEN.sub('name="csrf_token"', str(answer.get_data(as_text=True)))


def _at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _status(appointment: Appointment) -> AppointmentStatus:
    db.session.expire_all()
    found = db.session.get(Appointment, appointment.id)
    assert found is not None
    return found.status


def test_the_day_shows_each_appointment_with_its_patient_and_reminders(
    receptionist: FlaskClient, world: World, north: Clinic, ann: Patient
) -> None:
    bob = world.patient(north, "P200")  # no names on file
    world.add(ann, _at(14, 30), A.BOOKED, reminders=[S.DELIVERED, S.PENDING])
    world.add(bob, _at(10), A.BOOKED, confirmed=True, reminders=[S.DELIVERED])
    world.add(bob, _at(11), A.CANCELLED_PATIENT, reminders=[S.CANCELLED])
    world.add(ann, _at(9, 0, day=3), A.BOOKED)  # tomorrow
    answer = receptionist.get("/staff/appointments")
    assert answer.status_code == 200
    page = _text(answer)
    assert "Monday 2 March 2026" in page
    assert "3 appointments" in page
    rows = re.findall(r'<tr class="nhsuk-table__row" role="row">(.*?)</tr>', page, re.S)[1:]
    flat = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert flat == [
        "Time 10:00 Patient P200 Pathway Not given Reminder Confirmed Appointment Booked",
        "Time 11:00 Patient P200 Pathway Not given Reminder Cancelled "
        "Appointment Cancelled by patient",
        "Time 14:30 Patient Ann Lee ID P100 Pathway Not given Reminder Delivered "
        "Due 28 February at 14:30 Appointment Booked",
    ]
    [seen] = _events(AuditAction.VIEW_APPOINTMENTS)
    assert (seen.record_type, seen.record_ids, seen.clinic_id) == ("patient", [ann.id], north.id)


def test_days_are_walked_with_previous_and_next_and_chosen_by_date(
    receptionist: FlaskClient, ann: Patient, world: World
) -> None:
    world.add(ann, _at(9, 0, day=3), A.BOOKED)
    page = _text(receptionist.get("/staff/appointments"))
    assert 'href="/staff/appointments?day=2026-03-01"' in page
    assert 'href="/staff/appointments?day=2026-03-03"' in page
    assert "Today" in page
    tomorrow = _text(receptionist.get("/staff/appointments?day=2026-03-03"))
    assert "Tuesday 3 March 2026" in tomorrow
    assert "1 appointment" in tomorrow
    assert "No appointments on this day." in _text(
        receptionist.get("/staff/appointments?day=2026-03-04")
    )


def test_the_day_is_each_clinic_s_own_and_filters_by_clinic_and_pathway(
    client: FlaskClient, desk: StaffDesk, world: World, north: Clinic, ann: Patient
) -> None:
    east = world.clinic("east", timezone="America/New_York")
    eve = world.patient(east, "E1", given_name="Eve", family_name="Stone")
    physio = world.add(ann, _at(10), A.BOOKED)
    physio.pathway = "physiotherapy"
    world.add(eve, _at(3, 30, day=3), A.BOOKED)  # 22:30 on the 2nd in New York
    world.add(eve, _at(3, 30, day=2), A.BOOKED)  # 22:30 on the 1st in New York
    db.session.commit()
    desk.sign_in(client, desk.member(Role.RECEPTIONIST, ["north", "east"]))
    page = _text(client.get("/staff/appointments"))
    assert "2 appointments" in page
    assert "22:30" in page
    assert "All your clinics" in page
    only_east = _text(client.get(f"/staff/appointments?day={TODAY}&clinic={east.id}"))
    assert "1 appointment" in only_east
    assert "Ann Lee" not in only_east
    physio_only = _text(client.get(f"/staff/appointments?day={TODAY}&pathway=physiotherapy"))
    assert "1 appointment" in physio_only
    assert "Ann Lee" in physio_only


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("day=2026-02-30", "day", "Enter a real date, for example 2026-03-02"),
        ("day=tomorrow", "day", "Enter a real date, for example 2026-03-02"),
        ("pathway=Bad%20Path!", "pathway", "Choose a pathway from the list"),
        ("clinic=999999", "clinic", "Choose a clinic from the list"),
        ("clinic=" + "9" * 50, "clinic", "Choose a clinic from the list"),
        ("day=" + "2" * 5000, "day", "Enter a real date, for example 2026-03-02"),
    ],
)
def test_filters_that_make_no_sense_are_400_with_the_field_named(
    receptionist: FlaskClient, query: str, field: str, message: str
) -> None:
    answer = receptionist.get(f"/staff/appointments?{query}")
    assert answer.status_code == 400
    page = _text(answer)
    assert "<title>Error: " in page
    assert re.search(rf'href="#{field}"\s*>\s*{re.escape(message)}', page)


def test_another_clinic_s_appointments_are_invisible(
    receptionist: FlaskClient, world: World, ann: Patient
) -> None:
    south = world.clinic("south", org="other")
    zed = world.patient(south, "ZED-OTHER-1", given_name="Zed", family_name="Other")
    world.add(zed, _at(12), A.BOOKED)
    page = _text(receptionist.get("/staff/appointments"))
    assert "Zed" not in page
    assert "ZED-OTHER-1" not in page
    assert "No appointments on this day." in page
    answer = receptionist.get(f"/staff/appointments?clinic={south.id}")
    assert answer.status_code == 400
    assert "Zed" not in _text(answer)
    assert receptionist.get(f"/staff/appointments/outcomes?clinic={south.id}").status_code == 404


def test_a_clinician_sees_the_day_but_records_no_outcomes(
    client: FlaskClient, desk: StaffDesk, world: World, north: Clinic, ann: Patient
) -> None:
    past = world.add(ann, _at(8), A.BOOKED)
    desk.sign_in(client, desk.member(Role.CLINICIAN, ["north"]))
    page = _text(client.get("/staff/appointments"))
    assert "Ann Lee" in page
    assert "Record outcomes" not in page
    outcomes = f"/staff/appointments/outcomes?clinic={north.id}&day={TODAY}"
    assert client.get(outcomes).status_code == 403
    token = csrf_token(client, "/staff/appointments")  # the sign-out form's
    assert token
    answer = client.post(outcomes, data={"csrf_token": token, f"outcome-{past.id}": "dna"})
    assert answer.status_code == 403
    assert _status(past) is A.BOOKED


@pytest.mark.parametrize("role", [Role.ANALYST, Role.EXPERIENCE_LEAD, Role.AUDITOR])
def test_roles_without_appointments_are_refused(
    client: FlaskClient, desk: StaffDesk, north: Clinic, role: Role
) -> None:
    desk.sign_in(client, desk.member(role, ["north"]))
    assert client.get("/staff/appointments").status_code == 403
    assert client.get(f"/staff/appointments/outcomes?clinic={north.id}").status_code == 403
    assert "Appointments" not in _text(client.get("/staff/"))


def test_a_receptionist_records_a_day_s_outcomes_in_one_go(
    receptionist: FlaskClient, world: World, north: Clinic, ann: Patient, clock: FixedClock
) -> None:
    bob = world.patient(north, "P200")
    came = world.add(ann, _at(7, 30), A.BOOKED)
    missed = world.add(bob, _at(8), A.BOOKED)
    unknown = world.add(bob, _at(8, 30), A.BOOKED)
    later = world.add(ann, _at(15), A.BOOKED)  # has not started: not on the form
    day_page = _text(receptionist.get("/staff/appointments"))
    path = f"/staff/appointments/outcomes?day={TODAY}&clinic={north.id}"
    assert f'href="{path.replace("&", "&amp;")}"' in day_page
    form = _text(receptionist.get(path))
    assert f'name="outcome-{came.id}"' in form
    assert f'name="outcome-{later.id}"' not in form
    answer = receptionist.post(
        path,
        data={
            "csrf_token": csrf_token(receptionist, path),
            f"outcome-{came.id}": "attended",
            f"outcome-{missed.id}": "dna",
            f"outcome-{unknown.id}": "",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/staff/appointments?day={TODAY}&clinic={north.id}"
    assert [_status(a) for a in (came, missed, unknown, later)] == [
        A.ATTENDED,
        A.DNA,
        A.BOOKED,
        A.BOOKED,
    ]
    [event] = _events(AuditAction.RECORD_OUTCOMES)
    assert event.record_ids == [came.id, missed.id]
    assert event.detail == {"appointments": 2, "attended": 1, "dna": 1}
    after = _text(receptionist.get(answer.headers["Location"]))
    assert "Outcomes saved for 2 appointments." in after


def test_a_bad_row_refuses_the_whole_form_and_is_named(
    receptionist: FlaskClient, world: World, north: Clinic, ann: Patient
) -> None:
    came = world.add(ann, _at(7, 30), A.BOOKED)
    odd = world.add(ann, _at(8), A.BOOKED)
    path = f"/staff/appointments/outcomes?day={TODAY}&clinic={north.id}"
    answer = receptionist.post(
        path,
        data={
            "csrf_token": csrf_token(receptionist, path),
            f"outcome-{came.id}": "attended",
            f"outcome-{odd.id}": "maybe",
        },
    )
    assert answer.status_code == 422
    page = _text(answer)
    assert re.search(rf'href="#outcome-{odd.id}"\s*>\s*08:00 Ann Lee: Choose an outcome', page)
    assert 'value="attended" checked' in page  # what was chosen is kept
    assert (_status(came), _status(odd)) == (A.BOOKED, A.BOOKED)
    assert _events(AuditAction.RECORD_OUTCOMES) == []


def test_an_empty_form_or_one_for_rows_not_on_the_list_saves_nothing(
    receptionist: FlaskClient, world: World, north: Clinic, ann: Patient
) -> None:
    came = world.add(ann, _at(7, 30), A.BOOKED)
    south = world.clinic("south", org="other")
    theirs = world.add(world.patient(south, "Z1"), _at(7), A.BOOKED)
    path = f"/staff/appointments/outcomes?day={TODAY}&clinic={north.id}"
    empty = receptionist.post(
        path, data={"csrf_token": csrf_token(receptionist, path), f"outcome-{came.id}": ""}
    )
    assert empty.status_code == 422
    assert re.search(
        rf'href="#outcome-{came.id}"\s*>\s*Choose an outcome for at least one appointment',
        _text(empty),
    )
    foreign = receptionist.post(
        path,
        data={
            "csrf_token": csrf_token(receptionist, path),
            f"outcome-{came.id}": "attended",
            f"outcome-{theirs.id}": "dna",
        },
    )
    assert foreign.status_code == 400
    assert "The list has changed since you opened it" in _text(foreign)
    assert (_status(came), _status(theirs)) == (A.BOOKED, A.BOOKED)
    without_token = receptionist.post(path, data={f"outcome-{came.id}": "attended"})
    assert without_token.status_code == 400
    assert _status(came) is A.BOOKED
