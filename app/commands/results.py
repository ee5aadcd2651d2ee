"""`wesaid results` and `wesaid rake`: weighted survey results."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.commands.common import fail, print_json
from app.core.errors import WeSaidError
from app.results.estimates import CI_METHODS, CiMethod
from app.results.files import RakeInputError, parse_bounds, rake_files, render_table
from app.results.service import SCOPES, compute_clinic_snapshot, snapshot_json
from app.runtime import get_runtime


@click.group("results")
def results_cli() -> None:
    """Weighted survey results."""


@results_cli.command("compute")
@click.option("--survey", "survey_slug", required=True)
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--scope", type=click.Choice(SCOPES), default="clinic", show_default=True)
@click.option("--pathway", default="", help="the service's pathway (with --scope service)")
@with_appcontext
def results_compute(
    survey_slug: str, clinic_slug: str, period: str, scope: str, pathway: str
) -> None:
    """Weight the period's respondents to its invited cohort; store and print a snapshot."""
    if scope == "service" and not pathway:
        raise click.UsageError("--scope service needs --pathway")
    try:
        snapshot = compute_clinic_snapshot(
            survey_slug, clinic_slug, scope, period, get_runtime().clock.now(), pathway
        )
    except WeSaidError as exc:
        fail(str(exc))
    print_json(snapshot_json(snapshot))


@click.command("rake")
@click.argument("respondents", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--margins",
    "margins_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with columns variable,level,count; variable 'a*b' with level 'x*y' is joint",
)
@click.option("--weight-col", help="column of base weights (default: all 1)")
@click.option("--trim-upper", type=float, help="cap weights at X, as R's trimWeights(strict=TRUE)")
@click.option(
    "--bounds",
    "bounds_text",
    help="L,U: bounded raking, final/base weight within [L, U] (base scaled to the cohort)",
)
@click.option(
    "--estimate", "outcomes", multiple=True, help="outcome column; repeat or separate with commas"
)
@click.option(
    "--ci",
    type=click.Choice(CI_METHODS),
    default="logit",
    show_default=True,
    help="interval for 0/1 outcomes; other outcomes get a t (wald) interval",
)
@click.option(
    "--collapse",
    type=click.Choice(["none", "adjacent"]),
    default="none",
    show_default=True,
    help="merge a level with no respondents into its nearest neighbour in the margins' order",
)
@click.option("--unknown-level", help="count missing or unlisted labels in this level")
@click.option(
    "--weights-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write a CSV of row,weight (rows numbered as in RESPONDENTS, header = 1)",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def rake_command(
    respondents: Path,
    margins_path: Path,
    weight_col: str | None,
    trim_upper: float | None,
    bounds_text: str | None,
    outcomes: tuple[str, ...],
    ci: CiMethod,
    collapse: str,
    unknown_level: str | None,
    weights_out: Path | None,
    as_json: bool,
) -> None:
    """Rake RESPONDENTS.csv to the cohort totals in --margins and estimate outcomes.

    RESPONDENTS.csv has a column per margin variable and any outcome columns; a blank
    outcome is a question not answered. Outcomes of only 0 and 1 are proportions. Errors
    name the file and row (the header is row 1) and exit with status 2.
    """
    outcomes = tuple(p.strip() for value in outcomes for p in value.split(",") if p.strip())
    try:
        summary = rake_files(
            respondents,
            margins_path,
            weight_col=weight_col,
            trim_upper=trim_upper,
            bounds=parse_bounds(bounds_text),
            outcomes=outcomes,
            ci=ci,
            collapse=collapse,
            unknown_level=unknown_level,
            weights_out=weights_out,
        )
    except RakeInputError as exc:
        fail(str(exc))
    click.echo(json.dumps(summary, indent=2) if as_json else render_table(summary))
