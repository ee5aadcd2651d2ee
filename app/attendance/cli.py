"""`wesaid attendance` and `wesaid experiment`, and the `import outcomes` and `import fhir`
commands (attached to the `import` group by app.cli)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.attendance.definitions import (
    DefinitionError,
    load_definition,
    parse_definition,
    planned_sample_size,
)
from app.attendance.experiments import (
    analyze_experiment,
    assign_experiment,
    create_experiment,
    record_decision,
)
from app.attendance.periods import months_from
from app.attendance.service import (
    attendance_report,
    import_fhir_file,
    import_outcomes_csv,
    refresh_counts,
)
from app.clinics.models import Clinic
from app.core.errors import WeSaidError
from app.core.imports import ImportReport
from app.extensions import db
from app.runtime import get_runtime


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _finish(report: ImportReport, lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


@click.command("outcomes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--strict", is_flag=True, help="record nothing if any row is bad")
@with_appcontext
def import_outcomes(path: Path, clinic_slug: str, strict: bool) -> None:
    """Record outcomes: external_id,outcome and optionally cancelled_at.

    outcome is attended, dna, cancelled_patient or cancelled_clinic; cancelled_at is ISO
    8601 (clinic time without an offset). Exits 1 if any row is bad.
    """
    try:
        report = import_outcomes_csv(path, clinic_slug, strict=strict, clock=get_runtime().clock)
    except WeSaidError as exc:
        _fail(str(exc), 2)
    _finish(report, [str(error) for error in report.errors])


@click.command("fhir")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--strict", is_flag=True, help="import nothing if any entry is bad")
@with_appcontext
def import_fhir(path: Path, clinic_slug: str, strict: bool) -> None:
    """Import a FHIR R4 Bundle of Appointment resources (JSON).

    Booked entries create or move appointments; fulfilled, noshow and cancelled entries
    record outcomes. Patients must exist, by the external id in the participant
    reference. Exits 1 if any entry is bad.
    """
    try:
        report = import_fhir_file(path, clinic_slug, strict=strict, clock=get_runtime().clock)
    except WeSaidError as exc:
        _fail(str(exc), 2)
    for issue in report.skipped:
        click.echo(f"{path}: skipped {issue.path}: {issue.reason}")
    _finish(report, [f"{path}: {error.field}: {error.reason}" for error in report.errors])


def _month(value: str, option: str) -> date:
    text = value.strip()
    try:
        return date.fromisoformat(text if len(text) > len("2026-01") else f"{text}-01")
    except ValueError:
        raise click.BadParameter(f"{option}: expected YYYY-MM-DD or YYYY-MM") from None


@click.group("attendance")
def attendance_cli() -> None:
    """Non-attendance (DNA) figures."""


@attendance_cli.command("report")
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--from", "first", required=True, help="first month (YYYY-MM or a date in it)")
@click.option("--to", "last", required=True, help="last month (YYYY-MM or a date in it)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of tables")
@with_appcontext
def attendance_report_command(clinic_slug: str, first: str, last: str, as_json: bool) -> None:
    """DNA rates of a clinic over whole months, with breakdowns and a funnel plot.

    The rate is DNA / (attended + DNA): cancellations are not in the denominator.
    """
    start, end = _month(first, "--from"), _month(last, "--to")
    try:
        report = attendance_report(clinic_slug, start, end, get_runtime().clock)
    except WeSaidError as exc:
        _fail(str(exc), 2)
    if as_json:
        _print_json(report.to_json())
    else:
        click.echo(report.render_text(), nl=False)


@attendance_cli.command("refresh")
@click.option("--from", "first", help="also build every clinic's months from this one (YYYY-MM)")
@click.option("--to", "last", help="... up to this one (YYYY-MM)")
@with_appcontext
def attendance_refresh(first: str | None, last: str | None) -> None:
    """Bring the stored counts up to date with what changed since the last refresh.

    With --from and --to, also build those months for every clinic, so that the first
    report of a large period does not have to (run it after upgrading, for example).
    """
    if (first is None) != (last is None):
        raise click.BadParameter("give both --from and --to, or neither")
    required = {}
    if first is not None and last is not None:
        months = months_from(_month(first, "--from"), _month(last, "--to"))
        required = dict.fromkeys(db.session.scalars(select(Clinic.id)), months)
    refreshed = refresh_counts(required, get_runtime().clock)
    click.echo(
        f"{refreshed.months_built} clinic-months built, "
        f"{refreshed.days_recomputed} clinic-days recomputed"
    )


@click.group("experiment")
def experiment_cli() -> None:
    """Reminder-wording experiments."""


@experiment_cli.command("create")
@click.option(
    "--file", "path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_appcontext
def experiment_create(path: Path) -> None:
    """Create an experiment from a YAML or JSON definition; it starts assigning at once."""
    try:
        spec = parse_definition(load_definition(path.read_text(encoding="utf-8"), str(path)))
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text", 2)
    except DefinitionError as exc:
        for where, message in exc.problems:
            click.echo(f"{path}: {where}: {message}", err=True)
        _fail(f"{path}: {len(exc.problems)} problem(s)", 2)
    for warning in spec.warnings:
        click.echo(f"{path}: warning: {warning}", err=True)
    try:
        experiment = create_experiment(spec, get_runtime().clock)
    except WeSaidError as exc:
        _fail(f"{path}: {exc}", 2)
    arms = ", ".join(f"{arm.name}×{arm.weight}" for arm in spec.arms)
    click.echo(
        f"created experiment {experiment.slug}: arms {arms}, "
        f"{experiment.planned_n_per_arm} planned per arm"
    )


@experiment_cli.command("power")
@click.option("--baseline", type=float, required=True, help="DNA rate with the control wording")
@click.option("--difference", type=float, required=True, help="smallest reduction to detect")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="two-sided")
@click.option("--power", type=float, default=0.8, show_default=True)
@click.option("--ratio", type=float, default=1.0, show_default=True, help="n(B) / n(A)")
def experiment_power(
    baseline: float, difference: float, alpha: float, power: float, ratio: float
) -> None:
    """Appointments needed per arm to detect a fall in DNA from --baseline by --difference."""
    try:
        size = planned_sample_size(baseline, difference, alpha, power, ratio)
    except ValueError as exc:
        _fail(str(exc), 2)
    click.echo(
        f"DNA {baseline:.1%} -> {baseline - difference:.1%}, two-sided alpha {alpha:g}, "
        f"power {power:g}"
    )
    if ratio == 1.0:
        click.echo(f"n per arm: {size.n_control}")
    else:
        click.echo(f"n per arm: {size.n_control} (A), {size.n_treatment} (B)")


@experiment_cli.command("assign")
@click.argument("slug")
@with_appcontext
def experiment_assign(slug: str) -> None:
    """Assign every eligible appointment not assigned yet (safe to run again)."""
    try:
        assigned = assign_experiment(slug, get_runtime().clock)
    except WeSaidError as exc:
        _fail(str(exc), 2)
    arms = ", ".join(f"{arm} {count}" for arm, count in sorted(assigned.by_arm.items()))
    click.echo(f"{assigned.total} newly assigned" + (f" ({arms})" if arms else ""))


@experiment_cli.command("analyze")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--record", is_flag=True, help="store the decision with its numbers")
@with_appcontext
def experiment_analyze(slug: str, as_json: bool, record: bool) -> None:
    """Per-arm DNA rates, B against A, and whether to continue, stop or ship."""
    try:
        if record:
            analysis, decision = record_decision(slug, get_runtime().clock)
        else:
            analysis, decision = analyze_experiment(slug), None
    except WeSaidError as exc:
        _fail(str(exc), 2)
    if as_json:
        data = analysis.to_json()
        if decision is not None:
            data["recorded_decision_id"] = decision.id
        _print_json(data)
        return
    click.echo(analysis.render_text(), nl=False)
    if decision is not None:
        click.echo(f"recorded decision {decision.decision} (id {decision.id})")
