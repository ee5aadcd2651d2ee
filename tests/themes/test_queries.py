"""PALS beside the surveys: theme counts, and who contacts PALS against who is seen."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from app.appointments.models import AppointmentStatus
from app.commands.imports import import_pals
from app.core.errors import Invalid
from app.core.intervals import wilson_interval
from app.themes.pals import PALS_COLUMNS, PalsKind
from app.themes.queries import pals_theme_counts, who_contacts
from tests.world import World

HEADER = list(PALS_COLUMNS)


def _pals(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_theme_counts_and_who_contacts(runner: Any, world: World, tmp_path: Path) -> None:
    north = world.clinic("north")
    # 12 complaints from Asian patients, 4 from White patients, 3 compliments (not counted).
    rows = (
        [["2026-02-03", "north", "complaint", "", "Parking", "1980", "F", "H", "1"]] * 12
        + [["2026-02-04", "north", "pals", "", "Timeliness of care", "1950", "M", "A", ""]] * 4
        + [["2026-02-05", "", "compliment", "", "Parking", "", "", "", ""]] * 3
    )
    rows.append(["2026-01-05", "north", "complaint", "", "Parking", "", "", "", ""])  # earlier
    result = runner.invoke(import_pals, [str(_pals(tmp_path / "p.csv", rows)), "--org", "trust"])
    assert result.exit_code == 0, result.output

    counts = pals_theme_counts(north.organisation_id, date(2026, 2, 1), date(2026, 2, 28))
    assert [(c.name, c.kind, c.contacts) for c in counts] == [
        ("Parking", PalsKind.COMPLAINT, 12),
        ("Timeliness of care", PalsKind.PALS, 4),
        ("Parking", PalsKind.COMPLIMENT, 3),
    ]
    only_north = pals_theme_counts(
        north.organisation_id, date(2026, 2, 1), date(2026, 2, 28), clinic_ids=[north.id]
    )
    assert sum(c.contacts for c in only_north) == 16

    # The service saw 30 White and 10 Asian patients in February.
    for k in range(40):
        patient = world.patient(north, f"P{k}", ethnic_category="H" if k < 10 else "A")
        world.add(patient, datetime(2026, 2, 10, 9, tzinfo=UTC), AppointmentStatus.ATTENDED)
    table = who_contacts(
        north.organisation_id, [north.id], date(2026, 2, 1), date(2026, 2, 28), "ethnic"
    )
    by_level = {row.level: row for row in table}
    asian, white = by_level["asian"], by_level["white"]
    assert (asian.contacts, asian.patients) == (12, 10)
    assert asian.contact_share == pytest.approx(12 / 16)
    assert (asian.contact_low, asian.contact_high) == pytest.approx(wilson_interval(12, 16))
    assert asian.patient_share == pytest.approx(10 / 40)
    assert asian.ratio == pytest.approx(3.0)
    assert white.suppressed  # 4 contacts: fewer than 10
    assert white.contact_share is None
    assert white.patients == 30
    with pytest.raises(Invalid, match="variable"):
        who_contacts(north.organisation_id, [north.id], date(2026, 2, 1), date(2026, 2, 28), "x")
