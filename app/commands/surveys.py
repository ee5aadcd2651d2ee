"""`wesaid survey`: check and load clinic survey definitions (JSON or YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from app.commands.common import fail
from app.core.errors import WeSaidError
from app.runtime import get_runtime
from app.surveys.definitions import DefinitionError, digest, load_text, parse_definition
from app.surveys.service import load_survey

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("survey")
def survey_cli() -> None:
    """Clinic survey definitions (JSON or YAML)."""


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = load_text(path.read_text(encoding="utf-8"), str(path))
        parse_definition(raw, str(path))
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text")
    except DefinitionError as exc:
        for where, message in exc.problems:
            click.echo(f"{path}: {where}: {message}", err=True)
        fail(f"{path}: {len(exc.problems)} problem(s)")
    return raw


@survey_cli.command("check")
@click.argument("path", type=_FILE)
def survey_check(path: Path) -> None:
    """Validate a definition; every problem is printed with the path of its field."""
    raw = _read(path)
    count = len(raw["questions"])
    click.echo(f"{path}: ok ({count} questions, digest {digest(raw)[:12]})")


@survey_cli.command("load")
@click.argument("path", type=_FILE)
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--use", is_flag=True, help="make it the survey the clinic sends after visits")
@with_appcontext
def survey_load(path: Path, clinic_slug: str, use: bool) -> None:
    """Store a definition for a clinic; a changed definition becomes a new version."""
    raw = _read(path)
    try:
        version = load_survey(
            raw, clinic_slug, use=use, source=str(path), clock=get_runtime().clock
        )
    except WeSaidError as exc:
        fail(str(exc))
    click.echo(f"survey {version.slug} version {version.version} for clinic {clinic_slug}")
