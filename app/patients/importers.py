"""Reading and checking imported patient rows (pure: no database, no Flask).

Rows come from a CSV file or a JSON API body. Each is checked field by field, and every
problem becomes a `RowError` that names the source, the line, the field and the reason.
A reason never repeats the phone number it refers to. The checks that need the database
(a phone number already used by another patient) are the service's.

The shared pieces (`RowError`, `ImportReport`, `SourceRow`, `read_csv`, `text_of`) are
used by the appointment importer too.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TextIO, TypeVar

from app.core import locales, phone

PATIENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "phone",
    "locale",
    "birth_year",
    "sex",
    "ethnic_category",
    "imd_quintile",
    "channel",
)
#: Channels a patient may prefer; a web link travels by SMS, so it needs a mobile.
PATIENT_CHANNELS: frozenset[str] = frozenset({"sms", "whatsapp", "voice", "web"})
PATIENT_REQUIRED: frozenset[str] = frozenset({"external_id", "phone", "locale"})
#: Columns a CSV file may leave out (added after the format was first published).
PATIENT_OPTIONAL_COLUMNS: tuple[str, ...] = ("channel",)

SEXES: frozenset[str] = frozenset({"F", "M", "X", "U"})
#: NHS ethnic category codes (the 2001 census groups); Z is "not stated".
ETHNIC_CATEGORIES: frozenset[str] = frozenset("ABCDEFGHJKLMNPRSZ")
IMD_QUINTILES = range(1, 6)
EARLIEST_BIRTH_YEAR = 1900
MAX_EXTERNAL_ID = 64

T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """One problem with one field of one row.

    `line` is the physical line in a CSV file (the header is line 1), or the 0-based
    index of the row in a JSON body.
    """

    source: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: rows created, updated, left unchanged, and the bad ones.

    `imported` is False when a strict import wrote nothing because some row was bad.
    """

    noun: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = True

    @property
    def bad_rows(self) -> int:
        """How many distinct rows (or header lines) had at least one error."""
        return len({error.line for error in self.errors})

    def summary(self) -> str:
        bad = self.bad_rows
        text = (
            f"{self.noun}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {bad} bad {'row' if bad == 1 else 'rows'}"
        )
        return text if self.imported else text + " (strict: nothing imported)"


@dataclass(frozen=True)
class SourceRow:
    """A raw row: where it came from and its values by column name."""

    line: int
    values: Mapping[str, object]


@dataclass(frozen=True)
class PatientRecord:
    """A checked patient row, ready to be written."""

    line: int
    external_id: str
    phone: str
    locale: str
    birth_year: int | None
    sex: str | None
    ethnic_category: str | None
    imd_quintile: int | None
    #: The preferred channel; None when the file does not say (an update keeps it).
    channel_preference: str | None = None


class FieldValueError(ValueError):
    """A field value that breaks a rule; the message is the reason shown to staff."""


class CsvReadError(ValueError):
    """The file is not CSV we can read (NUL bytes, an oversized field)."""


