"""Checking imported outcome rows (pure: no database, no Flask).

A row names an appointment by the clinic's external id and gives its outcome:
attended, dna, cancelled_patient or cancelled_clinic. `cancelled_at` (optional) says
when a cancellation was made, as ISO 8601; without an offset it is the clinic's wall
clock. It is refused for attended and DNA rows and for instants in the future. Whether
the appointment exists and may take the outcome is the service's check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.appointments.importers import parse_starts_at
from app.core.imports import (
    FieldChecker,
    FieldValueError,
    RowError,
    SourceRow,
    check_fields,
    duplicate_errors,
    identifier,
    text_of,
)

OUTCOME_COLUMNS: tuple[str, ...] = ("external_id", "outcome", "cancelled_at")
OUTCOME_REQUIRED: frozenset[str] = frozenset({"external_id", "outcome"})
#: Columns a CSV file may leave out.
OUTCOME_OPTIONAL_COLUMNS: tuple[str, ...] = ("cancelled_at",)
OUTCOMES: tuple[str, ...] = ("attended", "dna", "cancelled_patient", "cancelled_clinic")
CANCELLATIONS: frozenset[str] = frozenset({"cancelled_patient", "cancelled_clinic"})


@dataclass(frozen=True)
class OutcomeRecord:
    """A checked outcome row; `cancelled_at` is an aware UTC instant or None."""

    line: int
    external_id: str
    outcome: str
    cancelled_at: datetime | None


def parse_outcome(value: object) -> str:
    """One of OUTCOMES, case and surrounding spaces ignored."""
    text = text_of(value).lower()
    if not text:
        raise FieldValueError("required")
    if text not in OUTCOMES:
        raise FieldValueError("expected attended, dna, cancelled_patient or cancelled_clinic")
    return text


def _cancelled_at(value: object, zone: ZoneInfo, now: datetime) -> datetime | None:
    if not text_of(value):
        return None
    instant = parse_starts_at(value, zone)
    if instant > now:
        raise FieldValueError("in the future")
    return instant


def validate_outcomes(
    rows: Sequence[SourceRow], *, source: str, zone: ZoneInfo, now: datetime
) -> tuple[list[OutcomeRecord], list[RowError]]:
    """Check outcome rows; return the good records and the errors of the bad rows.

    A row with any error yields no record; rows sharing an external id are all refused.
    """
    records: list[OutcomeRecord] = []
    errors: list[RowError] = []
    for row in rows:
        fields = FieldChecker(
            row, source, check_fields(row, OUTCOME_COLUMNS, OUTCOME_REQUIRED, source)
        )
        external_id = fields.take("external_id", identifier)
        outcome = fields.take("outcome", parse_outcome)
        cancelled_at = fields.take("cancelled_at", lambda v: _cancelled_at(v, zone, now))
        if cancelled_at is not None and outcome is not None and outcome not in CANCELLATIONS:
            fields.errors.append(
                RowError(source, row.line, "cancelled_at", f"not allowed with outcome {outcome}")
            )
        errors += fields.errors
        if external_id is not None and outcome is not None and not fields.errors:
            records.append(OutcomeRecord(row.line, external_id, outcome, cancelled_at))
    errors += duplicate_errors(((r.line, r.external_id) for r in records), source, "external_id")
    bad = {error.line for error in errors}
    return [r for r in records if r.line not in bad], errors
