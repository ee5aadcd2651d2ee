"""The demo's month on the dashboards: the effects the simulator seeds show where staff look.

`wesaid demo` runs once (a subprocess, as `make demo` runs it) and keeps its SQLite file.
An app on that file then serves the workspace to an analyst of the demo's trust, on the
morning after the month (as `--serve` leaves it), and each page's figures are checked
against what the simulator seeded:

- the wording experiment: the arm whose reminder states the cost (the simulator lowers
  the odds of a DNA after it) has the lower DNA rate, and every look of the forest plots
  is on the side of fewer DNAs with it;
- who is not heard, for the whole trust: the groups given the lowest response propensity
  (the young and the most deprived) have the lowest response rates;
- the board report for the month: its four sections, each with the month's figures;
- themes: those the simulated patients write about most come out on top.

The size and seed (the demo's own seed) give a month of about 230 appointments whose
effects are clear at that size; the figures expected come from the simulator and the
database, never from a run.
"""

from __future__ import annotations

import fcntl
import html
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from redis import Redis
from sqlalchemy import func, select

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.queries import find_organisation
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.demo.month import (
    APP_SHARES,
    CLINICS,
    EXPERIMENT,
    LANDLINE_SHARE,
    ORGANISATION,
    SERVED_AT,
    START,
)
from app.demo.summary import dashboard_urls
from app.experiments.queries import get_experiment
from app.extensions import db
from app.patients.models import Patient
from app.results.models import SurveyInvitation
from app.simulator.behaviour import COST_MESSAGE_ODDS_RATIO
from app.simulator.comments import THEME_WEIGHTS
from app.simulator.population import Behaviour, generate_population
from app.surveys.models import SurveySession
from app.themes.framework import framework
from app.web.results_labels import level_name
from tests.conftest import REDIS_URL, make_test_app
from tests.demo.tables import counts, number, page_tables
from tests.web.conftest import RequestPerContextClient
from tests.web.staff import StaffDesk, post_form
from tests.web.test_imports import work

pytestmark = pytest.mark.slow

PATIENTS = 200
SEED = 7
MONTH = f"{START:%Y-%m}"
MONTH_NAME = f"{START:%B %Y}"
#: A group's rate is compared only when at least this many of it were invited.
MIN_INVITED = 20
#: The simulator's answers counted as positive: 1 Very good, 2 Good.
POSITIVE = frozenset({1, 2})


@dataclass(frozen=True)
class Invited:
    """One patient invited to the survey in the demo's month, with what the simulator
    gave them: how likely they are to answer, and their honest answer."""

    levels: dict[str, str]
    propensity: float
    true_answer: int


@dataclass(frozen=True)
class Demo:
    app: Flask
    redis: Redis
    client: FlaskClient
    summary: dict[str, Any]
    organisation_id: int
    experiment_id: int
    invited: list[Invited]


