"""`wesaid import`: patients, appointments, outcomes and FHIR bundles from files.

Every row is checked first; bad rows are reported as `FILE:LINE: FIELD: reason` and the
good ones written in one transaction (with `--strict`, none). The exit status is 1 when
any row was bad, 2 when the file could not be read at all.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.appointments.fhir_imports import import_fhir_file
from app.appointments.imports import (
    import_appointments_csv,
    import_outcomes_csv,
)
from app.audit.service import SYSTEM
from app.commands.common import fail, finish_import
from app.core.errors import WeSaidError
from app.patients.service import import_patients_csv
from app.runtime import get_runtime
from app.themes.imports import import_pals_csv

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("import")
def import_cli() -> None:
    """Load patients, appointments and outcomes from files."""


@import_cli.command("patients")
@click.argument("path", type=_FILE)
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--strict", is_flag=True, help="import nothing if any row is bad")
@with_appcontext
def import_patients(path: Path, clinic_slug: str, strict: bool) -> None:
    """Import patients: external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile
    and optionally channel (sms, whatsapp, voice or web)."""
    try:
        report = import_patients_csv(path, clinic_slug, strict=strict, clock=get_runtime().clock)
    except WeSaidError as exc:
        fail(str(exc))
    finish_import(report)


@import_cli.command("appointments")
@click.argument("path", type=_FILE)
@click.option("--clinic", "clinic_slug", required=True)
@click.option("--strict", is_flag=True, help="import nothing if any row is bad")
@with_appcontext
def import_appointments(path: Path, clinic_slug: str, strict: bool) -> None:
    """Import appointments: external_id,patient_external_id,starts_at and optionally pathway."""
    try:
        report = import_appointments_csv(
            path, clinic_slug, strict=strict, clock=get_runtime().clock
        )
    except WeSaidError as exc:
        fail(str(exc))
    finish_import(report)


@import_cli.command("outcomes")
@click.argument("path", type=_FILE)
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
        fail(str(exc))
    finish_import(report)


@import_cli.command("fhir")
@click.argument("path", type=_FILE)
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
        fail(str(exc))
    for line in report.skipped_lines():
        click.echo(line)
    finish_import(report, report.error_lines())


@import_cli.command("pals")
@click.argument("path", type=_FILE)
@click.option("--org", "org_slug", required=True, help="the organisation's slug")
@click.option("--strict", is_flag=True, help="import nothing if any row is bad")
@with_appcontext
def import_pals(path: Path, org_slug: str, strict: bool) -> None:
    """Import PALS contacts, complaints and compliments:
    date,clinic,type,text,themes,birth_year,sex,ethnic_category,imd_quintile.

    type is pals, complaint or compliment; clinic a slug or empty for the organisation;
    themes are code-book names separated by ';'. Exits 1 if any row is bad.
    """
    try:
        report = import_pals_csv(
            path, org_slug, strict=strict, clock=get_runtime().clock, actor=SYSTEM
        )
    except WeSaidError as exc:
        fail(str(exc))
    finish_import(report)
