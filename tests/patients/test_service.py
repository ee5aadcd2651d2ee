"""Patient imports: row checks (pure) and the `wesaid import patients` command."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.core.imports import ImportReport, RowError, SourceRow, read_csv
from app.extensions import db
from app.patients.importers import PATIENT_COLUMNS, PATIENT_OPTIONAL_COLUMNS, validate_patients
from app.patients.models import Patient

HEADER = ",".join(c for c in PATIENT_COLUMNS if c not in PATIENT_OPTIONAL_COLUMNS)
MOBILE_A = "+447400123456"
MOBILE_B = "+447400123457"
MOBILE_C = "+447911123456"
GOOD = {
    "external_id": "P1",
    "phone": "07400 123456",
    "locale": "pl",
    "birth_year": "1980",
    "sex": "F",
    "ethnic_category": "C",
    "imd_quintile": "2",
}


def _validate(**changes: object) -> tuple[list[Any], list[RowError]]:
    values = {**GOOD, **changes}
    return validate_patients(
        [SourceRow(2, values)], source="f.csv", allowed_regions=frozenset(), this_year=2026
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("phone", "0207 183 8750", "landline: not accepted for SMS"),
        ("phone", "0700 1234567", "personal number (070) not accepted"),
        ("phone", "+1 212 555 0100", "not a UK number"),
        ("phone", "", "required"),
        ("locale", "xx", "'xx' is not a supported locale"),
        ("channel", "fax", "expected sms, whatsapp, voice or web"),
        ("locale", "zh-TW", "'zh-TW' is not a supported locale"),
        ("birth_year", "1899", "must be between 1900 and 2026"),
        ("birth_year", "2027", "must be between 1900 and 2026"),
        ("birth_year", "19x0", "expected a whole number"),
        ("sex", "Q", "must be F, M, X or U"),
        ("ethnic_category", "I", "must be an NHS ethnic category code"),
        ("ethnic_category", "O", "must be an NHS ethnic category code"),
        ("imd_quintile", "0", "must be 1 (most deprived) to 5"),
        ("imd_quintile", "6", "must be 1 (most deprived) to 5"),
        ("external_id", "x" * 65, "longer than 64 characters"),
        ("external_id", "a\x00b", "contains control characters"),
        ("birth_year", True, "expected text or a whole number"),
        ("imd_quintile", 2.5, "expected text or a whole number"),
    ],
)
def test_a_bad_field_refuses_the_row_with_its_reason(
    field: str, value: object, reason: str
) -> None:
    records, errors = _validate(**{field: value})
    assert records == []
    assert [(e.field, e.line) for e in errors] == [(field, 2)]
    assert errors[0].reason.startswith(reason)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("+447400123456", "pl", 1980, "F", "C", 2)),
        (
            {"locale": "en-GB", "sex": "x", "ethnic_category": "z", "imd_quintile": 5},
            ("+447400123456", "en", 1980, "X", "Z", 5),
        ),
        (
            {"birth_year": "", "sex": None, "ethnic_category": "", "imd_quintile": ""},
            ("+447400123456", "pl", None, None, None, None),
        ),
        (
            {"phone": "+44 (0)7911 123456", "locale": "zh-CN"},
            (MOBILE_C, "zh_Hans", 1980, "F", "C", 2),
        ),
    ],
)
def test_good_rows_are_normalised(changes: dict[str, object], expected: tuple[object, ...]) -> None:
    records, errors = _validate(**changes)
    assert errors == []
    r = records[0]
    assert (r.phone, r.locale, r.birth_year, r.sex, r.ethnic_category, r.imd_quintile) == expected


def test_a_phone_reason_never_holds_the_number() -> None:
    _, errors = _validate(phone="0909 8790000")
    assert errors
    assert all("0909" not in str(e) and "8790000" not in str(e) for e in errors)


@pytest.mark.parametrize(
    ("channel", "number", "accepted"),
    [
        ("voice", "0207 183 8750", True),  # a landline, for telephone calls only
        ("sms", "0207 183 8750", False),
        ("web", "0207 183 8750", False),  # the link travels by SMS
        ("whatsapp", "07400 123456", True),
        ("", "07400 123456", True),
    ],
)
def test_the_channel_decides_which_numbers_are_accepted(
    channel: str, number: str, accepted: bool
) -> None:
    records, errors = _validate(channel=channel, phone=number)
    assert (len(records), len(errors)) == ((1, 0) if accepted else (0, 1))
    if accepted:
        assert records[0].channel_preference == (channel or None)


@pytest.mark.parametrize(
    ("rows", "bad"),
    [
        ([("P1", MOBILE_A), ("P1", MOBILE_B)], {(2, "external_id"), (3, "external_id")}),
        ([("P1", MOBILE_A), ("P2", MOBILE_A)], {(2, "phone"), (3, "phone")}),
        ([("P1", MOBILE_A), ("P2", MOBILE_B)], set()),
    ],
)
def test_duplicates_refuse_every_occurrence(rows: list[tuple[str, str]], bad: set[Any]) -> None:
    source = [
        SourceRow(line, {**GOOD, "external_id": ext, "phone": ph})
        for line, (ext, ph) in enumerate(rows, start=2)
    ]
    records, errors = validate_patients(
        source, source="f.csv", allowed_regions=frozenset(), this_year=2026
    )
    assert {(e.line, e.field) for e in errors} == bad
    assert len(records) == len(rows) - len({line for line, _ in bad})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEADER.replace(",locale", "") + "\n",
            {"1: locale: missing column"},
        ),
        (HEADER + ",nhs_number\n", {"1: nhs_number: unknown column"}),
        (HEADER + ",phone\n", {"1: phone: column appears more than once"}),
        ("", {"1: header: the file is empty"}),
        (HEADER + "\nP1,07400123456,en\n", {"2: row: expected 7 values, found 3"}),
    ],
)
def test_header_and_shape_errors(text: str, expected: set[str]) -> None:
    found = read_csv(io.StringIO(text), "f.csv", PATIENT_COLUMNS, PATIENT_OPTIONAL_COLUMNS)
    assert {str(e).removeprefix("f.csv:") for e in found if isinstance(e, RowError)} == expected


def test_rows_carry_their_first_physical_line() -> None:
    text = f'{HEADER}\n\nP1,{MOBILE_A},en,,,,\n"P\n2",{MOBILE_B},en,,,,\nP3,{MOBILE_C},en,,,,\n'
    rows = read_csv(io.StringIO(text), "f.csv", PATIENT_COLUMNS, PATIENT_OPTIONAL_COLUMNS)
    assert [r.line for r in rows] == [3, 4, 6]


@pytest.mark.parametrize(
    ("report", "text"),
    [
        (
            ImportReport("patients", 3, 0, 1, [RowError("f", 4, "sex", "bad")]),
            "patients: 3 created, 0 updated, 1 unchanged, 1 bad row",
        ),
        (
            ImportReport("patients", 0, 2, 0, []),
            "patients: 0 created, 2 updated, 0 unchanged, 0 bad rows",
        ),
    ],
)
def test_summary(report: ImportReport, text: str) -> None:
    assert report.summary() == text


# --- the command, against the database --------------------------------------------------


@pytest.fixture
def clinic(app: Any, clock: FixedClock) -> Clinic:
    return create_clinic(
        "c1", name="Clinic One", timezone="Europe/London", sender="+442071838750", clock=clock
    )


def _write(tmp_path: Path, *lines: str, name: str = "patients.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _run(runner: Any, path: Path, *extra: str) -> Any:
    return runner.invoke(args=["import", "patients", str(path), "--clinic", "c1", *extra])


def _patients() -> dict[str, Patient]:
    db.session.expire_all()
    return {p.external_id: p for p in db.session.scalars(select(Patient))}


@pytest.mark.storage
def test_import_creates_patients(runner: Any, clinic: Clinic, tmp_path: Path, backend: str) -> None:
    path = _write(tmp_path, f"P1,{MOBILE_A},pl,1980,F,C,2", f"P2,{MOBILE_B},cy,,,,")
    result = _run(runner, path)
    assert result.exit_code == 0, result.output
    assert "patients: 2 created, 0 updated, 0 unchanged, 0 bad rows" in result.stdout
    patients = _patients()
    assert patients["P1"].phone == MOBILE_A
    assert (patients["P2"].locale, patients["P2"].birth_year) == ("cy", None)
    assert {p.clinic_id for p in patients.values()} == {clinic.id}


@pytest.mark.storage
def test_bad_rows_are_listed_and_good_rows_imported(
    runner: Any, clinic: Clinic, tmp_path: Path, backend: str
) -> None:
    path = _write(
        tmp_path,
        f"P1,{MOBILE_A},pl,1980,F,C,2",
        "P2,09098790000,en,,,,",
        f"P3,{MOBILE_C},xx,1850,Q,,",
    )
    result = _run(runner, path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: phone: premium rate number not accepted",
        f"{path}:4: birth_year: must be between 1900 and 2026",
        f"{path}:4: locale: 'xx' is not a supported locale",
        f"{path}:4: sex: must be F, M, X or U",
    ]
    assert "09098790000" not in result.output
    assert "1 created, 0 updated, 0 unchanged, 2 bad rows" in result.stdout
    assert set(_patients()) == {"P1"}


@pytest.mark.storage
def test_strict_imports_nothing(runner: Any, clinic: Clinic, tmp_path: Path, backend: str) -> None:
    path = _write(tmp_path, f"P1,{MOBILE_A},pl,,,,", f"P2,{MOBILE_B},pl,,,,9")
    result = _run(runner, path, "--strict")
    assert result.exit_code == 1
    assert f"{path}:3: imd_quintile:" in result.stderr
    assert "(strict: nothing imported)" in result.stdout
    assert _patients() == {}


@pytest.mark.storage
def test_reimport_changes_nothing(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock, backend: str
) -> None:
    path = _write(tmp_path, f"P1,{MOBILE_A},pl,1980,F,C,2", f"P2,{MOBILE_B},cy,,,,")
    assert _run(runner, path).exit_code == 0
    before = {k: p.updated_at for k, p in _patients().items()}
    clock.advance(timedelta(hours=1))
    result = _run(runner, path)
    assert result.exit_code == 0
    assert "0 created, 0 updated, 2 unchanged" in result.stdout
    assert {k: p.updated_at for k, p in _patients().items()} == before


@pytest.mark.storage
def test_changed_rows_update_the_patient(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock, backend: str
) -> None:
    assert _run(runner, _write(tmp_path, f"P1,{MOBILE_A},pl,1980,F,C,2")).exit_code == 0
    clock.advance(timedelta(hours=1))
    path = _write(tmp_path, f"P1,{MOBILE_C},ro,1981,F,C,3", name="second.csv")
    result = _run(runner, path)
    assert "0 created, 1 updated, 0 unchanged" in result.stdout
    p1 = _patients()["P1"]
    assert (p1.phone, p1.locale, p1.birth_year, p1.imd_quintile) == (MOBILE_C, "ro", 1981, 3)
    assert p1.updated_at == clock.now()


@pytest.mark.storage
def test_a_number_held_by_another_patient_is_refused(
    runner: Any, clinic: Clinic, tmp_path: Path, backend: str
) -> None:
    assert _run(runner, _write(tmp_path, f"P1,{MOBILE_A},pl,,,,")).exit_code == 0
    path = _write(tmp_path, f"P2,{MOBILE_A},pl,,,,", name="second.csv")
    result = _run(runner, path)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{path}:2: phone: already used by another patient of this clinic"
    )
    assert set(_patients()) == {"P1"}


@pytest.mark.storage
def test_duplicate_external_ids_in_a_file(
    runner: Any, clinic: Clinic, tmp_path: Path, backend: str
) -> None:
    path = _write(tmp_path, f"P1,{MOBILE_A},pl,,,,", f"P1,{MOBILE_B},pl,,,,")
    result = _run(runner, path)
    assert result.exit_code == 1
    assert f"{path}:2: external_id: duplicate (also at 3)" in result.stderr
    assert f"{path}:3: external_id: duplicate (also at 2)" in result.stderr
    assert _patients() == {}


def test_bad_header_and_unknown_clinic(runner: Any, clinic: Clinic, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("external_id,phone,locale,birth_year,sex,ethnicity,imd_quintile\n")
    result = _run(runner, path)
    assert result.exit_code == 1
    assert f"{path}:1: ethnic_category: missing column" in result.stderr
    assert f"{path}:1: ethnicity: unknown column" in result.stderr
    missing = runner.invoke(args=["import", "patients", str(path), "--clinic", "nope"])
    assert missing.exit_code == 2
    assert "no clinic with slug 'nope'" in missing.stderr


def test_a_file_that_is_not_utf8_is_refused(runner: Any, clinic: Clinic, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nZo\xeb,07400123456,en,,,,\n").encode("latin-1"))
    result = _run(runner, path)
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.stderr


@pytest.mark.storage
def test_names_are_optional_columns_kept_when_a_file_leaves_them_out(
    runner: Any, clinic: Clinic, tmp_path: Path, clock: FixedClock, backend: str
) -> None:
    named = tmp_path / "named.csv"
    named.write_text(
        f"{HEADER},given_name,family_name\n"
        f"P1,{MOBILE_A},pl,,,,,  Zofia  Maria ,Nowak\n"
        f"P2,{MOBILE_B},cy,,,,,,\n",
        encoding="utf-8",
    )
    assert _run(runner, named).exit_code == 0
    patients = _patients()
    assert (patients["P1"].given_name, patients["P1"].family_name) == ("Zofia Maria", "Nowak")
    assert (patients["P2"].given_name, patients["P2"].family_name) == (None, None)
    # A file without the name columns changes no name.
    result = _run(runner, _write(tmp_path, f"P1,{MOBILE_A},pl,,,,", name="plain.csv"))
    assert "0 created, 0 updated, 1 unchanged" in result.stdout
    assert _patients()["P1"].family_name == "Nowak"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("x" * 101, "longer than 100 characters"), ("Ann\x07", "contains control characters")],
)
def test_bad_names_are_refused_with_a_reason(value: str, reason: str) -> None:
    _records, errors = _validate(given_name=value)
    assert [(e.field, e.reason) for e in errors] == [("given_name", reason)]
