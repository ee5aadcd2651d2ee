"""Experiments in the workspace: the list, an experiment's figures as the analysis gives
them, a new experiment checked by the definition check and the template lint, starting
and stopping in the audit log, isolation, roles, and the downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.appointments.models import Appointment
from app.appointments.models import AppointmentStatus as S
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import SYSTEM
from app.clinics.accounts import grant
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.experiments.assigning import assign_experiment
from app.experiments.models import (
    Experiment,
    ExperimentAssignment,
    ExperimentDecision,
    ExperimentStatus,
)
from app.experiments.monitoring import observed_z
from app.experiments.service import (
    STOPPED_BY_STAFF,
    analyze_experiment,
    create_experiment,
    record_decision,
)
from app.experiments.spec import parse_definition
from app.extensions import db
from app.messaging.states import MessageState as M
from tests.charts.svgdoc import by_class, check_frame, parse
from tests.web.staff import StaffDesk, post_form
from tests.world import World

SOON = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
COST_EN = (
    "%(clinic)s: your appointment is on %(date)s at %(time)s. A missed appointment costs "
    "the NHS 160 pounds. Reply 1 to confirm, 2 to cancel or 3 to ask for a new time."
)
#: The form of a new experiment, filled in as a manager of north would.
FORM = {
    "title": "Stating the cost",
    "baseline": "11.1",
    "min_difference": "2.7",
    "alpha": "5",
    "power": "80",
    "looks": "3",
    "planned": "",
    "arm_a_name": "A",
    "arm_a_weight": "1",
    "arm_b_name": "B",
    "arm_b_weight": "1",
    "arm_b_en": COST_EN,
    "action": "save",
}


@pytest.fixture
def scene(world: World) -> dict[str, Clinic]:
    return {
        "north": world.clinic("north"),
        "south": world.clinic("south"),
        "east": world.clinic("east", "other"),
    }


def make_experiment(
    slug: str, clinics: list[str], clock: FixedClock, start: bool = True, **changes: Any
) -> Experiment:
    definition = {
        "slug": slug,
        "title": f"Experiment {slug}",
        "clinics": clinics,
        "starts_at": "2026-03-01T00:00:00+00:00",
        "baseline": 0.111,
        "min_difference": 0.027,
        "looks": 3,
        "arms": [{"name": "A"}, {"name": "B", "reminder": {"en": COST_EN}}],
        **changes,
    }
    return create_experiment(parse_definition(definition), clock, start=start)


def book(world: World, clinic: Clinic, count: int) -> list[int]:
    """Appointments of one patient at `clinic`, each with a reminder still to send."""
    patient = world.patient(clinic, f"{clinic.slug}-{len(world.clinics)}-{count}")
    return [
        world.add(patient, SOON + timedelta(minutes=n), S.BOOKED, reminders=[M.PENDING]).id
        for n in range(count)
    ]


def arms_of(experiment_id: int) -> dict[str, list[int]]:
    arms: dict[str, list[int]] = {"A": [], "B": []}
    for appointment_id, arm in db.session.execute(
        select(ExperimentAssignment.appointment_id, ExperimentAssignment.arm)
        .where(ExperimentAssignment.experiment_id == experiment_id)
        .order_by(ExperimentAssignment.appointment_id)
    ):
        arms[arm].append(appointment_id)
    return arms


def settle(ids: list[int], dna: int) -> None:
    """The first `dna` appointments were missed, the rest attended."""
    for index, appointment_id in enumerate(ids):
        status = S.DNA if index < dna else S.ATTENDED
        db.session.execute(
            update(Appointment).where(Appointment.id == appointment_id).values(status=status)
        )
    db.session.commit()


def _running(world: World, scene: dict[str, Clinic], clock: FixedClock) -> Experiment:
    """A running experiment at north with outcomes in both arms (A misses more), one look
    recorded, and more outcomes since."""
    experiment = make_experiment("cost", ["north"], clock, planned_n_per_arm=200)
    book(world, scene["north"], 120)
    assign_experiment("cost", clock)
    arms = arms_of(experiment.id)
    settle(arms["A"][:30], dna=9)
    settle(arms["B"][:30], dna=3)
    record_decision("cost", clock)
    settle(arms["A"][:55], dna=17)
    settle(arms["B"][:55], dna=5)
    return experiment


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _signed_in(client: Any, desk: StaffDesk, role: Role, clinics: list[str]) -> Any:
    return desk.sign_in(client, desk.member(role, clinics))


def _rows(answer: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_text(answer))))


# -- the list ---------------------------------------------------------------------------------


def test_the_list_shows_each_experiment_with_its_state_arms_and_progress(
    client: Any, desk: StaffDesk, world: World, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    running = _running(world, scene, clock)
    make_experiment("draft", ["north"], clock, start=False, title="=HYPERLINK(1)")
    make_experiment("both", ["north", "south"], clock, start=False)  # south is not theirs
    make_experiment("east", ["east"], clock)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    page = _text(client.get("/staff/experiments"))
    assert "Experiment cost" in page
    assert "=HYPERLINK(1)" in page
    assert "Experiment both" not in page
    assert "Experiment east" not in page
    assert f'href="/staff/experiments/{running.id}"' in page
    assert "Running" in page
    assert "Draft" in page
    assert "55 of 200 per arm" in page
    assert 'max="200" value="55"' in page
    assert "Create an experiment" in page

    rows = _rows(client.get("/staff/experiments.csv"))
    assert rows[0][:3] == ["Experiment", "State", "Clinics"]
    by_title = {row[0]: row for row in rows[1:]}
    assert set(by_title) == {"Experiment cost", "'=HYPERLINK(1)"}  # a formula is escaped
    assert by_title["Experiment cost"][1:6] == ["Running", "North", "A; B", "200", "55"]
    (export,) = _events(AuditAction.EXPORT)
    assert export.detail == {"what": "experiment_list", "format": "csv", "rows": 2}


# -- one experiment ---------------------------------------------------------------------------


def test_the_page_shows_the_figures_the_analysis_gives(
    client: Any, desk: StaffDesk, world: World, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    experiment = _running(world, scene, clock)
    analysis = analyze_experiment("cost")
    assert analysis.comparison is not None
    _signed_in(client, desk, Role.ANALYST, [])
    answer = client.get(f"/staff/experiments/{experiment.id}")
    assert answer.status_code == 200
    page = _text(answer)
    for arm in analysis.arms:
        assert arm.rate is not None
        assert arm.low is not None
        assert arm.high is not None
        for value in (arm.rate, arm.low, arm.high):
            assert f"{100 * value:.1f}%" in page
    assert "Stop the experiment" not in page  # an analyst reads, and changes nothing
    assert "Look 1 (15.0% of plan)" in page
    assert "Now (27.5% of plan)" in page

    arms = _rows(client.get(f"/staff/experiments/{experiment.id}/download/arms.csv"))
    assert arms[0][:4] == ["Arm", "Assigned", "Attended or DNA", "DNA"]
    assert [(row[0], int(row[2]), int(row[3])) for row in arms[1:]] == [
        (arm.arm, arm.n, arm.dna) for arm in analysis.arms
    ]
    assert float(arms[1][4]) == pytest.approx(analysis.arms[0].rate)
    assert float(arms[1][5]) == pytest.approx(analysis.arms[0].low)

    forest = _rows(client.get(f"/staff/experiments/{experiment.id}/download/risk-difference.csv"))
    assert [row[0] for row in forest[1:]] == ["Look 1 (15.0% of plan)", "Now (27.5% of plan)"]
    now = forest[2]
    comparison = analysis.comparison
    assert float(now[1]) == pytest.approx(comparison.risk_difference)
    assert (float(now[2]), float(now[3])) == pytest.approx(comparison.rd_ci)
    odds = _rows(client.get(f"/staff/experiments/{experiment.id}/download/odds-ratio.csv"))
    assert float(odds[2][1]) == pytest.approx(comparison.odds_ratio)

    boundary = _rows(client.get(f"/staff/experiments/{experiment.id}/download/boundary.csv"))
    looks = {row[1]: row for row in boundary[1:] if row[1]}
    assert set(looks) == {"Look 1", "Now"}
    assert float(looks["Now"][0]) == pytest.approx(0.275)
    assert float(looks["Now"][3]) == pytest.approx(observed_z(comparison.p_value))
    assert [float(row[0]) for row in boundary[1:]] == sorted(float(row[0]) for row in boundary[1:])

    progress = _rows(client.get(f"/staff/experiments/{experiment.id}/download/progress.csv"))
    assert [(row[0], float(row[1])) for row in progress[1:]] == [("A", 55.0), ("B", 55.0)]

    svg = client.get(f"/staff/experiments/{experiment.id}/download/risk-difference.svg")
    assert svg.mimetype == "image/svg+xml"
    root = check_frame(_text(svg).split("\n", 1)[1], "risk-difference")
    assert len(by_class(root, "estimate")) == 2  # a row per look
    chart = parse(_text(client.get(f"/staff/experiments/{experiment.id}/download/boundary.svg")))
    assert len(by_class(chart, "look")) == 2
    exports = _events(AuditAction.EXPORT)
    assert [(e.detail["what"], e.detail["format"]) for e in exports] == [
        ("experiment_arms", "csv"),
        ("experiment_risk-difference", "csv"),
        ("experiment_odds-ratio", "csv"),
        ("experiment_boundary", "csv"),
        ("experiment_progress", "csv"),
        ("experiment_risk-difference", "svg"),
        ("experiment_boundary", "svg"),
    ]
    assert all(e.record_ids == [experiment.id] for e in exports)


def test_decisions_are_listed_and_download_with_their_reasons(
    client: Any, desk: StaffDesk, world: World, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    experiment = _running(world, scene, clock)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    page = _text(client.get(f"/staff/experiments/{experiment.id}"))
    assert "Carry on" in page
    rows = _rows(client.get(f"/staff/experiments/{experiment.id}/download/decisions.csv"))
    assert rows[0] == [
        "Decided",
        "Decision",
        "Share of the planned size",
        "Analysed per arm",
        "p-value",
        "Reasons",
    ]
    (decision,) = db.session.scalars(select(ExperimentDecision))
    assert rows[1][1:4] == ["Carry on", "0.15", "30"]
    assert float(rows[1][4]) == pytest.approx(decision.analysis["comparison"]["p_value"])
    assert rows[1][5] == "; ".join(decision.reasons)


def test_a_look_without_any_dna_in_an_arm_has_no_odds_ratio(
    client: Any, desk: StaffDesk, world: World, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    experiment = make_experiment("cost", ["north"], clock, planned_n_per_arm=100)
    book(world, scene["north"], 60)
    assign_experiment("cost", clock)
    arms = arms_of(experiment.id)
    settle(arms["A"][:10], dna=3)
    settle(arms["B"][:10], dna=0)
    record_decision("cost", clock)
    settle(arms["A"][:15], dna=3)
    settle(arms["B"][:15], dna=0)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    path = f"/staff/experiments/{experiment.id}"
    page = _text(client.get(path))
    assert "Odds ratio not estimable" in page
    assert "There is no odds ratio yet" in page
    assert len(_rows(client.get(f"{path}/download/risk-difference.csv"))) == 3
    assert client.get(f"{path}/download/odds-ratio.csv").status_code == 404

    settle(arms["A"][:20], dna=3)
    settle(arms["B"][:20], dna=2)
    page = _text(client.get(path))
    assert "1 look has no odds ratio" in page
    odds = _rows(client.get(f"{path}/download/odds-ratio.csv"))
    assert [row[0] for row in odds[1:]] == ["Now (20.0% of plan)"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/download/arms.svg", 404),  # a table has no picture
        ("/download/nothing.csv", 404),
        ("/download/risk-difference.csv", 404),  # no comparison yet
        ("/download/progress.csv", 200),
    ],
)
def test_a_figure_the_page_does_not_have_is_not_found(
    client: Any,
    desk: StaffDesk,
    scene: dict[str, Clinic],
    clock: FixedClock,
    path: str,
    status: int,
) -> None:
    draft = make_experiment("draft", ["north"], clock, start=False)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    assert client.get(f"/staff/experiments/{draft.id}{path}").status_code == status
    assert client.get("/staff/experiments/999999").status_code == 404


# -- a new experiment -------------------------------------------------------------------------


def test_a_manager_creates_a_draft_that_the_audit_log_records(
    client: Any, desk: StaffDesk, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    form = _text(client.get("/staff/experiments/new"))
    assert "North" in form
    assert "South" not in form
    checked = post_form(client, "/staff/experiments/new", {**FORM, "action": "check"})
    assert checked.status_code == 200
    assert "No problems found. Each arm needs 1,894 appointments" in _text(checked)
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0

    saved = post_form(client, "/staff/experiments/new", FORM)
    assert saved.status_code == 302
    experiment = db.session.scalars(select(Experiment)).one()
    assert saved.headers["Location"].endswith(f"/staff/experiments/{experiment.id}")
    assert (experiment.slug, experiment.status) == ("stating-the-cost", ExperimentStatus.DRAFT)
    assert experiment.clinic_ids == [scene["north"].id]
    assert (experiment.baseline, experiment.min_difference) == (0.111, 0.027)
    assert (experiment.alpha, experiment.power, experiment.looks) == (0.05, 0.8, 3)
    assert experiment.planned_n_per_arm == 1894
    assert experiment.arms == [
        {"name": "A", "weight": 1, "reminder": {}},
        {"name": "B", "weight": 1, "reminder": {"en": COST_EN}},
    ]
    (created,) = _events(AuditAction.MANAGE_EXPERIMENT)
    assert created.detail == {"what": "created"}
    assert created.record_ids == [experiment.id]
    page = _text(client.get(saved.headers["Location"]))
    assert "saved as a draft" in page
    assert "Start the experiment" in page

    again = post_form(client, "/staff/experiments/new", FORM)
    assert again.status_code == 302
    assert get_slugs() == ["stating-the-cost", "stating-the-cost-2"]


def get_slugs() -> list[str]:
    return list(db.session.scalars(select(Experiment.slug).order_by(Experiment.id)))


def test_the_lint_refuses_a_wording_and_says_why_next_to_it(
    client: Any, desk: StaffDesk, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    wording = {
        **FORM,
        "arm_b_en": "%(clinic)s on %(date)s at %(time)s. Reply CANCEL to cancel.",
        "arm_b_pl": "%(clinic)s %(date)s %(time)s. Odpowiedz 1 \u2013 potwierdzam.",
    }
    refused = post_form(client, "/staff/experiments/new", wording)
    assert refused.status_code == 422
    page = _text(refused)
    assert "<title>Error:" in page
    assert 'href="#arm_b_en"' in page  # the error summary links to the field
    error = re.search(r'id="arm_b_en-error".*?</span>(.*?)</span>', page, re.S)
    assert error is not None
    assert "CANCEL" in error.group(1)
    assert 'id="arm_b_pl-warnings"' in page  # a warning under the Polish wording
    assert "open" in page.split('id="arm_b_pl"')[0].rsplit("<details", 1)[1]  # not hidden
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0
    assert _events(AuditAction.MANAGE_EXPERIMENT) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Enter a name for the experiment"),
        ({"baseline": "eleven"}, "baseline", "Enter the DNA rate you expect as a percentage"),
        ({"baseline": "150"}, "baseline", "Enter the DNA rate you expect as a percentage"),
        ({"min_difference": "12"}, "min_difference", "smaller than the DNA rate you expect"),
        ({"alpha": "0"}, "alpha", "Enter a significance level"),
        ({"power": "1e9"}, "power", "Enter a power"),
        ({"looks": "11"}, "looks", "Enter a whole number from 1 to 10"),
        ({"planned": "-3"}, "planned", "Enter a whole number of appointments"),
        ({"arm_b_name": "A"}, "arm_b_name", "Give the new arm a name of its own"),
        ({"arm_a_name": "a b"}, "arm_a_name", "Enter a name of 1 to 32 letters"),
        ({"arm_b_weight": "0"}, "arm_b_weight", "Enter a whole number from 1 to 100"),
        ({"arm_b_en": ""}, "arm_b_en", "Give at least one arm its own wording"),
        ({"arm_b_en": "Hello %(name)s"}, "arm_b_en", "%(name)s is not a value this text gets"),
        ({"arm_b_cy": "x" * 1601}, "arm_b_cy", "Enter 1600 characters or fewer"),
        ({"arm_a_en": "a\x07b"}, "arm_a_en", "Remove the hidden control characters"),
        ({"clinics": "99999"}, "clinics", "Choose clinics from the list"),
        ({"clinics": ""}, "clinics", "Choose at least one clinic"),
    ],
)
def test_bad_input_is_a_form_error_on_its_field(
    client: Any,
    desk: StaffDesk,
    scene: dict[str, Clinic],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north", "south"])
    answer = post_form(
        client, "/staff/experiments/new", {**FORM, "clinics": str(scene["north"].id), **changes}
    )
    assert answer.status_code == 422
    page = _text(answer)
    assert f'href="#{field}"' in page
    assert message.lower() in page.lower()
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0


def test_clinics_must_be_offered_ones_of_one_organisation(
    client: Any, desk: StaffDesk, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    member = desk.member(Role.CLINIC_MANAGER, ["north"])
    east = scene["east"]
    grant(member.user_id, east.organisation_id, Role.CLINIC_MANAGER, None, clock, SYSTEM)
    desk.sign_in(client, member)
    page = _text(client.get("/staff/experiments/new"))
    assert "East" in page
    assert "North" in page
    assert "South" not in page
    for clinics, message in (
        ([str(east.id), str(scene["north"].id)], "Choose clinics of one organisation"),
        ([str(east.id), str(scene["south"].id)], "Choose clinics from the list"),
        (["north"], "Choose clinics from the list"),
    ):
        answer = post_form(client, "/staff/experiments/new", {**FORM, "clinics": clinics})
        assert answer.status_code == 422
        assert message in _text(answer)
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0


# -- start and stop ---------------------------------------------------------------------------


def test_a_manager_starts_a_draft_and_stops_it_with_a_reason(
    client: Any, desk: StaffDesk, world: World, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    draft = make_experiment("cost", ["north"], clock, start=False)
    booked = book(world, scene["north"], 6)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    page = f"/staff/experiments/{draft.id}"
    started = post_form(client, f"{page}/start", {}, page=page)
    assert started.status_code == 302
    assert "6 booked appointments were given an arm" in _text(client.get(page))
    db.session.expire_all()
    assert db.session.get(Experiment, draft.id) is not None
    assert draft.status is ExperimentStatus.RUNNING
    arms = arms_of(draft.id)
    assert sorted(arms["A"] + arms["B"]) == booked
    assert post_form(client, f"{page}/start", {}, page=page).status_code == 409  # once only

    empty = post_form(client, f"{page}/stop", {"reason": "  "}, page=page)
    assert empty.status_code == 422
    assert "Enter why you are stopping the experiment" in _text(empty)
    too_long = post_form(client, f"{page}/stop", {"reason": "x" * 501}, page=page)
    assert too_long.status_code == 422
    stopped = post_form(client, f"{page}/stop", {"reason": "The clinic moves"}, page=page)
    assert stopped.status_code == 302
    shown = _text(client.get(page))
    assert "Stopped" in shown
    assert "The clinic moves" in shown
    assert "Stop the experiment" not in shown
    (decision,) = db.session.scalars(select(ExperimentDecision))
    assert (decision.decision, decision.reasons[:2]) == (
        "stop",
        [STOPPED_BY_STAFF, "The clinic moves"],
    )
    assert post_form(client, f"{page}/stop", {"reason": "again"}, page=page).status_code == 409
    events = _events(AuditAction.MANAGE_EXPERIMENT)
    assert [(e.detail["what"], e.record_ids) for e in events] == [
        ("started", [draft.id]),
        ("stopped", [draft.id]),
    ]
    assert events[0].detail["assigned"] == 6


def test_a_manager_records_a_look_and_its_decision(
    client: Any, desk: StaffDesk, world: World, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    experiment = make_experiment("cost", ["north"], clock, planned_n_per_arm=40)
    book(world, scene["north"], 100)
    assign_experiment("cost", clock)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    page = f"/staff/experiments/{experiment.id}"
    assert "Record this look" not in _text(client.get(page))  # nothing to compare yet
    refused = post_form(client, f"{page}/look", {}, page=page)
    assert refused.status_code == 409
    assert "Nothing to decide yet" in _text(refused)

    arms = arms_of(experiment.id)
    settle(arms["A"][:40], dna=16)
    settle(arms["B"][:40], dna=2)
    assert "Record this look" in _text(client.get(page))
    recorded = post_form(client, f"{page}/look", {}, page=page)
    assert recorded.status_code == 302
    assert recorded.headers["Location"].endswith(f"{page}#decisions")
    shown = _text(client.get(page))
    assert "The look is recorded: Adopt the new wording." in shown
    assert "New wording adopted" in shown
    assert "Record this look" not in shown
    (decision,) = db.session.scalars(select(ExperimentDecision))
    assert decision.decision == "ship"
    (event,) = _events(AuditAction.MANAGE_EXPERIMENT)
    assert event.detail == {"what": "decided", "decision": decision.id}


def test_a_clinic_in_another_running_experiment_cannot_start_a_second(
    client: Any, desk: StaffDesk, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    make_experiment("first", ["north"], clock)
    second = make_experiment("second", ["north"], clock, start=False)
    _signed_in(client, desk, Role.CLINIC_MANAGER, ["north"])
    page = f"/staff/experiments/{second.id}"
    refused = post_form(client, f"{page}/start", {}, page=page)
    assert refused.status_code == 409
    assert "is in the running experiment first" in _text(refused)
    assert _events(AuditAction.MANAGE_EXPERIMENT) == []


# -- isolation and roles ----------------------------------------------------------------------


def test_an_experiment_is_seen_only_by_those_who_see_all_its_clinics(
    app: Flask, desk: StaffDesk, scene: dict[str, Clinic], clock: FixedClock
) -> None:
    both = make_experiment("both", ["north", "south"], clock, start=False)
    north_only = app.test_client()
    _signed_in(north_only, desk, Role.CLINIC_MANAGER, ["north"])
    whole = app.test_client()
    _signed_in(whole, desk, Role.CLINIC_MANAGER, [])
    page = f"/staff/experiments/{both.id}"
    assert whole.get(page).status_code == 200
    token_page = "/staff/experiments"
    for path in (page, f"{page}/download/progress.csv", f"{page}/download/boundary.svg"):
        assert north_only.get(path).status_code == 404
    for path in (f"{page}/start", f"{page}/look", f"{page}/stop"):
        answer = post_form(north_only, path, {"reason": "mine"}, page=token_page)
        assert answer.status_code == 404
    assert _events(AuditAction.MANAGE_EXPERIMENT) == []
    assert _events(AuditAction.EXPORT) == []
    assert both.status is ExperimentStatus.DRAFT


@pytest.mark.parametrize(
    ("role", "reads", "manages"),
    [
        (Role.ADMIN, True, True),
        (Role.CLINIC_MANAGER, True, True),
        (Role.ANALYST, True, False),
        (Role.EXPERIENCE_LEAD, False, False),
        (Role.CLINICIAN, False, False),
        (Role.RECEPTIONIST, False, False),
        (Role.AUDITOR, False, False),
    ],
)
def test_each_role_reads_and_manages_experiments_as_its_permissions_say(
    client: Any,
    desk: StaffDesk,
    scene: dict[str, Clinic],
    clock: FixedClock,
    role: Role,
    reads: bool,
    manages: bool,
) -> None:
    draft = make_experiment("draft", ["north"], clock, start=False)
    _signed_in(client, desk, role, [])
    page = f"/staff/experiments/{draft.id}"
    assert client.get("/staff/experiments").status_code == (200 if reads else 403)
    assert client.get(page).status_code == (200 if reads else 403)
    assert ("Experiments" in _text(client.get("/staff/"))) == reads
    assert client.get("/staff/experiments/new").status_code == (200 if manages else 403)
    started = post_form(client, f"{page}/start", {}, page="/staff/")
    assert started.status_code == (302 if manages else 403)
    looked = post_form(client, f"{page}/look", {}, page="/staff/")
    assert looked.status_code == (409 if manages else 403)  # nothing to decide yet
