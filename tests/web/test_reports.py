"""The board report: a PDF of the month's dashboards with each chart's table, holding only
what the reader may see, written from the web or the command line, and in the audit log;
its fonts cover every script patients write in."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from flask import Flask
from pypdf import PdfReader
from redis import Redis
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.core.locales import SUPPORTED_LOCALES
from app.experiments.assigning import assign_experiment
from app.experiments.service import record_decision
from app.extensions import db
from app.reports.models import BoardReportRun, ReportState
from app.results.service import compute_snapshot
from app.web import board_report
from app.web.pdf import FONT_FAMILIES, SCRIPT_SAMPLES, render_pdf, uncovered
from tests.attendance.monthly import add_months, series
from tests.results import cohorts
from tests.web.staff import StaffDesk, csrf_token, post_form
from tests.web.test_experiments import arms_of, book, make_experiment, settle
from tests.web.test_imports import work
from tests.world import World

MONTH = "2026-02"
FIRST = date(2024, 3, 1)
NORTH_DNA = [12, 11, 13, 12, 10, 14, 12, 11, 13, 12, 12, 11, 13, 12, 10, 14, 8, 7, 8, 6, 7, 8, 7, 6]
SOUTH_DNA = [9, 10, 8, 9, 11, 10] * 4
SURVEY_MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02"]


@pytest.fixture
def bare(world: World) -> dict[str, Clinic]:
    """Two clinics of a trust and one of another trust, without any figures."""
    return {
        "north": world.clinic("north", org="trust"),
        "south": world.clinic("south", org="trust"),
        "east": world.clinic("east", org="other"),
    }


@pytest.fixture
def trust(world: World, clock: FixedClock, bare: dict[str, Clinic]) -> dict[str, Clinic]:
    """The trust's clinics with two years of outcomes, four months of survey results at
    north (and for the trust), and a running experiment."""
    clinics = bare
    for slug, dna, n in (("north", NORTH_DNA, 100), ("south", SOUTH_DNA, 60)):
        patient = world.patient(clinics[slug], f"{slug}-1")
        add_months(clinics[slug], [patient], series(FIRST, dna, n), world.clock)
    cohorts.survey_months(clinics["north"], SURVEY_MONTHS, 300)
    for period in SURVEY_MONTHS:
        at = datetime.strptime(period, "%Y-%m").replace(day=28, tzinfo=UTC) + timedelta(days=10)
        compute_snapshot(
            str(clinics["north"].survey_slug),
            "organisation",
            clinics["north"].organisation_id,
            period,
            at,
        )
    experiment = make_experiment(
        "cost", ["north"], clock, planned_n_per_arm=200, starts_at="2026-02-01T00:00:00+00:00"
    )
    book(world, clinics["north"], 80)
    assign_experiment("cost", clock)
    arms = arms_of(experiment.id)
    settle(arms["A"][:35], dna=10)
    settle(arms["B"][:35], dna=3)
    record_decision("cost", clock)
    return clinics


def _pdf_text(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(text.split()), reader


def _ask(client: Any, organisation_id: int, month: str = MONTH) -> Any:
    """Ask for the report with the form; the answer (a redirect to its page, or the form)."""
    data = {"organisation": str(organisation_id), "month": month}
    return post_form(client, "/staff/reports", data)


def _download(client: Any, app: Flask, redis_conn: Redis, organisation_id: int) -> Any:
    """Ask for the report, let a worker make it, and download it from its page."""
    asked = _ask(client, organisation_id)
    assert asked.status_code == 303, asked.get_data(as_text=True)[:2000]
    page_url = asked.headers["Location"]
    waiting = client.get(page_url)
    assert "Waiting to start" in waiting.get_data(as_text=True)
    work(app, redis_conn)
    ready = client.get(page_url).get_data(as_text=True)
    assert "Ready" in ready, ready
    return client.get(f"{page_url}/board.pdf")


def _events() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == AuditAction.EXPORT)
            .order_by(AuditEvent.id)
        )
    )


def test_an_analyst_downloads_every_section_with_its_charts_and_tables(
    app: Flask, desk: StaffDesk, trust: dict[str, Clinic], redis_conn: Redis
) -> None:
    client = app.test_client()
    analyst = desk.member(Role.ANALYST, [], org="trust")
    desk.sign_in(client, analyst)
    page = client.get("/staff/reports")
    assert page.status_code == 200
    assert "Make the board report" in page.get_data(as_text=True)
    answer = _download(client, app, redis_conn, trust["north"].organisation_id)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="board-report-trust-2026-02.pdf"'
    )
    text, reader = _pdf_text(answer.data)
    assert len(reader.pages) >= 6
    for words in (
        "Board report: February 2026",
        "1. Attendance",
        "2. Patient experience",
        "3. Who is not heard",
        "4. Experiments",
        "5. Goals that matter to patients",
        "No goals were opened in the twelve months to this month.",
        "DNA rate by month, North",
        "DNA rate by month, South",
        "Friends and Family Test, February 2026",
        "Response rate by age band",
        "Experiment cost",
        "Difference in DNA rate at each look",
    ):
        assert words in text, words
    # Only the trust's clinics: nothing of the other trust's.
    assert "east" not in {c.slug for c in trust.values() if c.name in text} - {"north", "south"}
    [event] = _events()
    assert (event.actor_user_id, event.organisation_id, event.record_type) == (
        analyst.user_id,
        trust["north"].organisation_id,
        "organisation",
    )
    assert event.detail == {"what": "board_report", "format": "pdf", "month": MONTH, "clinics": 2}
    listed = client.get("/staff/reports").get_data(as_text=True)
    assert "Your reports" in listed
    assert "February 2026" in listed


def test_the_report_holds_only_what_the_role_reaches(
    app: Flask, desk: StaffDesk, trust: dict[str, Clinic], redis_conn: Redis
) -> None:
    client = app.test_client()
    desk.sign_in(client, desk.member(Role.EXPERIENCE_LEAD, [], org="trust"))
    answer = _download(client, app, redis_conn, trust["north"].organisation_id)
    text, _ = _pdf_text(answer.data)
    assert "This report does not cover attendance." in text
    assert "This report does not cover experiments." in text
    assert "This report does not cover goals." in text
    assert "Friends and Family Test, February 2026" in text
    assert "DNA rate by month" not in text


def test_a_manager_of_one_clinic_gets_that_clinic_without_the_trust_figures(
    app: Flask, desk: StaffDesk, trust: dict[str, Clinic], redis_conn: Redis
) -> None:
    client = app.test_client()
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["south"], org="trust"))
    answer = _download(client, app, redis_conn, trust["south"].organisation_id)
    text, _ = _pdf_text(answer.data)
    assert "DNA rate by month, South" in text
    assert "DNA rate by month, North" not in text
    assert "Results for the organisation as a whole are left out" in text


@pytest.mark.parametrize(
    ("organisation", "month", "field"),
    [
        ("999999", MONTH, "Choose an organisation from the list"),
        ("", MONTH, "Choose an organisation from the list"),
        (None, "2019-01", "Choose a month from the list"),
        (None, "\x00", "Choose a month from the list"),
        (None, "9" * 500, "Choose a month from the list"),
    ],
)
def test_what_is_not_on_the_lists_is_refused(
    app: Flask,
    desk: StaffDesk,
    bare: dict[str, Clinic],
    organisation: str | None,
    month: str,
    field: str,
) -> None:
    client = app.test_client()
    desk.sign_in(client, desk.member(Role.ANALYST, [], org="trust"))
    chosen = organisation if organisation is not None else str(bare["north"].organisation_id)
    answer = post_form(client, "/staff/reports", {"organisation": chosen, "month": month})
    assert answer.status_code == 400
    assert field in answer.get_data(as_text=True)
    assert db.session.scalars(select(BoardReportRun)).all() == []


def test_another_trust_s_report_is_not_on_the_list(
    app: Flask, desk: StaffDesk, bare: dict[str, Clinic]
) -> None:
    client = app.test_client()
    desk.sign_in(client, desk.member(Role.ANALYST, [], org="other"))
    answer = _ask(client, bare["north"].organisation_id)
    assert answer.status_code == 400
    assert db.session.scalars(select(BoardReportRun)).all() == []


def test_a_report_is_only_for_who_asked_for_it(
    app: Flask, desk: StaffDesk, bare: dict[str, Clinic]
) -> None:
    first, second = app.test_client(), app.test_client()
    desk.sign_in(first, desk.member(Role.ANALYST, [], org="trust"))
    desk.sign_in(second, desk.member(Role.ANALYST, [], org="trust"))
    page_url = _ask(first, bare["north"].organisation_id).headers["Location"]
    assert first.get(page_url).status_code == 200
    assert first.get(f"{page_url}/board.pdf").status_code == 404  # not made yet
    for url in (page_url, f"{page_url}/status", f"{page_url}/board.pdf"):
        assert second.get(url).status_code == 404
    assert _events() == []


def test_roles_without_the_report_are_refused(
    app: Flask, desk: StaffDesk, bare: dict[str, Clinic]
) -> None:
    for role in (Role.RECEPTIONIST, Role.CLINICIAN, Role.AUDITOR):
        client = app.test_client()
        desk.sign_in(client, desk.member(role, [], org="trust"))
        assert client.get("/staff/reports").status_code == 403
        token = csrf_token(client, "/staff/")
        data = {"csrf_token": token, "organisation": str(bare["north"].organisation_id)}
        assert client.post("/staff/reports", data={**data, "month": MONTH}).status_code == 403


def test_the_command_writes_the_report_and_says_so(
    app: Flask, trust: dict[str, Clinic], tmp_path: Path
) -> None:
    out = tmp_path / "board.pdf"
    runner = app.test_cli_runner()
    done = runner.invoke(
        args=["report", "board", "--org", "trust", "--month", MONTH, "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "board report of" in done.output
    text, _ = _pdf_text(out.read_bytes())
    assert "DNA rate by month, North" in text
    assert "DNA rate by month, South" in text
    [event] = _events()
    assert (event.actor_user_id, event.detail["what"]) == (None, "board_report")


def test_the_command_in_welsh(app: Flask, trust: dict[str, Clinic], tmp_path: Path) -> None:
    out = tmp_path / "board.pdf"
    args = ["report", "board", "--org", "trust", "--month", MONTH, "--out", str(out)]
    done = app.test_cli_runner().invoke(args=[*args, "--lang", "cy"])
    assert done.exit_code == 0, done.output
    text, _ = _pdf_text(out.read_bytes())
    assert "Chwefror 2026" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nowhere", "--month", MONTH], "--org: no organisation 'nowhere'"),
        (["--org", "trust", "--month", "2026-13"], "--month"),
    ],
)
def test_the_command_refuses_bad_input(
    app: Flask, bare: dict[str, Clinic], tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "board.pdf"
    done = app.test_cli_runner().invoke(args=["report", "board", *args, "--out", str(out)])
    assert done.exit_code == 2
    assert message in done.output
    assert not out.exists()
    assert _events() == []


def test_fonts_cover_every_script_patients_write_in() -> None:
    assert uncovered() == []
    names = {code: Locale.parse(code).get_display_name(code) or code for code in SUPPORTED_LOCALES}
    samples = " ".join(letters for _, letters in SCRIPT_SAMPLES.values())
    stack = ", ".join(f'"{family}"' for family in FONT_FAMILIES)
    html = (
        f"<html><head><style>body {{ font-family: {stack} }}</style></head><body>"
        + "".join(f"<p>{name}</p>" for name in names.values())
        + f"<p>{samples}</p></body></html>"
    )
    text, reader = _pdf_text(render_pdf(html))
    fonts = {
        str(font["/BaseFont"]).split("+", 1)[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
        for font in [font.get_object()]
    }
    for family in ("Arabic", "Bengali", "Gujarati", "Gurmukhi", "CJK"):
        assert any(family in font for font in fonts), (family, fonts)
    assert not any("DejaVu" in font for font in fonts), fonts  # no fallback was needed
    for code in ("cy", "pl", "ro", "lt", "zh_Hans", "gu", "pa"):
        assert names[code] in text, code


def test_a_report_that_cannot_be_made_says_so(
    app: Flask,
    desk: StaffDesk,
    bare: dict[str, Clinic],
    redis_conn: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(report: object) -> bytes:
        raise RuntimeError("the fonts went missing")

    monkeypatch.setattr(board_report, "board_report_pdf", broken)
    client = app.test_client()
    desk.sign_in(client, desk.member(Role.ANALYST, [], org="trust"))
    page_url = _ask(client, bare["north"].organisation_id).headers["Location"]
    work(app, redis_conn)
    page = client.get(page_url).get_data(as_text=True)
    assert "The report could not be made. Ask for it again" in page
    assert client.get(f"{page_url}/board.pdf").status_code == 404
    [run] = db.session.scalars(select(BoardReportRun)).all()
    assert (run.state, run.pdf) == (ReportState.FAILED, None)
