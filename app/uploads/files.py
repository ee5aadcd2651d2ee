"""Checking an uploaded file before it is stored (pure): its name, size, text and shape.

What can be judged at once is judged here, so that staff hear of a wrong file on the
form itself: too large, empty, not UTF-8 text, a CSV file whose header does not name the
columns of its kind, a JSON file that is not a FHIR Bundle. Its rows are checked by the
import, as the command line checks them. Where a problem has a place, it is named the
way the command line names it: `patients.csv:1: phone: missing column`.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from app.appointments.fhir import parse_appointment_bundle
from app.appointments.importers import (
    APPOINTMENT_COLUMNS,
    OUTCOME_COLUMNS,
    OUTCOME_OPTIONAL_COLUMNS,
)
from app.core.imports import HEADER_LINE, check_header
from app.patients.importers import PATIENT_COLUMNS, PATIENT_OPTIONAL_COLUMNS
from app.uploads.kinds import ImportKind

#: The largest file taken: 8 MiB, as much as a request may carry (about 100,000 rows).
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_NAME = 120
#: The columns each kind of CSV file has, and those it may leave out (as its import
#: service reads them).
CSV_COLUMNS: dict[ImportKind, tuple[Sequence[str], Sequence[str]]] = {
    ImportKind.PATIENTS: (PATIENT_COLUMNS, PATIENT_OPTIONAL_COLUMNS),
    ImportKind.APPOINTMENTS: (APPOINTMENT_COLUMNS, ("pathway",)),
    ImportKind.OUTCOMES: (OUTCOME_COLUMNS, OUTCOME_OPTIONAL_COLUMNS),
}
_DEFAULT_NAMES = {kind: f"{kind.value}.csv" for kind in CSV_COLUMNS} | {
    ImportKind.FHIR: "bundle.json"
}


class FileProblem(enum.StrEnum):
    EMPTY = "empty"  # no bytes at all
    TOO_LARGE = "too_large"  # more than MAX_FILE_BYTES
    NOT_UTF8 = "not_utf8"  # not UTF-8 text (a spreadsheet, another encoding)
    NOT_CSV = "not_csv"  # its first line cannot be read as CSV
    WRONG_COLUMNS = "wrong_columns"  # the header does not name the kind's columns
    NOT_JSON = "not_json"  # not a JSON document
    NOT_BUNDLE = "not_bundle"  # JSON, but not a FHIR Bundle


@dataclass(frozen=True)
class FileRefusal:
    """Why a file cannot be imported at all, and where (as the command line says it)."""

    problem: FileProblem
    details: tuple[str, ...] = ()


def clean_name(raw: str | None, kind: ImportKind) -> str:
    """The name to show for an uploaded file: its last path part, printable characters
    only, at most MAX_NAME long (the end kept, with its extension); a name for the kind
    when nothing is left."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in base if c.isprintable()).strip()
    return printable[-MAX_NAME:].strip() or _DEFAULT_NAMES[kind]


def check_file(kind: ImportKind, name: str, content: bytes) -> FileRefusal | None:
    """Why the file cannot be imported as `kind`, or None if its rows are worth reading."""
    if not content:
        return FileRefusal(FileProblem.EMPTY)
    if len(content) > MAX_FILE_BYTES:
        return FileRefusal(FileProblem.TOO_LARGE)
    try:
        # The import reads CSV with "utf-8-sig" (a byte-order mark is allowed) and JSON
        # with "utf-8"; a mark before JSON is refused there too.
        text = content.decode("utf-8" if kind is ImportKind.FHIR else "utf-8-sig")
    except UnicodeDecodeError as exc:
        detail = f"{name}: not UTF-8 text (byte {exc.start + 1})"
        return FileRefusal(FileProblem.NOT_UTF8, (detail,))
    if kind is ImportKind.FHIR:
        return _check_bundle(name, text)
    return _check_header(kind, name, text)


def _check_header(kind: ImportKind, name: str, text: str) -> FileRefusal | None:
    columns, optional = CSV_COLUMNS[kind]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        detail = f"{name}:{HEADER_LINE}: not readable as CSV ({exc})"
        return FileRefusal(FileProblem.NOT_CSV, (detail,))
    names = [column.strip().lower() for column in header]
    errors = check_header(names, columns, name, optional)
    if errors:
        return FileRefusal(FileProblem.WRONG_COLUMNS, tuple(str(e) for e in errors))
    return None


def _check_bundle(name: str, text: str) -> FileRefusal | None:
    try:
        bundle = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return FileRefusal(
            FileProblem.NOT_JSON, (f"{name}: not valid JSON ({type(exc).__name__})",)
        )
    # The bundle's own problems, judged by the import's own reader; its entries are the
    # import's to check.
    shape = bundle
    if isinstance(bundle, dict) and isinstance(bundle.get("entry", []), list):
        shape = {"resourceType": bundle.get("resourceType"), "entry": []}
    issues = parse_appointment_bundle(shape).errors
    if issues:
        details = tuple(f"{name}: {issue.path}: {issue.reason}" for issue in issues)
        return FileRefusal(FileProblem.NOT_BUNDLE, details)
    return None
