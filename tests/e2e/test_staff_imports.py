"""A clinic manager in Chromium: the day's appointments, an upload with a bad row (its
problem read on the page and the report downloaded), and a past day's outcomes recorded
in one go. Every page is checked by axe-core and saved as a screenshot at 1280x800.

The import runs on a worker: the test runs the queued job here, then loads the page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from redis import Redis
from sqlalchemy import text

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.roles import Role
from app.extensions import db
from app.messaging.states import MessageState
from app.queueing import QueueName
from app.runtime import get_runtime
from app.uploads.progress import ProgressBoard
from tests.e2e.staff import DESKTOP, check_page, open_section, sign_in, watch_policy
from tests.web.staff import StaffDesk
from tests.world import World
from workers.worker import InProcessWorker, bind

if TYPE_CHECKING:
    from playwright.sync_api import Page

A = AppointmentStatus
S = MessageState
HEADER = (
    "external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile,given_name,family_name"
)
PATIENTS = [
    "P301,+447400300301,en,1961,F,A,2,Grace,Okafor",
    "P302,+447400300302,pl,1990,M,C,4,Tomasz,Nowak",
    "P303,09098790000,en,1975,F,A,1,Jo,Bad",
    "P304,+447400300304,cy,2001,F,A,5,Catrin,Jones",
]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _diary(world: World) -> None:
    """North's diary: today's appointments in every reminder state, and yesterday's."""
    north = world.clinic("north")
    world.clinic("north-annex")
    names = [
        ("P101", "Ann", "Lee"),
        ("P102", "Bilal", "Hussain"),
        ("P103", "Carys", "Evans"),
        ("P104", "Dev", "Sharma"),
        ("P105", "Ewa", "Kowalska"),
        ("P106", "Femi", "Adeyemi"),
    ]
    people = [world.patient(north, e, given_name=g, family_name=f) for e, g, f in names]
    ann, bilal, carys, dev, ewa, femi = people
    world.add(ann, _at(2, 9, 30), A.BOOKED, confirmed=True, reminders=[S.DELIVERED])
    world.add(bilal, _at(2, 10), A.BOOKED, reminders=[S.DELIVERED])
    world.add(carys, _at(2, 11, 15), A.BOOKED, reminders=[S.SENT])
    world.add(dev, _at(2, 13), A.BOOKED, reminders=[S.FAILED])
    world.add(ewa, _at(2, 14, 30), A.CANCELLED_PATIENT, reminders=[S.CANCELLED])
    world.add(femi, _at(2, 15), A.BOOKED, reminders=[S.SUPPRESSED])
    world.add(ann, _at(3, 9), A.BOOKED, reminders=[S.PENDING])
    for person, hour in ((bilal, 9), (carys, 10), (dev, 11), (ewa, 14)):
        world.add(person, _at(1, hour), A.BOOKED, reminders=[S.DELIVERED])
    for appointment in db.session.scalars(db.select(Appointment)):
        appointment.pathway = "physiotherapy" if appointment.id % 2 else "podiatry"
    db.session.commit()


def _work(app: Flask, redis_conn: Redis) -> None:
    bind(app)
    queue = get_runtime(app).queue.queue(QueueName.IMPORTS)
    InProcessWorker([queue], connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert queue.failed_job_registry.count == 0


def test_a_clinic_manager_imports_a_file_and_records_a_day_s_outcomes(
    page: Page,
    base_url: str,
    app: Flask,
    desk: StaffDesk,
    world: World,
    redis_conn: Redis,
    tmp_path: Path,
) -> None:
    _diary(world)
    manager = desk.member(Role.CLINIC_MANAGER, ["north", "north-annex"], name="Mia Khan")
    refused = watch_policy(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base_url, desk, manager)  # with the authenticator code

    # The day's appointments and where their reminders stand.
    open_section(page, "Appointments")
    page.wait_for_url(re.compile(r".*/staff/appointments$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Monday 2 March 2026")
    table = page.get_by_role("table")
    for word in ("Confirmed", "Delivered", "Sent", "Failed", "Cancelled", "Opted out"):
        assert table.get_by_text(word, exact=True).count() >= 1, word
    table.get_by_text("Bilal Hussain").wait_for()
    check_page(page, "staff-appointments")

    # An upload with one bad row.
    open_section(page, "Imports")
    check_page(page, "staff-imports")  # no imports yet (saved again below, with one)
    page.get_by_label("Clinic").select_option(label="North")
    page.get_by_label("Patients").check()
    csv_file = tmp_path / "new-patients.csv"
    csv_file.write_text("\n".join([HEADER, *PATIENTS]) + "\n", encoding="utf-8")
    page.get_by_label("File").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r".*/staff/imports/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("heading", name="Waiting to start").wait_for()

    # As it runs: the progress bar (a count as a worker would tell it).
    db.session.execute(
        text("UPDATE import_runs SET state = 'running' WHERE id = :id"), {"id": run_id}
    )
    db.session.commit()
    ProgressBoard(redis_conn).tell(run_id, 12_500, 50_000)
    page.reload()
    page.get_by_text("12,500 of 50,000 rows done (25%)").wait_for()
    check_page(page, "staff-import-progress")
    db.session.execute(
        text("UPDATE import_runs SET state = 'queued' WHERE id = :id"), {"id": run_id}
    )
    db.session.commit()

    _work(app, redis_conn)
    page.reload()
    page.get_by_role("heading", name="Imported, with problems").wait_for()
    problem = "new-patients.csv:4: phone: premium rate number not accepted"
    page.get_by_text(problem).wait_for()
    check_page(page, "staff-import-run")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download the report (text file)").click()
    report = Path(downloading.value.path()).read_text(encoding="utf-8")
    assert report == f"{problem}\npatients: 3 created, 0 updated, 0 unchanged, 1 bad row\n"
    page.get_by_role("link", name="Back to imports").click()
    page.get_by_role("link", name="new-patients.csv").wait_for()
    check_page(page, "staff-imports")

    # Yesterday's outcomes, in one go.
    page.goto(f"{base_url}/staff/appointments")
    page.get_by_role("link", name="Previous day").click()
    page.get_by_role("heading", level=1, name=re.compile(r"^Sunday 1 March 2026")).wait_for()
    page.get_by_role("button", name="Record outcomes").click()
    page.get_by_role("heading", name="Record outcomes").wait_for()
    chosen = {
        "Bilal Hussain": "Attended",
        "Carys Evans": "Did not attend",
        "Dev Sharma": "Patient cancelled",
    }
    for name, outcome in chosen.items():
        page.get_by_role("group", name=re.compile(name)).get_by_label(outcome).check()
    page.evaluate("document.activeElement.blur()")
    check_page(page, "staff-outcomes")
    page.get_by_role("button", name="Save outcomes").click()
    page.get_by_text("Outcomes saved for 3 appointments.").wait_for()
    db.session.expire_all()
    statuses = {
        a.patient_id: a.status
        for a in db.session.scalars(db.select(Appointment))
        if a.starts_at.day == 1
    }
    assert sorted(s.value for s in statuses.values()) == [
        "attended",
        "booked",
        "cancelled_patient",
        "dna",
    ]
    assert refused == []
