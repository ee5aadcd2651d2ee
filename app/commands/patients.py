"""`wesaid patient`: erasing a patient (the right to erasure), from the command line.

What is erased, field by field, is in `app.privacy.erasure`. The command shows what it
will do in counts (never the patient's details) and asks before it erases, unless given
`--yes`; the audit log records the erasure as done by the system.
"""

from __future__ import annotations

from collections.abc import Mapping

import click
from flask.cli import with_appcontext

from app.audit.service import SYSTEM
from app.clinics.queries import find_clinic_by_slug
from app.commands.common import fail
from app.privacy import queries
from app.privacy import service as privacy
from app.runtime import get_runtime


@click.group("patient")
def patient_cli() -> None:
    """Patients: erasure."""


def _summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in counts.items())


@patient_cli.command("erase")
@click.argument("external_id")
@click.option("--clinic", "clinic_slug", required=True, help="the clinic's slug")
@click.option("--yes", is_flag=True, help="erase without asking for confirmation")
@with_appcontext
def erase_command(external_id: str, clinic_slug: str, yes: bool) -> None:
    """Erase the patient EXTERNAL_ID of a clinic: their details, their messages' words
    (here and at Twilio) and their free-text answers. Their survey responses stay under
    a pseudonym, so results do not change. This cannot be undone."""
    clinic = find_clinic_by_slug(clinic_slug)
    if clinic is None:
        fail(f"no clinic with slug {clinic_slug!r}")
    patient = queries.find_patient(clinic.id, external_id)
    if patient is None:
        fail(f"no patient with that external id in clinic {clinic_slug!r}")
    if patient.erased_at is not None:
        click.echo(f"patient {patient.id} was already erased ({patient.erased_at:%Y-%m-%d})")
        return
    preview = queries.erasure_preview(patient)
    click.echo(f"patient {patient.id} of clinic {clinic.slug}: {_summary(preview)}")
    if not yes:
        click.confirm("Erase this patient? This cannot be undone", abort=True)
    runtime = get_runtime()
    report = privacy.erase_patient(patient.id, runtime.clock, SYSTEM, runtime.queue)
    click.echo(f"erased patient {report.patient_id}: {_summary(report.counts)}")
