"""JSON API v1: patients, appointments and outcomes for one clinic.

`POST /api/v1/clinics/<slug>/patients` with `{"patients": [...], "strict": bool}`, and
the same for `appointments` and `outcomes`; the rows are those of the CSV imports. Each
row is checked field by field: a refused row answers 422 listing `{line, field, reason}`
(the line is the row's 0-based index), and the good rows are written unless `strict`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel

from app.api.common import audit_change
from app.api.operations import ApiBlueprint, Call, Reply
from app.api.problems import ROWS_REFUSED
from app.api.schemas import (
    AppointmentImport,
    ImportCounts,
    OutcomeImport,
    PatientImport,
)
from app.appointments.imports import import_appointment_rows, import_outcome_rows
from app.clinics.tokens import Scope
from app.core.errors import WeSaidError
from app.core.imports import ImportReport
from app.patients.service import import_patient_rows

bp = ApiBlueprint("api")
Importer = Callable[..., ImportReport]
IMPORT_RESPONSES = {200: ImportCounts, 409: None}


@bp.operation(
    "POST",
    "/clinics/<slug>/patients",
    scope=Scope.PATIENTS_WRITE,
    body=PatientImport,
    responses=IMPORT_RESPONSES,
    summary="Create or update the clinic's patients",
    tag="imports",
)
def import_patients(call: Call) -> Reply:
    """Rows as in the patients CSV; an existing `external_id` is updated."""
    given = call.body_as(PatientImport)
    return _import(call, "patients", given.patients, given.strict, import_patient_rows)


@bp.operation(
    "POST",
    "/clinics/<slug>/appointments",
    scope=Scope.APPOINTMENTS_WRITE,
    body=AppointmentImport,
    responses=IMPORT_RESPONSES,
    summary="Create or move the clinic's appointments",
    tag="imports",
)
def import_appointments(call: Call) -> Reply:
    """Rows as in the appointments CSV; a changed start time moves the appointment and
    re-plans its reminders."""
    given = call.body_as(AppointmentImport)
    rows = given.appointments
    return _import(call, "appointments", rows, given.strict, import_appointment_rows)


@bp.operation(
    "POST",
    "/clinics/<slug>/outcomes",
    scope=Scope.OUTCOMES_WRITE,
    body=OutcomeImport,
    responses=IMPORT_RESPONSES,
    summary="Record appointments' outcomes",
    tag="imports",
)
def import_outcomes(call: Call) -> Reply:
    """Attended, did not attend, or cancelled (with `cancelled_at`)."""
    given = call.body_as(OutcomeImport)
    return _import(call, "outcomes", given.outcomes, given.strict, import_outcome_rows)


def _import(
    call: Call, key: str, models: Sequence[BaseModel], strict: bool, importer: Importer
) -> Reply:
    rows = [_row(model) for model in models]
    try:
        report = importer(
            call.clinic.id, rows, source=f"api:{key}", strict=strict, clock=call.clock
        )
    except WeSaidError as exc:
        return Reply.error(409, str(exc))
    counts = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "imported": report.imported,
    }
    audit_change(call.caller, call.clock, key, counts)
    if report.errors:
        return Reply.error(
            422,
            f"{report.bad_rows} of the {len(rows)} rows were refused; see errors",
            title="Some rows were refused",
            type_=ROWS_REFUSED,
            errors=report.errors,
            **counts,
        )
    answer = ImportCounts(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        imported=report.imported,
        errors=[],
    )
    return Reply(200, answer)


def _row(model: BaseModel) -> Mapping[str, object]:
    """The row as sent: the fields it gave (null ones too) and any unknown ones, which
    the importer refuses by name."""
    return model.model_dump(exclude_unset=True)