def _children_cpu() -> float:
    """CPU seconds used by the processes this one has started and waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run_demo(workdir: Path) -> None:
    """Run the month in `workdir`, keeping its database and summary there."""
    database, out = workdir / "demo.sqlite3", workdir / "demo.json"
    command = [sys.executable, "-c", "from app.cli import main; main()", "demo"]
    args = ["--patients", str(PATIENTS), "--seed", str(SEED), "--json", str(out)]
    started, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run(
        [*command, *args, "--database", str(database)],
        cwd=workdir,
        env={**os.environ, "WESAID_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    took, used = time.monotonic() - started, _children_cpu() - cpu
    sys.stderr.write(f"\nthe demo's month took {took:.1f} s ({used:.1f} s of CPU)\n")


def _month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The demo's database and summary, from one run per test session: pytest-xdist
    workers share it (the first to take the lock runs the month, the others wait for it)
    and each reads and writes a copy of its own."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    kept = shared / "demo-month"
    with (shared / "demo-month.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (kept / "demo.json").exists():
            kept.mkdir(exist_ok=True)
            _run_demo(kept)
    mine = tmp_path_factory.mktemp("demo")
    for file in kept.glob("demo.sqlite3*"):
        shutil.copy2(file, mine / file.name)
    return mine / "demo.sqlite3", json.loads((kept / "demo.json").read_text())


def _invited() -> list[Invited]:
    personas = generate_population(
        PATIENTS, SEED, landline_share=LANDLINE_SHARE, app_shares=APP_SHARES
    )
    behaviour = Behaviour(personas, SEED)
    rows = db.session.execute(
        select(SurveyInvitation, Patient.phone)
        .join(SurveySession, SurveySession.id == SurveyInvitation.session_id)
        .join(Patient, Patient.id == SurveySession.patient_id)
        .where(SurveyInvitation.period == MONTH)
    ).all()
    found = []
    for invitation, phone in rows:
        persona = behaviour.get_persona(phone)
        levels = {v: getattr(invitation, v) for v in ("age_band", "sex", "ethnic", "imd")}
        found.append(Invited(levels, persona.response_propensity, behaviour.true_fft_answer(phone)))
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    database, summary = _month(tmp_path_factory)
    redis: Redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    clock = FixedClock(SERVED_AT)  # as `wesaid demo --serve` leaves it
    app = make_test_app(f"sqlite:///{database}", clock, redis)
    app.test_client_class = RequestPerContextClient
    client = app.test_client()
    with app.app_context():
        desk = StaffDesk(app, clock)
        desk.sign_in(client, desk.member(Role.ANALYST, [], org=ORGANISATION))
        organisation = find_organisation(ORGANISATION)
        assert organisation is not None
        experiment = get_experiment(str(EXPERIMENT["slug"]))
        yield Demo(app, redis, client, summary, organisation.id, experiment.id, _invited())
        db.session.remove()
        db.engine.dispose()
    redis.flushdb()
    redis.close()


def _page(demo: Demo, path: str) -> dict[str, list[list[str]]]:
    answer = demo.client.get(path)
    assert answer.status_code == 200, path
    return page_tables(answer.get_data(as_text=True))


# -- the wording experiment -------------------------------------------------------------------


def test_the_wording_that_states_the_cost_has_fewer_dnas(demo: Demo) -> None:
    # The simulator lowers the odds of a DNA after a reminder with the second arm's
    # wording, the one that states the cost; the first arm keeps the usual reminder.
    assert COST_MESSAGE_ODDS_RATIO < 1
    control, treatment = (str(arm["name"]) for arm in EXPERIMENT["arms"])
    assert "reminder" in EXPERIMENT["arms"][1]
    assert "reminder" not in EXPERIMENT["arms"][0]

    tables = _page(demo, f"/staff/experiments/{demo.experiment_id}")
    arms = {row[0]: row for row in tables["arms-table"]}
    assert set(arms) == {control, treatment}
    rates = {}
    for name, row in arms.items():
        analysed, dna, rate = int(number(row[2])), int(number(row[3])), number(row[4])
        assert rate == pytest.approx(dna / analysed, abs=0.0005)  # as shown, to 0.1%
        rates[name] = dna / analysed
    assert rates[treatment] < rates[control]

    # A row per look; each on the side of fewer DNAs with the cost wording.
    differences = tables["risk-difference-table"]
    odds = tables["odds-ratio-table"]
    assert differences
    assert len(odds) == len(differences)
    assert all(number(row[1]) < 0 for row in differences)
    assert all(number(row[1]) < 1 for row in odds)
    # The latest look's interval holds the odds ratio the simulator seeded.
    low, high = number(odds[-1][2]), number(odds[-1][3])
    assert low < COST_MESSAGE_ODDS_RATIO < high


# -- who is not heard ------------------------------------------------------------------------


def _seeded(invited: list[Invited], variable: str) -> dict[str, tuple[int, float]]:
    """Each group's invitations and the mean response propensity the simulator gave them."""
    groups: dict[str, list[float]] = defaultdict(list)
    for person in invited:
        groups[person.levels[variable]].append(person.propensity)
    return {level: (len(values), fmean(values)) for level, values in groups.items()}


