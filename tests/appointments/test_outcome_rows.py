"""Checking outcome rows before anything touches the database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.appointments.importers import OutcomeRecord, validate_outcomes
from app.core.imports import SourceRow

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)


def _check(*rows: dict[str, object]) -> tuple[list[OutcomeRecord], list[tuple[int, str, str]]]:
    records, errors = validate_outcomes(
        [SourceRow(index + 2, row) for index, row in enumerate(rows)],
        source="f.csv",
        zone=LONDON,
        now=NOW,
    )
    return records, [(e.line, e.field, e.reason) for e in errors]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"external_id": "A1", "outcome": "Attended"}, OutcomeRecord(2, "A1", "attended", None)),
        (
            {
                "external_id": "A1",
                "outcome": "cancelled_patient",
                "cancelled_at": "2026-07-01T10:00",
            },
            OutcomeRecord(2, "A1", "cancelled_patient", datetime(2026, 7, 1, 9, 0, tzinfo=UTC)),
        ),
        (
            {"external_id": "A1", "outcome": "cancelled_clinic", "cancelled_at": ""},
            OutcomeRecord(2, "A1", "cancelled_clinic", None),
        ),
    ],
)
def test_good_rows_become_records(row: dict[str, object], expected: OutcomeRecord) -> None:
    assert _check(row) == ([expected], [])


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"external_id": "", "outcome": "dna"}, (2, "external_id", "required")),
        (
            {"external_id": "A1", "outcome": "no-show"},
            (2, "outcome", "expected attended, dna, cancelled_patient or cancelled_clinic"),
        ),
        (
            {"external_id": "A1", "outcome": "dna", "cancelled_at": "2026-07-01T10:00"},
            (2, "cancelled_at", "not allowed with outcome dna"),
        ),
        (
            {"external_id": "A1", "outcome": "cancelled_patient", "cancelled_at": "2026-07-01"},
            (2, "cancelled_at", "needs a time as well as a date"),
        ),
        (
            {
                "external_id": "A1",
                "outcome": "cancelled_patient",
                "cancelled_at": "2026-07-11T10:00",
            },
            (2, "cancelled_at", "in the future"),
        ),
        ({"external_id": "A1", "outcome": "dna", "note": "x"}, (2, "note", "unknown field")),
        ({"external_id": "A1", "outcome": True}, (2, "outcome", "expected text or a whole number")),
    ],
)
def test_bad_rows_name_the_field(row: dict[str, object], error: tuple[int, str, str]) -> None:
    assert _check(row) == ([], [error])


def test_rows_sharing_an_external_id_are_all_refused() -> None:
    records, errors = _check(
        {"external_id": "A1", "outcome": "dna"},
        {"external_id": "A2", "outcome": "dna"},
        {"external_id": "A1", "outcome": "attended"},
    )
    assert [r.external_id for r in records] == ["A2"]
    assert errors == [
        (2, "external_id", "duplicate (also at 4)"),
        (4, "external_id", "duplicate (also at 2)"),
    ]
