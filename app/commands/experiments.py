"""`wesaid experiment`: reminder-wording experiments."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.commands.common import fail, print_json
from app.core.errors import WeSaidError
from app.experiments.assigning import assign_experiment
from app.experiments.service import (
    analyze_experiment,
    create_experiment,
    record_decision,
)
from app.experiments.spec import (
    DefinitionError,
    load_definition,
    parse_definition,
    planned_sample_size,
)
from app.runtime import get_runtime


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
        fail(f"{path}: not UTF-8 text")
    except DefinitionError as exc:
        for where, message in exc.problems:
            click.echo(f"{path}: {where}: {message}", err=True)
        fail(f"{path}: {len(exc.problems)} problem(s)")
    for warning in spec.warnings:
        click.echo(f"{path}: warning: {warning}", err=True)
    try:
        experiment = create_experiment(spec, get_runtime().clock)
    except WeSaidError as exc:
        fail(f"{path}: {exc}")
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
        fail(str(exc))
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
        fail(str(exc))
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
        fail(str(exc))
    if as_json:
        data = analysis.to_json()
        if decision is not None:
            data["recorded_decision_id"] = decision.id
        print_json(data)
        return
    click.echo(analysis.render_text(), nl=False)
    if decision is not None:
        click.echo(f"recorded decision {decision.decision} (id {decision.id})")
