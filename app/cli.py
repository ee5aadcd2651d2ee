"""The `wesaid` command group: thin commands that parse input and call one service."""

from __future__ import annotations

import sys
from datetime import time
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from app.core.errors import WeSaidError
from app.runtime import get_runtime


def _create_app() -> Flask:
    from app import create_app
    from app.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:  # say what is missing, without a traceback
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """WeSaid: patient messaging gateway."""


def init_app(app: Flask) -> None:
    """Attach the domain command groups to the Flask CLI."""
    from app.attendance.cli import attendance_cli, experiment_cli, import_fhir, import_outcomes
    from app.results.cli import results_cli
    from app.results.rake import rake_command
    from app.surveys.cli import survey_cli, templates_override

    templates_cli.add_command(templates_override)
    import_cli.add_command(import_outcomes)
    import_cli.add_command(import_fhir)
    for command in (
        survey_cli,
        results_cli,
        attendance_cli,
        experiment_cli,
        rake_command,
        clinic_cli,
        import_cli,
        templates_cli,
        worker_command,
        clock_command,
        demo_command,
    ):
        app.cli.add_command(command)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _parse_hhmm(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{name}: expected HH:MM, got {value!r}") from None


@click.group("clinic")
def clinic_cli() -> None:
    """Organisations and clinics."""


@clinic_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--timezone", "timezone_name", default="Europe/London", show_default=True)
@click.option("--sender", required=True, help="E.164 number or Messaging Service sid (MG…)")
@click.option("--org", "org_slug", default="default", show_default=True)
@click.option("--locale", "default_locale", default="en", show_default=True)
@click.option("--quiet", default="21:00-08:00", show_default=True, help="quiet hours, local")
@with_appcontext
def clinic_create(
    slug: str,
    name: str,
    timezone_name: str,
    sender: str,
    org_slug: str,
    default_locale: str,
    quiet: str,
) -> None:
    """Create a clinic."""
    from app.clinics.service import create_clinic

    start, _, end = quiet.partition("-")
    try:
        clinic = create_clinic(
            slug,
            name=name,
            timezone=timezone_name,
            sender=sender,
            org_slug=org_slug,
            default_locale=default_locale,
            quiet_start=_parse_hhmm(start, "--quiet"),
            quiet_end=_parse_hhmm(end, "--quiet"),
            clock=get_runtime().clock,
        )
    except WeSaidError as exc:
        _fail(str(exc))
        return
    click.echo(f"created clinic {clinic.slug} (id {clinic.id})")


@clinic_cli.command("token")
@click.argument("slug")
@click.option("--label", default="api", show_default=True)
@with_appcontext
def clinic_token(slug: str, label: str) -> None:
    """Issue an API token for a clinic (shown once; only its hash is kept)."""
    from app.clinics.queries import get_clinic_by_slug
    from app.clinics.service import issue_api_token

    try:
        clinic = get_clinic_by_slug(slug)
    except WeSaidError as exc:
        _fail(str(exc))
        return
    click.echo(issue_api_token(clinic.id, label, get_runtime().clock))


@click.group("import")
def import_cli() -> None:
    """Load patients and appointments from files."""


def _report(report: Any) -> None:
    for error in report.errors:
        click.echo(str(error), err=True)
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


@import_cli.command("patients")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--strict", is_flag=True, help="import nothing if any row is bad")
@with_appcontext
def import_patients(path: Path, clinic_slug: str, strict: bool) -> None:
    """Import patients: external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile
    and optionally channel (sms, whatsapp, voice or web)."""
    from app.patients.service import import_patients_csv

    try:
        report = import_patients_csv(path, clinic_slug, strict=strict, clock=get_runtime().clock)
    except WeSaidError as exc:
        _fail(str(exc), 2)
        return
    _report(report)


@import_cli.command("appointments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--strict", is_flag=True, help="import nothing if any row is bad")
@with_appcontext
def import_appointments(path: Path, clinic_slug: str, strict: bool) -> None:
    """Import appointments: external_id,patient_external_id,starts_at and optionally pathway."""
    from app.appointments.service import import_appointments_csv

    try:
        report = import_appointments_csv(
            path, clinic_slug, strict=strict, clock=get_runtime().clock
        )
    except WeSaidError as exc:
        _fail(str(exc), 2)
        return
    _report(report)


@click.group("templates")
def templates_cli() -> None:
    """Patient-facing message templates."""


@templates_cli.command("check")
def templates_check() -> None:
    """Lint every template in every catalogue locale; exit 1 on any error.

    Refuses reply words that Twilio treats as opt-outs (CANCEL, END, QUIT...),
    missing or unknown placeholders and bodies over 1,600 characters; warns where a
    GSM-7 rewrite would make a message cheaper.
    """
    from decimal import Decimal

    from app.core.sms import estimate_cost, measure
    from app.messaging.compose import catalogue_locales
    from app.messaging.templates import check_catalogue

    price = Decimal(str(get_runtime().price_per_segment))
    errors = 0
    click.echo(
        f"{'template':<20} {'locale':<7} {'encoding':<8} {'segments':>8} {'cost':>8}  problems"
    )
    for row in check_catalogue(catalogue_locales()):
        cost = estimate_cost(measure(row.body), price)
        problems = "; ".join(f"{p.level}: {p.message}" for p in row.problems) or "-"
        errors += sum(p.level == "error" for p in row.problems)
        columns = f"{row.kind:<20} {row.locale:<7} {row.encoding:<8} {row.segments:>8}"
        click.echo(f"{columns} {cost:>8}  {problems}")
    if errors:
        _fail(f"{errors} template error(s)")


@click.command("worker")
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker on the inbound, send and maintenance queues."""
    from flask import current_app

    from workers.worker import run_worker

    run_worker(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]


@click.command("clock")
@click.option("--once", is_flag=True, help="run one sweep and exit")
@with_appcontext
def clock_command(once: bool) -> None:
    """Run the periodic sweeps (run exactly one of these)."""
    from flask import current_app

    from workers.clock import run_clock

    run_clock(current_app._get_current_object(), once=once)  # type: ignore[attr-defined]


@click.command("demo")
@click.option("--patients", "n_patients", default=2000, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--serve", is_flag=True, help="keep the app running at http://127.0.0.1:5000")
def demo_command(n_patients: int, seed: int, json_path: Path | None, serve: bool) -> None:
    """Run a simulated month of reminders and replies on the embedded default."""
    from app.simulator.demo import run_demo

    run_demo(n_patients=n_patients, seed=seed, json_path=json_path, serve=serve)