def read_csv(
    stream: TextIO, source: str, columns: Sequence[str], optional: Sequence[str] = ()
) -> list[SourceRow | RowError]:
    """Read CSV rows keyed by the header, each tagged with its first physical line.

    The header must name exactly `columns` (in any order, case and surrounding spaces
    ignored), of which those in `optional` may be left out; otherwise only header
    errors (line 1) are returned. A row with the wrong
    number of values becomes a RowError. Blank lines are skipped. Raises CsvReadError,
    naming the line, when the csv module cannot parse the file.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None:
            return [RowError(source, 1, "header", "the file is empty")]
        names = [name.strip().lower() for name in header]
        header_errors = check_header(names, columns, source, optional)
        if header_errors:
            return list(header_errors)
        return list(_rows(reader, names, source))
    except csv.Error as exc:
        raise CsvReadError(f"{source}:{reader.line_num}: not readable as CSV ({exc})") from None


def check_header(
    names: Sequence[str], columns: Sequence[str], source: str, optional: Sequence[str] = ()
) -> list[RowError]:
    """Header line errors: missing (unless optional), unknown and repeated column names."""
    errors = [
        RowError(source, 1, c, "missing column")
        for c in columns
        if c not in names and c not in optional
    ]
    seen: set[str] = set()
    for name in names:
        if name not in columns:
            errors.append(RowError(source, 1, name or "(blank)", "unknown column"))
        elif name in seen:
            errors.append(RowError(source, 1, name, "column appears more than once"))
        seen.add(name)
    return errors


class _LineReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def _rows(reader: _LineReader, names: list[str], source: str) -> Iterator[SourceRow | RowError]:
    line = 2
    for values in reader:
        first_line, line = line, reader.line_num + 1
        if not values:
            continue
        if len(values) != len(names):
            reason = f"expected {len(names)} values, found {len(values)}"
            yield RowError(source, first_line, "row", reason)
            continue
        yield SourceRow(first_line, dict(zip(names, values, strict=True)))


def text_of(value: object) -> str:
    """A field value as stripped text: None is empty, whole numbers are written out.

    Raises FieldValueError for anything else (booleans, fractions, lists, objects).
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldValueError("expected text or a whole number")
    return str(value).strip()


def check_fields(
    row: SourceRow, allowed: Sequence[str], required: frozenset[str], source: str
) -> list[RowError]:
    """Errors for names that are not columns and for required values that are absent."""
    errors = [
        RowError(source, row.line, name, "unknown field")
        for name in row.values
        if name not in allowed
    ]
    for name in allowed:
        if name in required and row.values.get(name) in (None, ""):
            errors.append(RowError(source, row.line, name, "required"))
    return errors


def identifier(value: object) -> str:
    """An external identifier: 1 to 64 printable characters."""
    text = text_of(value)
    if not text:
        raise FieldValueError("required")
    if len(text) > MAX_EXTERNAL_ID:
        raise FieldValueError(f"longer than {MAX_EXTERNAL_ID} characters")
    if not text.isprintable():
        raise FieldValueError("contains control characters")
    return text


def duplicate_errors(
    keyed: Iterable[tuple[int, str]], source: str, field_name: str
) -> list[RowError]:
    """An error on every row whose key is shared with another row.

    Every occurrence is refused, the first as well: which of them is right is a guess.
    """
    lines_by_key: dict[str, list[int]] = defaultdict(list)
    for line, key in keyed:
        lines_by_key[key].append(line)
    errors = []
    for lines in lines_by_key.values():
        for line in lines if len(lines) > 1 else ():
            others = ", ".join(str(other) for other in lines if other != line)
            errors.append(RowError(source, line, field_name, f"duplicate (also at {others})"))
    return errors


def shared_phone_errors(records: Sequence[PatientRecord], source: str) -> list[RowError]:
    """An error on every row whose phone number is given for another external id too.

    Replies are matched to patients by the number they come from, so a number shared
    by two patients of one clinic could attach an answer to the wrong one.
    """
    ids_by_phone: dict[str, set[str]] = defaultdict(set)
    for record in records:
        ids_by_phone[record.phone].add(record.external_id)
    return [
        RowError(source, r.line, "phone", "also given for another patient in this import")
        for r in records
        if len(ids_by_phone[r.phone]) > 1
    ]


def validate_patients(
    rows: Sequence[SourceRow],
    *,
    source: str,
    allowed_regions: frozenset[str],
    this_year: int,
) -> tuple[list[PatientRecord], list[RowError]]:
    """Check patient rows; return the good records and the errors of the bad rows.

    A row with any error yields no record. Phones must pass the SMS policy (UK mobiles,
    or mobiles of `allowed_regions`). Two rows with one external id, or two external
    ids with one phone number, are all refused.
    """
    records: list[PatientRecord] = []
    errors: list[RowError] = []
    for row in rows:
        record, row_errors = _patient(row, source, allowed_regions, this_year)
        errors += row_errors
        if record is not None:
            records.append(record)
    errors += duplicate_errors(((r.line, r.external_id) for r in records), source, "external_id")
    errors += shared_phone_errors(records, source)
    bad = {error.line for error in errors}
    return [r for r in records if r.line not in bad], errors


