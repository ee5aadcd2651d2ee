"""Checking imported appointment and outcome rows, from CSV or JSON (pure: no database,
no Flask). FHIR bundles have their own reader (`fhir.py`).

`starts_at` is ISO 8601. With an offset ("Z", "+01:00") it is that instant; without one
it is a wall-clock time at the clinic, resolved with `app.core.clock.to_utc` so that a
time in the spring gap or the autumn overlap still means one defined instant.

Whether an appointment may be booked at a time (`booking_problem`) is checked by the
service only for rows that create or move an appointment: re-importing last month's
file must not turn rows that have not changed into errors.

An outcome row names an appointment by the clinic's external id and gives its outcome:
attended, dna, cancelled_patient or cancelled_clinic. `cancelled_at` (optional) says
when a cancellation was made, as ISO 8601; without an offset it is the clinic's wall
clock. It is refused for attended and DNA rows and for instants in the future. Whether
the appointment exists and may take the outcome is the service's check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import to_utc
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

APPOINTMENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "patient_external_id",
    "starts_at",
    "pathway",
)
APPOINTMENT_REQUIRED: frozenset[str] = frozenset(
    {"external_id", "patient_external_id", "starts_at"}
)
_PATHWAY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

#: A new or moved appointment may start at most this long before now: a diary loaded
#: late on the day still goes in (it plans no reminders), a stale export does not.
PAST_GRACE = timedelta(days=1)
#: Further ahead than this is taken for a mistyped year.
FUTURE_LIMIT = timedelta(days=2 * 366)

_DATE_ONLY_LENGTH = len("2026-07-01")


@dataclass(frozen=True)
class AppointmentRecord:
    """A checked appointment row; `starts_at` is an aware UTC instant."""

    line: int
    external_id: str
    patient_external_id: str
    starts_at: datetime
    #: The care pathway ("physiotherapy", "pregnancy-loss"); None if not given.
    pathway: str | None = None


def parse_starts_at(value: object, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date and time as a UTC instant; local to `zone` when it has no offset.

    Refuses a date without a time, and anything `datetime.fromisoformat` cannot read.
    """
    text = text_of(value)
    if not text:
        raise FieldValueError("required")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FieldValueError("not an ISO 8601 date and time") from None
    if len(text) <= _DATE_ONLY_LENGTH:
        # fromisoformat reads a bare date as midnight; an appointment needs its hour.
        raise FieldValueError("needs a time as well as a date")
    try:
        return to_utc(parsed, zone) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # 9999-12-31T23:59-23:00 is past the last instant
        raise FieldValueError("out of the range of dates") from None


def booking_problem(starts_at: datetime, now: datetime) -> str | None:
    """Why an appointment may not be booked or moved to `starts_at`, or None if it may."""
    if starts_at < now - PAST_GRACE:
        return "more than a day in the past"
    if starts_at > now + FUTURE_LIMIT:
        return "more than two years ahead"
    return None


def validate_appointments(
    rows: Sequence[SourceRow], *, source: str, zone: ZoneInfo
) -> tuple[list[AppointmentRecord], list[RowError]]:
    """Check appointment rows; return the good records and the errors of the bad rows.

    A row with any error yields no record; rows sharing an external id are all refused.
    Whether the patient exists is the service's check.
    """
    records: list[AppointmentRecord] = []
    errors: list[RowError] = []
    for row in rows:
        fields = FieldChecker(
            row, source, check_fields(row, APPOINTMENT_COLUMNS, APPOINTMENT_REQUIRED, source)
        )
        external_id = fields.take("external_id", identifier)
        patient_id = fields.take("patient_external_id", identifier)
        starts_at = fields.take("starts_at", lambda v: parse_starts_at(v, zone))
        pathway = fields.take("pathway", _pathway)
        errors += fields.errors
        if external_id is not None and patient_id is not None and starts_at is not None:
            records.append(AppointmentRecord(row.line, external_id, patient_id, starts_at, pathway))
    errors += duplicate_errors(((r.line, r.external_id) for r in records), source, "external_id")
    bad = {error.line for error in errors}
    return [r for r in records if r.line not in bad], errors


def _pathway(value: object) -> str | None:
    text = text_of(value).strip().lower()
    if not text:
        return None
    if not _PATHWAY.match(text):
        raise FieldValueError("expected a pathway code: lower-case letters, digits and hyphens")
    return text


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