def test_the_groups_seeded_to_answer_least_have_the_lowest_response(demo: Demo) -> None:
    # The demo ends as the nightly run: a snapshot of each clinic, of the whole trust and
    # of the goals pathway (the one pathway its appointments name).
    assert demo.summary["result_snapshots"] == len(CLINICS) + 2
    query = f"where=organisation:{demo.organisation_id}&survey=fft&month={MONTH}"
    answer = demo.client.get(f"/staff/results/heard?{query}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    tables = page_tables(page)
    overall = fmean(person.propensity for person in demo.invited)
    for variable, table in (("age_band", "rates-age-band-table"), ("imd", "rates-imd-table")):
        with demo.app.test_request_context():
            seeded = {
                level_name(variable, level): found
                for level, found in _seeded(demo.invited, variable).items()
            }
        shown = {row[0]: counts(row[4]) for row in tables[table]}
        # Every group's invitations are the trust's: both clinics, the whole month.
        assert {name: invited for name, (_, invited) in shown.items()} == {
            name: n for name, (n, _) in seeded.items()
        }
        rates = {
            name: responded / invited
            for name, (responded, invited) in shown.items()
            if invited >= MIN_INVITED
        }
        least_likely = min(rates, key=lambda name: seeded[name][1])
        lowest = min(rates, key=rates.__getitem__)
        # The group the simulator made least likely to answer is among the two lowest
        # shown, and the lowest shown was seeded below the cohort's mean.
        assert least_likely in sorted(rates, key=rates.__getitem__)[:2], (variable, rates)
        assert seeded[lowest][1] < overall, (variable, lowest)
    # No group is far enough below the rest to be flagged at this size (the top of its
    # interval under half the rest's rate), and the page says so.
    assert "No group's response rate is far below the rest's" in html.unescape(page)


# -- the board report ------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def _dna_by_clinic() -> dict[str, tuple[int, int]]:
    """Each clinic's DNAs, and its appointments attended or missed, over the month."""
    rows = db.session.execute(
        select(Clinic.name, Appointment.status, func.count())
        .join(Clinic, Clinic.id == Appointment.clinic_id)
        .where(Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.DNA]))
        .group_by(Clinic.name, Appointment.status)
    ).all()
    found: dict[str, dict[AppointmentStatus, int]] = defaultdict(dict)
    for name, status, n in rows:
        found[name][status] = n
    return {name: (by[AppointmentStatus.DNA], sum(by.values())) for name, by in found.items()}


