"""Every importer (CSV files, FHIR bundles) with hostile input: a report naming the bad
rows, or a clear error for a file it cannot read at all; never a crash, and a strict
import with any bad row writes nothing."""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.appointments.fhir_imports import import_fhir_bundle
from app.appointments.imports import (
    import_appointments_csv,
    import_outcomes_csv,
)
from app.appointments.models import Appointment
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.core.errors import WeSaidError
from app.core.imports import ImportReport
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.patients.models import Patient
from app.patients.service import import_patient_rows, import_patients_csv
from tests.properties.test_api import VALID_ROWS
from tests.properties.values import HOSTILE, nasty_text, spoiled

_NUMBERS = itertools.count(1)
Importer = Callable[..., ImportReport]
CSV_IMPORTS: dict[str, tuple[Importer, tuple[str, ...]]] = {
    "patients": (import_patients_csv, tuple(VALID_ROWS["patients"])),
    "appointments": (import_appointments_csv, tuple(VALID_ROWS["appointments"])),
    "outcomes": (import_outcomes_csv, tuple(VALID_ROWS["outcomes"])),
}
FHIR_APPOINTMENT: dict[str, Any] = {
    "resourceType": "Appointment",
    "id": "F1",
    "status": "booked",
    "start": "2026-03-20T10:00:00Z",
    "end": "2026-03-20T10:20:00Z",
    "participant": [{"actor": {"reference": "Patient/P1"}, "status": "accepted"}],
}


@pytest.fixture
def north(app: Flask, clock: FixedClock) -> int:
    """The clinic's id; it has patient P1."""
    clinic = create_clinic(
        "north", name="North", timezone="Europe/London", sender="+442071838750", clock=clock
    )
    db.session.commit()
    patient = {"external_id": "P1", "phone": "+447400999999", "locale": "en"}
    import_patient_rows(clinic.id, [patient], source="test", strict=True, clock=clock)
    return clinic.id


def _counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(
        int(db.session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Patient, Appointment, OutboundMessage)
    )


def _csv(header: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def _fresh(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    number = next(_NUMBERS)
    fresh = dict(row)
    if kind != "outcomes" and fresh.get("external_id") == VALID_ROWS[kind]["external_id"]:
        fresh["external_id"] = f"{fresh['external_id']}{number}"
    if fresh.get("phone") == VALID_ROWS["patients"]["phone"]:
        fresh["phone"] = f"+447400{number:06d}"
    return fresh


@st.composite
def csv_files(draw: st.DrawFn, kind: str) -> str:
    """A CSV of the import `kind`: a header (sometimes broken) and rows (some spoiled),
    or, now and then, no CSV at all."""
    columns = list(CSV_IMPORTS[kind][1])
    header = draw(st.one_of(st.just(columns), spoiled(dict.fromkeys(columns, "")).map(list)))
    valid = VALID_ROWS[kind]
    row = st.one_of(st.just(valid), spoiled(valid)).map(lambda r: _fresh(kind, r))
    rows = draw(st.lists(row, max_size=3))
    text = _csv(header, rows)
    return draw(st.one_of(st.just(text), st.sampled_from(HOSTILE), nasty_text))


@pytest.mark.storage
@pytest.mark.parametrize("kind", sorted(CSV_IMPORTS))
@given(data=st.data(), strict=st.booleans())
def test_a_csv_import_reports_or_refuses_and_writes_whole(
    app: Flask, north: int, clock: FixedClock, kind: str, data: st.DataObject, strict: bool
) -> None:
    text = data.draw(csv_files(kind))
    importer = CSV_IMPORTS[kind][0]
    before = _counts()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{kind}.csv"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            report = importer(path, "north", strict=strict, clock=clock)
        except WeSaidError as exc:
            refused = str(exc)
        else:
            refused = ""
    if refused:  # a file that is not UTF-8 CSV at all: named, and nothing written
        assert refused.startswith(str(path))
        assert _counts() == before
        return
    for error in report.errors:
        assert str(error).startswith(f"{path}:")
    if strict and report.errors:
        assert _counts() == before


@pytest.mark.storage
@given(
    entry=spoiled(FHIR_APPOINTMENT, st.one_of(nasty_text, st.integers(), st.none())),
    wrap=st.sampled_from(["collection", "searchset", "transaction", None]),
    strict=st.booleans(),
)
def test_a_fhir_bundle_reports_each_entry_and_writes_whole(
    app: Flask, north: int, clock: FixedClock, entry: dict[str, Any], wrap: str | None, strict: bool
) -> None:
    if entry.get("id") == "F1":
        entry = {**entry, "id": f"F{next(_NUMBERS)}"}
    bundle: Any = {"resourceType": "Bundle", "type": wrap, "entry": [{"resource": entry}]}
    before = _counts()
    report = import_fhir_bundle(north, bundle, source="bundle", strict=strict, clock=clock)
    for error in report.errors:
        assert error.field.startswith(("entry[", "Bundle"))
    if strict and report.errors:
        assert _counts() == before
