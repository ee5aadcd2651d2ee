"""Commands from the diary: recording that staff were shown patients' names, and a
day's outcomes recorded from the staff form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.appointments.imports import import_outcome_rows
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import CANCELLED, OUTCOMES
from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.queries import get_clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db

#: The source the outcome import names the staff form by.
STAFF_FORM = "staff form"
#: The outcomes staff may record on the form.
FORM_OUTCOMES = OUTCOMES | CANCELLED


def note_day_shown(patients: Mapping[int, Sequence[int]], *, actor: Actor, clock: Clock) -> None:
    """Record that a day's appointments showed patients' names: one VIEW_APPOINTMENTS
    event per clinic (`patients` maps a clinic's id to the ids of its patients shown).
    Nothing is recorded when no name was shown. Commits."""
    now = clock.now()
    for clinic_id, patient_ids in sorted(patients.items()):
        if not patient_ids:
            continue
        record(
            AuditAction.VIEW_APPOINTMENTS,
            actor,
            now,
            record_type="patient",
            record_ids=sorted(set(patient_ids)),
            clinic_id=clinic_id,
            organisation_id=get_clinic(clinic_id).organisation_id,
            detail={"patients": len(set(patient_ids))},
        )
    db.session.commit()


@dataclass(frozen=True)
class OutcomeProblem:
    """Why the outcome chosen for one appointment cannot be recorded."""

    appointment_id: int
    field: str
    reason: str


def record_outcomes(
    clinic_id: int,
    choices: Sequence[tuple[int, AppointmentStatus]],
    *,
    actor: Actor,
    clock: Clock,
) -> list[OutcomeProblem]:
    """Record the outcomes staff chose for some of a clinic's appointments, all or none.

    The choices go through the outcome import as the rows of a strict import
    (`import_outcome_rows`), so each is checked and applied exactly as a file's row
    would be: one choice refused refuses them all, and the problems are returned with
    nothing recorded. When every one is taken, they are committed together with one
    RECORD_OUTCOMES event naming the appointments, with the count of each outcome, and
    [] is returned. NotFound for an appointment that is not the clinic's; Invalid for
    an outcome staff do not record, or no choice at all.
    """
    if not choices:
        raise Invalid("no outcome was chosen")
    if any(outcome not in FORM_OUTCOMES for _, outcome in choices):
        raise Invalid("attended, dna, cancelled_patient or cancelled_clinic only")
    clinic = get_clinic(clinic_id)
    ids = [appointment_id for appointment_id, _ in choices]
    found = db.session.execute(
        select(Appointment.id, Appointment.external_id).where(
            Appointment.id.in_(ids), Appointment.clinic_id == clinic.id
        )
    )
    external = dict(found.all())
    if set(ids) - set(external):
        raise NotFound("no such appointment at this clinic")
    counts = Counter(outcome.value for _, outcome in choices)
    # Lands with the outcomes or not at all: the import commits both, or none.
    record(
        AuditAction.RECORD_OUTCOMES,
        actor,
        clock.now(),
        record_type="appointment",
        record_ids=ids,
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"appointments": len(ids), **counts},
    )
    rows = [{"external_id": external[i], "outcome": outcome.value} for i, outcome in choices]
    report = import_outcome_rows(clinic.id, rows, source=STAFF_FORM, strict=True, clock=clock)
    if not report.errors:
        return []
    db.session.rollback()
    return [OutcomeProblem(ids[error.line], error.field, error.reason) for error in report.errors]