def _board_report(demo: Demo) -> bytes:
    """Ask for the month's board report on its page, let a worker make it, download it."""
    data = {"organisation": str(demo.organisation_id), "month": MONTH}
    asked = post_form(demo.client, "/staff/reports", data)
    assert asked.status_code == 303, asked.get_data(as_text=True)[:2000]
    work(demo.app, demo.redis)
    answer = demo.client.get(f"{asked.headers['Location']}/board.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    return bytes(answer.data)


def test_the_board_report_of_the_month_has_every_section_with_figures(demo: Demo) -> None:
    text = _pdf_text(_board_report(demo))
    sections = ("Attendance", "Patient experience", "Who is not heard", "Experiments")
    for index, heading in enumerate(sections, start=1):
        assert f"{index}. {heading}" in text
    for empty in (
        "attendance is recorded for these months",
        f"No survey has results for {MONTH_NAME}",
        f"No survey has results for the organisation for {MONTH_NAME}",
        f"No wording experiment ran in {MONTH_NAME}",
    ):
        assert empty not in text

    # Attendance: each clinic's DNA rate for the month, from its appointments.
    with demo.app.app_context():
        dna = _dna_by_clinic()
    assert len(dna) == len(CLINICS)
    for name, (missed, analysed) in dna.items():
        assert f"{name} {MONTH_NAME} {100 * missed / analysed:.1f}% {missed} {analysed}" in text

    # Patient experience for the whole trust: everyone invited in the month, and an
    # interval around the weighted share positive that holds the simulator's truth.
    invited = len(demo.invited)
    truth = sum(person.true_answer in POSITIVE for person in demo.invited) / invited
    sentence = text.split("Friends and Family Test: ", 1)[1].split(" invited.", 1)[0]
    assert sentence.endswith(f"of {invited}")
    low, high = (number(v) for v in sentence.split("interval ", 1)[1].split(")")[0].split(" to "))
    assert low < truth < high

    # Who is not heard and the experiment: the figures their pages show.
    query = f"where=organisation:{demo.organisation_id}&survey=fft&month={MONTH}"
    heard = _page(demo, f"/staff/results/heard?{query}")
    assert "Response rate by age band" in text
    for row in heard["rates-age-band-table"] + heard["rates-imd-table"]:
        assert f"{row[0]} {row[1]}" in text  # each bar's label and rate
    experiment = _page(demo, f"/staff/experiments/{demo.experiment_id}")
    assert f"Arms of {EXPERIMENT['title']}" in text
    for row in experiment["arms-table"]:
        assert " ".join(row) in text
    assert "Difference in DNA rate at each look" in text


def test_the_urls_the_demo_prints_open_the_month_s_dashboards(demo: Demo) -> None:
    with demo.app.app_context():
        urls = dashboard_urls("http://127.0.0.1:5000")
    assert set(urls) == {
        "results",
        "not heard",
        "themes",
        "goals",
        "experiment",
        "board report",
        "public page",
    }
    assert urls["public page"].endswith(demo.summary["public_page"])
    pages = {}
    for name, url in urls.items():
        answer = demo.client.get(url.removeprefix("http://127.0.0.1:5000"))
        assert answer.status_code == 200, name
        pages[name] = answer.get_data(as_text=True)
    # Each page shows the trust's month, the experiment its title; the board report's
    # form offers the month first.
    for name in ("results", "not heard", "board report"):
        assert f'value="{MONTH}" selected' in pages[name], name
    assert str(EXPERIMENT["title"]) in pages["experiment"]


def test_the_goals_pathway_s_estimate_holds_what_the_patients_truly_reached(demo: Demo) -> None:
    summary = demo.summary
    # Goals set on the first day, scored on the day and before every weekly visit;
    # some patients stop replying.
    assert summary["goals_tracked"] >= 10
    assert summary["goal_scores"] > summary["goals_tracked"]
    assert 10 <= summary["goals_followed_up"] <= summary["goals_tracked"]
    assert summary["goal_patients_stopped_replying"] > 0
    assert summary["reliable_improvement_weighted"] is True
    low, high = summary["reliable_improvement_ci"]
    assert low <= summary["reliable_improvement_share"] <= high
    assert low <= summary["true_reliable_improvement_share"] <= high

    # The goal outcomes page of the trust's month leads with the same estimate.
    page = demo.client.get(
        f"/staff/goals?where=organisation:{demo.organisation_id}&first={MONTH}&last={MONTH}"
    )
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    share = summary["reliable_improvement_share"]
    assert f"{100 * share:.1f}% (95% interval {100 * low:.1f}% to {100 * high:.1f}%)" in text


def test_the_themes_seeded_most_often_come_out_on_top(demo: Demo) -> None:
    # The simulated patients write about staff manner most, then gratitude and waiting
    # (app.simulator.comments.THEME_WEIGHTS); the demo codes what they wrote and weights it.
    with demo.app.app_context():
        names = {code.key: code.name for code in framework().themes}
    ranked = sorted(THEME_WEIGHTS, key=lambda key: -THEME_WEIGHTS[key])
    summary = demo.summary
    assert summary["comments_coded"] >= 20
    top = summary["themes"]
    assert top[0]["name"] == names[ranked[0]]
    assert {t["name"] for t in top[:3]} <= {names[key] for key in ranked[:4]}
    for theme in top:
        low, high = theme["ci"]
        assert 0 < low <= theme["share"] <= high < 1

    # The trust's themes page for the month leads with the same share.
    page = demo.client.get(f"/staff/themes?where=organisation:{demo.organisation_id}&month={MONTH}")
    assert page.status_code == 200
    rows = page_tables(page.get_data(as_text=True))["survey-table"]
    assert rows[0][0] == top[0]["name"]
    assert number(rows[0][2]) == pytest.approx(top[0]["share"], abs=0.0006)
