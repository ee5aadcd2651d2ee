"""Checking an uploaded file before it is stored: a table of files and what is wrong."""

from __future__ import annotations

import pytest

from app.uploads.files import (
    MAX_FILE_BYTES,
    FileProblem,
    FileRefusal,
    check_file,
    clean_name,
)
from app.uploads.kinds import ImportKind

PATIENTS = "external_id,phone,locale,birth_year,sex,ethnic_category,imd_quintile\n"
K = ImportKind


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        (K.PATIENTS, PATIENTS.encode(), None),
        (K.PATIENTS, ("\ufeff" + PATIENTS + "P1,+447400123456,en,,,,\n").encode(), None),
        (K.PATIENTS, PATIENTS.upper().replace(",", " , ").encode(), None),
        (K.APPOINTMENTS, b"starts_at,external_id,patient_external_id\n", None),
        (K.APPOINTMENTS, b"external_id,patient_external_id,starts_at,pathway\n", None),
        (K.OUTCOMES, b"external_id,outcome\r\nA1,attended\r\n", None),
        (K.FHIR, b'{"resourceType": "Bundle", "type": "searchset"}', None),
        (K.FHIR, b'{"resourceType": "Bundle", "entry": [{"x": 1}]}', None),
        (K.PATIENTS, b"", FileRefusal(FileProblem.EMPTY)),
        (
            K.PATIENTS,
            PATIENTS.encode("utf-16"),
            FileRefusal(FileProblem.NOT_UTF8, ("f.csv: not UTF-8 text (byte 1)",)),
        ),
        (
            K.PATIENTS,
            b"external_id,phone\n",
            FileRefusal(
                FileProblem.WRONG_COLUMNS,
                (
                    "f.csv:1: locale: missing column",
                    "f.csv:1: birth_year: missing column",
                    "f.csv:1: sex: missing column",
                    "f.csv:1: ethnic_category: missing column",
                    "f.csv:1: imd_quintile: missing column",
                ),
            ),
        ),
        (
            K.OUTCOMES,
            b"external_id,outcome,outcome,nhs_number\n",
            FileRefusal(
                FileProblem.WRONG_COLUMNS,
                (
                    "f.csv:1: outcome: column appears more than once",
                    "f.csv:1: nhs_number: unknown column",
                ),
            ),
        ),
        (
            K.OUTCOMES,
            b"x" * 200_000 + b"\n",
            FileRefusal(
                FileProblem.NOT_CSV,
                ("f.csv:1: not readable as CSV (field larger than field limit (131072))",),
            ),
        ),
        (
            K.FHIR,
            b"{not json",
            FileRefusal(FileProblem.NOT_JSON, ("f.csv: not valid JSON (JSONDecodeError)",)),
        ),
        (
            K.FHIR,
            b"[" * 100_000,
            FileRefusal(FileProblem.NOT_JSON, ("f.csv: not valid JSON (RecursionError)",)),
        ),
        (
            K.FHIR,
            b'{"resourceType": "Patient"}',
            FileRefusal(FileProblem.NOT_BUNDLE, ("f.csv: resourceType: must be Bundle",)),
        ),
        (
            K.FHIR,
            b'[{"resourceType": "Bundle"}]',
            FileRefusal(FileProblem.NOT_BUNDLE, ("f.csv: Bundle: not a JSON object",)),
        ),
        (
            K.FHIR,
            b'{"resourceType": "Bundle", "entry": {}}',
            FileRefusal(FileProblem.NOT_BUNDLE, ("f.csv: entry: not a list",)),
        ),
        (
            K.FHIR,
            b'\xef\xbb\xbf{"resourceType": "Bundle"}',
            FileRefusal(FileProblem.NOT_JSON, ("f.csv: not valid JSON (JSONDecodeError)",)),
        ),
    ],
)
def test_what_is_wrong_with_a_file(
    kind: ImportKind, content: bytes, expected: FileRefusal | None
) -> None:
    assert check_file(kind, "f.csv", content) == expected


def test_a_file_over_the_limit_is_too_large_whatever_it_holds() -> None:
    fits = PATIENTS.encode() + b"\n" * (MAX_FILE_BYTES - len(PATIENTS))
    assert check_file(K.PATIENTS, "f.csv", fits) is None
    assert check_file(K.PATIENTS, "f.csv", fits + b"\n") == FileRefusal(FileProblem.TOO_LARGE)


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("patients.csv", K.PATIENTS, "patients.csv"),
        ("C:\\Users\\rita\\Desktop\\March list.csv", K.APPOINTMENTS, "March list.csv"),
        ("/home/rita/outcomes.csv", K.OUTCOMES, "outcomes.csv"),
        ("  bad\x00name\n.csv ", K.PATIENTS, "badname.csv"),
        ("x" * 200 + ".json", K.FHIR, "x" * 115 + ".json"),
        ("", K.PATIENTS, "patients.csv"),
        (None, K.FHIR, "bundle.json"),
        ("folder/", K.OUTCOMES, "outcomes.csv"),
    ],
)
def test_the_name_shown_for_a_file(raw: str | None, kind: ImportKind, expected: str) -> None:
    assert clean_name(raw, kind) == expected
