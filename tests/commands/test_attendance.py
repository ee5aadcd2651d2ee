"""The attendance and experiment commands, and `import outcomes` / `import fhir`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.appointments.models import AppointmentStatus as S
from app.clinics.models import Clinic
from app.commands.attendance import attendance_cli
from app.commands.experiments import experiment_cli
from app.commands.imports import import_fhir, import_outcomes
from app.core.clock import FixedClock
from app.messaging.states import MessageState as M
from tests.experiments.test_spec import YAML
from tests.world import World

FIXTURES = Path(__file__).parents[1] / "fixtures" / "fhir"


@pytest.fixture
def north(world: World) -> Clinic:
    clinic = world.clinic("north")
    patient = world.patient(clinic, "pat-1")
    world.patient(clinic, "pat-2")
    world.book(clinic, "A1", "pat-1", datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    world.add(patient, datetime(2026, 2, 10, 12, 0, tzinfo=UTC), S.DNA, reminders=[M.DELIVERED])
    world.add(patient, datetime(2026, 2, 11, 12, 0, tzinfo=UTC), S.ATTENDED)
    return clinic


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_outcomes_prints_bad_rows_and_exits_1(
    runner: Any, north: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    path = _write(tmp_path, "o.csv", "external_id,outcome\nA1,dna\nA2,attended\n")
    result = runner.invoke(import_outcomes, [str(path), "--clinic", "north"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"{path}:3: external_id: no appointment with this external id in this clinic\n"
    )
    assert result.stdout == "outcomes: 0 created, 1 updated, 0 unchanged, 1 bad row\n"
    again = runner.invoke(import_outcomes, [str(path), "--clinic", "north", "--strict"])
    assert again.stdout.endswith("(strict: nothing imported)\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--clinic", "south"], 2, "error: no clinic with slug 'south'\n"),
        (["--clinic", "north"], 0, ""),
    ],
)
def test_import_outcomes_exit_codes(
    runner: Any, north: Clinic, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    path = _write(tmp_path, "o.csv", "external_id,outcome\n")
    result = runner.invoke(import_outcomes, [str(path), *args])
    assert (result.exit_code, result.stderr) == (code, message)


def test_import_fhir_names_entries_and_fields(runner: Any, north: Clinic) -> None:
    path = FIXTURES / "attendance_bad.json"
    result = runner.invoke(import_fhir, [str(path), "--clinic", "north"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: entry[0].resource.participant: no patient with this external id in this clinic",
        f"{path}: entry[1].resource.start: more than a day in the past",
    ]  # entry[2], a Patient, is not imported and not an error
    assert (
        result.stdout == "appointments: 1 created, 0 updated, 0 unchanged, 2 bad rows; 0 skipped\n"
    )


def test_the_report_prints_tables_or_json(runner: Any, north: Clinic) -> None:
    args = ["report", "--clinic", "north", "--from", "2026-02", "--to", "2026-02-28"]
    text = runner.invoke(attendance_cli, args)
    assert text.exit_code == 0, text.output
    assert "Non-attendance (DNA) at north, 2026-02 to 2026-02" in text.stdout
    data = json.loads(runner.invoke(attendance_cli, [*args, "--json"]).stdout)
    assert (data["overall"]["n"], data["overall"]["dna"]) == (2, 1)
    assert data["exposure"][2] == {
        "label": "delivered",
        "n": 1,
        "dna": 1,
        "rate": 1.0,
        "low": pytest.approx(0.2065, abs=1e-4),
        "high": 1.0,
    }


def test_refresh_builds_months_ahead_then_follows_changes(
    runner: Any, north: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    clock.advance(timedelta(hours=1))  # the fixture's rows are no longer "just changed"
    built = runner.invoke(attendance_cli, ["refresh", "--from", "2026-01", "--to", "2026-02"])
    assert built.stdout == "2 clinic-months built, 0 clinic-days recomputed\n"
    clock.advance(timedelta(days=2))
    late = _write(tmp_path, "o.csv", "external_id,outcome\nA1,dna\n")  # 3 March: not built
    assert runner.invoke(import_outcomes, [str(late), "--clinic", "north"]).exit_code == 0
    quiet = runner.invoke(attendance_cli, ["refresh"])
    assert quiet.stdout == "0 clinic-months built, 0 clinic-days recomputed\n"
    refused = runner.invoke(attendance_cli, ["refresh", "--from", "2026-01"])
    assert refused.exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "Feb", "--to", "2026-02"], "--from: expected YYYY-MM or YYYY-MM-DD"),
        (["--from", "2026-03", "--to", "2026-02"], "error: the period ends before it starts"),
    ],
)
def test_the_report_refuses_a_bad_period(
    runner: Any, north: Clinic, args: list[str], message: str
) -> None:
    result = runner.invoke(attendance_cli, ["report", "--clinic", "north", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_power_prints_the_size_per_arm(runner: Any) -> None:
    args = ["power", "--baseline", "0.111", "--difference", "0.027", "--alpha", "0.05"]
    result = runner.invoke(experiment_cli, [*args, "--power", "0.8"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "n per arm: 1894"
    refused = runner.invoke(experiment_cli, ["power", "--baseline", "0.1", "--difference", "0.2"])
    assert refused.exit_code == 2


def test_an_experiment_is_created_assigned_and_analysed_from_the_command_line(
    runner: Any, world: World, north: Clinic, clock: FixedClock, tmp_path: Path
) -> None:
    world.clinic("south")
    good = _write(tmp_path, "exp.yaml", YAML)
    created = runner.invoke(experiment_cli, ["create", "--file", str(good)])
    assert created.stdout == "created experiment cost-2026: arms A×1, B×1, 1894 planned per arm\n"
    assigned = runner.invoke(experiment_cli, ["assign", "cost-2026"])
    assert assigned.stdout.startswith("1 newly assigned (")
    analysed = runner.invoke(experiment_cli, ["analyze", "cost-2026", "--json"])
    assert json.loads(analysed.stdout)["decision"] is None
    clock.advance(timedelta(days=3))
    refused = runner.invoke(experiment_cli, ["analyze", "cost-2026", "--record"])
    assert (refused.exit_code, refused.stderr.startswith("error: nothing to decide yet")) == (
        2,
        True,
    )


def test_a_bad_definition_lists_every_problem(runner: Any, north: Clinic, tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "bad.yaml",
        YAML.replace("slug: cost-2026", "slug: Cost").replace("looks: 3", "looks: 99"),
    )
    result = runner.invoke(experiment_cli, ["create", "--file", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{bad}: slug: required: lower-case letters, digits and dashes",
        f"{bad}: looks: must be a whole number from 1 to 10",
        f"error: {bad}: 2 problem(s)",
    ]
