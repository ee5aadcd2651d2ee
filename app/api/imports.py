"""JSON API v1: patients, appointments and outcomes for one clinic.

`POST /api/v1/clinics/<slug>/patients` with `{"patients": [...], "strict": bool}`, and
the same for `appointments` and `outcomes`; the rows are those of the CSV imports.
"""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.common import import_rows
from app.api.problems import on_failure
from app.appointments.imports import import_appointment_rows, import_outcome_rows
from app.clinics.tokens import Scope
from app.patients.service import import_patient_rows

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_error_handler(Exception, on_failure)


@bp.post("/clinics/<slug>/patients")
def import_patients(slug: str) -> tuple[Response, int]:
    """Create or update the clinic's patients from `{"patients": [...], "strict": bool}`."""
    return import_rows(slug, "patients", import_patient_rows, Scope.PATIENTS_WRITE)


@bp.post("/clinics/<slug>/appointments")
def import_appointments(slug: str) -> tuple[Response, int]:
    """Create or move the clinic's appointments from `{"appointments": [...], ...}`."""
    return import_rows(slug, "appointments", import_appointment_rows, Scope.APPOINTMENTS_WRITE)


@bp.post("/clinics/<slug>/outcomes")
def import_outcomes(slug: str) -> tuple[Response, int]:
    """Record outcomes from `{"outcomes": [{"external_id", "outcome", "cancelled_at"?}],
    "strict": bool}`."""
    return import_rows(slug, "outcomes", import_outcome_rows, Scope.OUTCOMES_WRITE)