def _patient(
    row: SourceRow, source: str, allowed_regions: frozenset[str], this_year: int
) -> tuple[PatientRecord | None, list[RowError]]:
    fields = FieldChecker(row, source, check_fields(row, PATIENT_COLUMNS, PATIENT_REQUIRED, source))
    external_id = fields.take("external_id", identifier)
    channel = fields.take("channel", _channel)
    phone_channel = "voice" if channel == "voice" else "sms"
    number = fields.take("phone", lambda v: _phone(v, allowed_regions, phone_channel))
    locale = fields.take("locale", _locale)
    birth_year = fields.take("birth_year", lambda v: _birth_year(v, this_year))
    sex = fields.take("sex", lambda v: _code(v, SEXES, "F, M, X or U"))
    ethnic = fields.take("ethnic_category", lambda v: _code(v, ETHNIC_CATEGORIES, _ETHNIC_HELP))
    imd = fields.take("imd_quintile", _imd_quintile)
    if fields.errors:
        return None, fields.errors
    assert external_id is not None
    assert number is not None
    assert locale is not None
    record = PatientRecord(
        row.line, external_id, number, locale, birth_year, sex, ethnic, imd, channel
    )
    return record, []


_ETHNIC_HELP = "an NHS ethnic category code (A-H, J-N, P, R, S or Z)"


class FieldChecker:
    """Runs one check per field of a row, collecting a RowError for each failure.

    Fields that already failed (an unknown or missing value) are not checked again.
    """

    def __init__(self, row: SourceRow, source: str, errors: list[RowError]) -> None:
        self.row = row
        self.source = source
        self.errors = errors
        self._failed = {error.field for error in errors}

    def take(self, name: str, check: Callable[[object], T]) -> T | None:
        """The checked value of field `name`, or None after recording why it failed."""
        if name in self._failed:
            return None
        try:
            return check(self.row.values.get(name))
        except FieldValueError as exc:
            self.errors.append(RowError(self.source, self.row.line, name, str(exc)))
            return None


def _channel(value: object) -> str | None:
    text = text_of(value).lower()
    if not text:
        return None
    if text not in PATIENT_CHANNELS:
        raise FieldValueError("expected sms, whatsapp, voice or web")
    return text


def _phone(value: object, allowed_regions: frozenset[str], channel: str = "sms") -> str:
    """Mobiles only, except for a patient reached by telephone call (landlines too)."""
    try:
        return phone.normalise(text_of(value), channel, allowed_regions=allowed_regions)
    except phone.PhoneRejected as exc:
        # The policy's messages are fixed strings: safe to show, never the number.
        raise FieldValueError(exc.message) from None


def _locale(value: object) -> str:
    text = text_of(value)
    code = locales.canonical(text)
    if code is None:
        shown = text if len(text) <= 20 and text.isprintable() else "this value"
        raise FieldValueError(f"{shown!r} is not a supported locale")
    return code


def _whole_number(value: object) -> int | None:
    text = text_of(value)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise FieldValueError("expected a whole number")
    return int(text)


def _birth_year(value: object, this_year: int) -> int | None:
    year = _whole_number(value)
    if year is not None and not EARLIEST_BIRTH_YEAR <= year <= this_year:
        raise FieldValueError(f"must be between {EARLIEST_BIRTH_YEAR} and {this_year}")
    return year


def _imd_quintile(value: object) -> int | None:
    quintile = _whole_number(value)
    if quintile is not None and quintile not in IMD_QUINTILES:
        raise FieldValueError("must be 1 (most deprived) to 5")
    return quintile


def _code(value: object, allowed: frozenset[str], described: str) -> str | None:
    text = text_of(value).upper()
    if not text:
        return None
    if text not in allowed:
        raise FieldValueError(f"must be {described}")
    return text
