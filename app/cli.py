"""The `wesaid` command group: the composition of every area's commands.

Each area's commands live in `app.commands`; the processes (worker, clock, demo) are
started from here. Those three import lazily: a worker or the demo pulls in RQ workers
and the simulator, which no other command needs at start-up.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale

from app.audit.service import SYSTEM
from app.clinics.queries import find_organisation
from app.commands.attendance import attendance_cli
from app.commands.clinics import clinic_cli
from app.commands.common import fail, parse_month
from app.commands.experiments import experiment_cli
from app.commands.goals import goals_cli
from app.commands.imports import import_cli
from app.commands.patients import patient_cli
from app.commands.results import rake_command, results_cli
from app.commands.retention import retention_cli
from app.commands.surveys import survey_cli
from app.commands.templates import templates_cli
from app.commands.themes import themes_cli
from app.commands.tokens import token_cli
from app.commands.users import user_cli
from app.config import ConfigError
from app.core.errors import WeSaidError
from app.runtime import get_runtime
from app.web.board_report import Reach, write_board_report
from app.web.language import STAFF_LOCALES
from app.web.pdf import FONT_PACKAGES, uncovered


def _create_app() -> Flask:
    from app import create_app  # the package imports this module: build it on demand

    try:
        return create_app()
    except ConfigError as exc:  # say what is missing, without a traceback
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """WeSaid: patient messaging gateway."""


def init_app(app: Flask) -> None:
    """Attach every area's commands to the Flask CLI."""
    for command in (
        survey_cli,
        results_cli,
        attendance_cli,
        experiment_cli,
        rake_command,
        clinic_cli,
        import_cli,
        templates_cli,
        token_cli,
        user_cli,
        patient_cli,
        retention_cli,
        worker_command,
        clock_command,
        demo_command,
        report_cli,
        goals_cli,
        themes_cli,
    ):
        app.cli.add_command(command)


@click.group("report")
def report_cli() -> None:
    """Reports to print or send."""


@report_cli.command("board")
@click.option("--org", "org_slug", required=True, help="the organisation's slug")
@click.option("--month", required=True, help="the month reported (YYYY-MM)")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF"
)
@click.option(
    "--lang", default="en", show_default=True, type=click.Choice(STAFF_LOCALES), help="language"
)
@with_appcontext
def board_report_command(org_slug: str, month: str, out: Path, lang: str) -> None:
    """Write an organisation's monthly board report as a PDF: attendance, patient
    experience, who is not heard and experiments, over every clinic, with each chart's
    table. The report is recorded in the audit log."""
    first = parse_month(month, "--month")
    organisation = find_organisation(org_slug)
    if organisation is None:
        fail(f"--org: no organisation {org_slug!r}")
    everything = list(organisation.clinics)
    reach = Reach(everything, everything, everything, True, goals=everything)  # all areas
    with force_locale(lang):
        try:
            pdf = write_board_report(organisation, first, reach, get_runtime().clock, SYSTEM, lang)
        except WeSaidError as exc:
            fail(str(exc))
    try:
        out.write_bytes(pdf)
    except OSError as exc:
        fail(f"--out: {exc.strerror or exc}")
    missing = uncovered()
    if missing:
        click.echo(
            f"warning: no installed font covers {', '.join(missing)} text; install {FONT_PACKAGES}",
            err=True,
        )
    click.echo(f"{out}: board report of {organisation.name} for {first:%B %Y}, {len(pdf):,} bytes")


@click.command("worker")
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
@click.option("--fork", is_flag=True, help="run each job in a child process (no warm state)")
@with_appcontext
def worker_command(burst: bool, fork: bool) -> None:
    """Run an RQ worker on the inbound, send, maintenance and imports queues."""
    from workers.worker import run_worker  # lazily: see the module docstring

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_worker(app, burst=burst, fork=fork)


@click.command("clock")
@click.option("--once", is_flag=True, help="run one sweep and exit")
@with_appcontext
def clock_command(once: bool) -> None:
    """Run the periodic sweeps (run exactly one of these)."""
    from workers.clock import run_clock  # lazily: see the module docstring

    run_clock(current_app._get_current_object(), once=once)  # type: ignore[attr-defined]


@click.command("demo")
@click.option("--patients", "n_patients", default=2000, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--serve", is_flag=True, help="keep the app running at http://127.0.0.1:5000")
@click.option(
    "--database",
    "database",
    default=Path("instance/demo.sqlite3"),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the SQLite file the month is written to (replaced if it exists)",
)
def demo_command(
    n_patients: int, seed: int, json_path: Path | None, serve: bool, database: Path
) -> None:
    """Run a simulated month of reminders and replies on the embedded default."""
    from app.demo.run import run_demo  # lazily: see the module docstring

    run_demo(n_patients=n_patients, seed=seed, json_path=json_path, serve=serve, database=database)
