"""Appointments from a FHIR R4 Bundle: each entry judged against what is stored, then
applied as every import is (`import_changes`).

Booked entries create appointments (with reminders) or move them; fulfilled, noshow and
cancelled entries record outcomes on appointments already here; entered-in-error
entries withdraw them. An outcome or a withdrawal for an appointment never booked here
is skipped and listed in the report (`BundleReport.skipped`), not an error. Errors name
the entry and its field (`entry[3].resource.start`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from app.appointments.fhir import (
    ENTERED_IN_ERROR_SKIPPED,
    FhirAppointmentRecord,
    FhirIssue,
    ImportedStatus,
)
from app.appointments.fhir import parse_appointment_bundle as parse_bundle
from app.appointments.import_changes import (
    Booking,
    Change,
    Outcome,
    Withdrawal,
    already_recorded,
    appointments_by_external_id,
    finish_import,
    outcome_refusal,
    patient_ids,
)
from app.appointments.importers import booking_problem
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import OUTCOMES
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid
from app.core.imports import ImportReport, Progress, RowError, RowProgress


@dataclass
class BundleReport(ImportReport):
    """An import report that also lists the entries deliberately left out."""

    skipped: list[FhirIssue] = field(default_factory=list)
    #: The bundle's name in the lines (its file's path, for a file).
    source: str = ""

    def summary(self) -> str:
        return f"{super().summary()}; {len(self.skipped)} skipped"

    def skipped_lines(self) -> list[str]:
        """Each entry left out, as the command line prints it: `SOURCE: skipped PATH: why`."""
        return [f"{self.source}: skipped {issue.path}: {issue.reason}" for issue in self.skipped]

    def error_lines(self) -> list[str]:
        """Each error as the command line prints it: `SOURCE: PATH: reason` (the path
        names the entry)."""
        return [f"{error.source}: {error.field}: {error.reason}" for error in self.errors]

    def lines(self) -> list[str]:
        return [*self.skipped_lines(), *self.error_lines()]


def import_fhir_file(
    path: Path,
    clinic_slug: str,
    *,
    strict: bool,
    clock: Clock,
    source: str | None = None,
    progress: Progress | None = None,
) -> BundleReport:
    """Import a FHIR R4 Bundle of Appointments from a JSON file; commits.

    Errors name the file as `source` (by default its path); `progress` is told the
    entries done as they are checked and written. Raises NotFound for an unknown clinic
    and Invalid for a file that is not UTF-8 JSON.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    name = str(path) if source is None else source
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Invalid(f"{name}: not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"{name}: not valid JSON ({type(exc).__name__})") from None
    return import_fhir_bundle(
        clinic.id, bundle, source=name, strict=strict, clock=clock, progress=progress
    )


def import_fhir_bundle(
    clinic_id: int,
    bundle: object,
    *,
    source: str,
    strict: bool,
    clock: Clock,
    progress: Progress | None = None,
) -> BundleReport:
    """Create, move and settle the clinic's appointments from a FHIR Bundle; commits.

    Booked entries create appointments (with reminders) or move them; fulfilled, noshow
    and cancelled entries record outcomes on appointments already here, and
    entered-in-error entries withdraw them (an outcome or a withdrawal for one never
    booked here is skipped, and listed). Patients must exist: the participant reference
    is the patient's external id. Errors name the entry and its field; the error's
    `line` is the entry's index (-1 for the bundle itself).
    """
    clinic = get_clinic(clinic_id)
    done = RowProgress(_entry_count(bundle), progress)
    done.advance(0)
    parsed = parse_bundle(bundle)
    report = BundleReport("appointments", skipped=list(parsed.skipped), source=source)
    errors = [_fhir_error(source, issue) for issue in parsed.errors]
    now = clock.now()
    records = parsed.records
    named = [r.patient_external_id for r in records if r.patient_external_id is not None]
    patients = patient_ids(clinic.id, named)
    stored = appointments_by_external_id(clinic.id, [r.external_id for r in records])
    changes: list[Change] = []
    for record in records:
        here = f"entry[{record.index}].resource"
        appointment = stored.get(record.external_id)
        verdict: Change | Literal["unchanged", "skip"] | tuple[str, str]
        if record.status is ImportedStatus.ENTERED_IN_ERROR:
            verdict = _judge_withdrawal(appointment)
        else:
            assert record.patient_external_id is not None  # read for every other status
            patient_id = patients.get(record.patient_external_id)
            verdict = _judge_entry(record, patient_id, appointment, now)
        if isinstance(verdict, Booking | Outcome | Withdrawal):
            changes.append(verdict)
        elif verdict == "unchanged":
            report.unchanged += 1
        elif verdict == "skip" and record.status is ImportedStatus.ENTERED_IN_ERROR:
            path = f"{here}.status"
            report.skipped.append(FhirIssue(record.index, path, ENTERED_IN_ERROR_SKIPPED))
        elif verdict == "skip":
            reason = "an outcome for an appointment never booked here"
            report.skipped.append(FhirIssue(record.index, f"{here}.id", reason))
        else:
            errors.append(RowError(source, record.index, f"{here}.{verdict[0]}", verdict[1]))
    report.skipped.sort(key=lambda issue: issue.index or 0)
    finished = finish_import(clinic, changes, report, errors, strict=strict, clock=clock, done=done)
    assert isinstance(finished, BundleReport)
    return finished


def _entry_count(bundle: object) -> int:
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    return len(entries) if isinstance(entries, list) else 0


def _fhir_error(source: str, issue: FhirIssue) -> RowError:
    return RowError(source, -1 if issue.index is None else issue.index, issue.path, issue.reason)


def _judge_withdrawal(
    appointment: Appointment | None,
) -> Withdrawal | Literal["unchanged", "skip"] | tuple[str, str]:
    if appointment is None:
        return "skip"
    if appointment.status is AppointmentStatus.ENTERED_IN_ERROR:
        return "unchanged"
    if appointment.status in OUTCOMES:
        outcome = appointment.status.value
        return "status", f"entered in error, but the appointment already has the outcome {outcome}"
    return Withdrawal(appointment)


def _judge_entry(
    record: FhirAppointmentRecord,
    patient_id: int | None,
    appointment: Appointment | None,
    now: datetime,
) -> Booking | Outcome | Literal["unchanged", "skip"] | tuple[str, str]:
    outcome = record.status is not ImportedStatus.BOOKED
    if outcome and appointment is None:
        return "skip"
    if patient_id is None:
        return "participant", "no patient with this external id in this clinic"
    if appointment is not None and appointment.patient_id != patient_id:
        return "participant", "the appointment belongs to another patient"
    if outcome:
        assert appointment is not None
        status = AppointmentStatus(record.status.value)
        if already_recorded(appointment, status, record.cancelled_at):
            return "unchanged"
        refusal = outcome_refusal(appointment, status, now)
        return ("status", refusal) if refusal else Outcome(appointment, status, record.cancelled_at)
    starts_at = record.starts_at
    assert starts_at is not None  # the parser requires a start for a booked entry
    if appointment is not None and appointment.status is not AppointmentStatus.BOOKED:
        return "status", f"booked, but the appointment is already {appointment.status.value}"
    if appointment is not None and appointment.starts_at == starts_at:
        return "unchanged"
    problem = booking_problem(starts_at, now)
    if problem:
        return "start", problem
    return Booking(record.external_id, patient_id, starts_at, None, appointment)
