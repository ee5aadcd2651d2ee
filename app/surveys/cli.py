"""`wesaid survey`: check and load clinic survey definitions; `templates override`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from app.core.errors import WeSaidError
from app.runtime import get_runtime


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group("survey")
def survey_cli() -> None:
    """Clinic survey definitions (JSON or YAML)."""


def _read(path: Path) -> dict[str, Any]:
    from app.surveys.definitions import DefinitionError, load_text, parse_definition

    try:
        raw = load_text(path.read_text(encoding="utf-8"), str(path))
        parse_definition(raw, str(path))
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text", 2)
    except DefinitionError as exc:
        for where, message in exc.problems:
            click.echo(f"{path}: {where}: {message}", err=True)
        _fail(f"{path}: {len(exc.problems)} problem(s)", 2)
    return raw


@survey_cli.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def survey_check(path: Path) -> None:
    """Validate a definition; every problem is printed with the path of its field."""
    from app.surveys.definitions import digest

    raw = _read(path)
    count = len(raw["questions"])
    click.echo(f"{path}: ok ({count} questions, digest {digest(raw)[:12]})")


@survey_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--use", is_flag=True, help="make it the survey the clinic sends after visits")
@with_appcontext
def survey_load(path: Path, clinic_slug: str, use: bool) -> None:
    """Store a definition for a clinic; a changed definition becomes a new version."""
    from app.clinics.queries import get_clinic_by_slug
    from app.extensions import db
    from app.surveys.service import register_definition

    raw = _read(path)
    try:
        clinic = get_clinic_by_slug(clinic_slug)
    except WeSaidError as exc:
        _fail(str(exc), 2)
        return
    version = register_definition(raw, clinic.id, get_runtime().clock.now(), str(path))
    if use:
        clinic.survey_slug = version.slug
    db.session.commit()
    click.echo(f"survey {version.slug} version {version.version} for clinic {clinic.slug}")


@click.command("override")
@click.argument("kind")
@click.argument("locale")
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--text", help="the clinic's wording, with the same %(name)s placeholders")
@click.option("--remove", is_flag=True, help="go back to the catalogue's wording")
@with_appcontext
def templates_override(
    kind: str, locale: str, clinic_slug: str, text: str | None, remove: bool
) -> None:
    """Set a clinic's own wording of one template (KIND) in one LOCALE."""
    from app.clinics.queries import get_clinic_by_slug
    from app.messaging.service import set_template_override

    try:
        clinic = get_clinic_by_slug(clinic_slug)
        problems = set_template_override(
            clinic.id, kind, locale, None if remove else text, get_runtime().clock
        )
    except WeSaidError as exc:
        _fail(str(exc), 2)
        return
    for problem in problems:
        click.echo(f"{problem.level}: {problem.message}", err=True)
    click.echo(f"{'removed' if remove else 'set'} {kind} {locale} for clinic {clinic.slug}")
