"""Checking rows of a PALS export: contacts, complaints and compliments (pure).

Columns: `date,clinic,type,text,themes,birth_year,sex,ethnic_category,imd_quintile`.
`date` is an ISO date (not in the future); `type` is pals, complaint or compliment;
`clinic` a clinic's slug, or empty for the organisation as a whole; `text` and `themes`
may be empty (themes are names of the code-book separated by `;`); the demographics are
as in the patients file, and each may be empty. Every problem is a RowError naming the
file, the line and the field; the service refuses the rows with errors and writes the
others in one transaction (or none, with --strict).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from app.core.imports import (
    FieldChecker,
    FieldValueError,
    RowError,
    SourceRow,
    check_fields,
    text_of,
)
from app.patients.importers import birth_year_field, ethnic_field, imd_field, sex_field
from app.themes.labelled import MAX_TEXT


class PalsKind(enum.StrEnum):
    PALS = "pals"  # a contact with the Patient Advice and Liaison Service
    COMPLAINT = "complaint"  # a formal complaint
    COMPLIMENT = "compliment"  # a compliment


PALS_COLUMNS: tuple[str, ...] = (
    "date",
    "clinic",
    "type",
    "text",
    "themes",
    "birth_year",
    "sex",
    "ethnic_category",
    "imd_quintile",
)
PALS_REQUIRED: frozenset[str] = frozenset({"date", "type"})


@dataclass(frozen=True)
class PalsRecord:
    """A checked PALS row; `clinic` is a slug still to be found, `themes` theme ids."""

    line: int
    contact_date: date
    clinic: str | None
    kind: PalsKind
    text: str | None
    themes: tuple[int, ...]
    birth_year: int | None
    sex: str | None
    ethnic_category: str | None
    imd_quintile: int | None
    row_key: str = ""


def validate_pals(
    rows: Sequence[SourceRow],
    *,
    source: str,
    today: date,
    theme_id: Callable[[str], int | None],
) -> tuple[list[PalsRecord], list[RowError]]:
    """Check PALS rows; return the good records (with their row keys) and the errors.

    `theme_id` finds a theme of the organisation's code-book by name (None if unknown).
    Two identical rows are two contacts: each occurrence gets its own key, so importing
    the same file twice adds nothing the second time.
    """
    records: list[PalsRecord] = []
    errors: list[RowError] = []
    seen: Counter[str] = Counter()
    for row in rows:
        fields = FieldChecker(row, source, check_fields(row, PALS_COLUMNS, PALS_REQUIRED, source))
        contact_date = fields.take("date", lambda v: _date(v, today))
        clinic = fields.take("clinic", _slug)
        kind = fields.take("type", _kind)
        text = fields.take("text", _text)
        themes = fields.take("themes", lambda v: _themes(v, theme_id))
        birth_year = fields.take("birth_year", lambda v: birth_year_field(v, today.year))
        sex = fields.take("sex", sex_field)
        ethnic = fields.take("ethnic_category", ethnic_field)
        imd = fields.take("imd_quintile", imd_field)
        if fields.errors:
            errors += fields.errors
            continue
        assert contact_date is not None
        assert kind is not None
        values = [str(row.values.get(c, "")).strip() for c in PALS_COLUMNS]
        digest = json.dumps(values, ensure_ascii=False)
        seen[digest] += 1
        key = hashlib.sha256(f"{digest}#{seen[digest]}".encode()).hexdigest()
        records.append(
            PalsRecord(
                row.line,
                contact_date,
                clinic,
                kind,
                text,
                themes or (),
                birth_year,
                sex,
                ethnic,
                imd,
                key,
            )
        )
    return records, errors


def _date(value: object, today: date) -> date:
    text = text_of(value)
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise FieldValueError("expected an ISO date (YYYY-MM-DD)") from None
    if parsed > today:
        raise FieldValueError("is in the future")
    return parsed


def _slug(value: object) -> str | None:
    text = text_of(value)
    if not text:
        return None
    if len(text) > 64 or not text.isprintable():
        raise FieldValueError("not a clinic slug")
    return text


def _kind(value: object) -> PalsKind:
    text = text_of(value).lower()
    try:
        return PalsKind(text)
    except ValueError:
        raise FieldValueError("must be pals, complaint or compliment") from None


def _text(value: object) -> str | None:
    text = text_of(value)
    if len(text) > MAX_TEXT:
        raise FieldValueError(f"longer than {MAX_TEXT:,} characters")
    return text or None


def _themes(value: object, theme_id: Callable[[str], int | None]) -> tuple[int, ...]:
    ids = []
    for name in (part.strip() for part in text_of(value).split(";")):
        if not name:
            continue
        found = theme_id(name)
        if found is None:
            shown = name if len(name) <= 80 else name[:77] + "..."
            raise FieldValueError(f"unknown theme {shown!r}")
        ids.append(found)
    return tuple(dict.fromkeys(ids))
