"""`wesaid survey check|load` and `wesaid templates override`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.clinics.models import Clinic
from app.extensions import db
from app.messaging.models import TemplateOverride
from app.surveys.models import SurveyVersion
from tests.surveys.test_definitions import GOOD_YAML


@pytest.fixture
def clinic(runner: Any) -> Clinic:
    result = runner.invoke(
        args=["clinic", "create", "north", "--name", "North", "--sender", "+442071838750"]
    )
    assert result.exit_code == 0, result.output
    return db.session.scalars(select(Clinic)).one()


def test_check_a_good_definition(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "physio.yaml"
    path.write_text(GOOD_YAML, encoding="utf-8")
    result = runner.invoke(args=["survey", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok (5 questions" in result.output


def test_check_reports_every_problem_with_its_path(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        '{"slug": "x", "questions": [{"id": "q", "type": "scale", "text": "?", "min": 3}]}',
        encoding="utf-8",
    )
    result = runner.invoke(args=["survey", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: questions[0].max: required: a whole number, 0 or more" in result.output
    assert "1 problem(s)" in result.output


def test_load_makes_versions(runner: Any, tmp_path: Path, clinic: Clinic) -> None:
    path = tmp_path / "physio.yaml"
    path.write_text(GOOD_YAML, encoding="utf-8")
    first = runner.invoke(args=["survey", "load", str(path), "--clinic", "north", "--use"])
    assert first.output.strip() == "survey physio-followup version 1 for clinic north"
    same = runner.invoke(args=["survey", "load", str(path), "--clinic", "north"])
    assert "version 1" in same.output
    path.write_text(GOOD_YAML.replace("How was your visit?", "How did it go?"), encoding="utf-8")
    changed = runner.invoke(args=["survey", "load", str(path), "--clinic", "north"])
    assert "version 2" in changed.output
    db.session.expire_all()
    assert db.session.scalar(select(Clinic.survey_slug)) == "physio-followup"
    versions = db.session.scalars(select(SurveyVersion.version).order_by(SurveyVersion.id))
    assert list(versions) == [1, 2]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["survey_thanks", "pl", "--text", "Dziękujemy! %(clinic)s"], 0, "set survey_thanks pl"),
        (["survey_thanks", "xx", "--text", "Hi"], 2, "unknown locale 'xx'"),
        (["no_such", "en", "--text", "Hi"], 2, "unknown template 'no_such'"),
        (["survey_thanks", "en", "--text", "Thanks %(name)s"], 2, "%(clinic)s is missing"),
        (["reminder", "en", "--text", "%(clinic)s %(date)s %(time)s reply CANCEL"], 2, "CANCEL"),
    ],
)
def test_template_overrides(
    runner: Any, clinic: Clinic, args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(args=["templates", "override", *args, "--clinic", "north"])
    assert result.exit_code == code, result.output
    assert message in result.output
    rows = db.session.scalars(select(TemplateOverride)).all()
    assert len(rows) == (1 if code == 0 else 0)


def test_removing_an_override(runner: Any, clinic: Clinic) -> None:
    base = ["templates", "override", "survey_thanks", "en", "--clinic", "north"]
    runner.invoke(args=[*base, "--text", "Ta, %(clinic)s"])
    result = runner.invoke(args=[*base, "--remove"])
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(TemplateOverride)).all() == []
