"""Import plumbing shared by every importer (pure: no database, no Flask).

Rows come from a CSV file or a JSON API body. Each is checked field by field, and every
problem becomes a `RowError` that names the source, the line, the field and the reason.
An importer reads a `RowBatch` (`csv_batch`, `json_batch`), checks each row with a
`FieldChecker`, and reports what it did in an `ImportReport`. A caller that shows how far
an import has gone passes a `Progress` callback, which the importer tells through a
`RowProgress` as it checks and writes its rows.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO, TypeVar

from app.core.errors import Invalid

MAX_EXTERNAL_ID = 64
# Keeps each IN (...) list well under every database's bound-parameter limit.
LOOKUP_CHUNK = 500
#: Rows written between two reports of progress.
WRITE_CHUNK = 500
#: A CSV file's header line; rows start on the next.
HEADER_LINE = 1

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

    def error_lines(self) -> list[str]:
        """Each error as the command line prints it: `SOURCE:LINE: FIELD: reason`."""
        return [str(error) for error in self.errors]

    def lines(self) -> list[str]:
        """Every line the command line prints about the rows, in its order (the summary
        follows them)."""
        return self.error_lines()

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


#: Told how many of an import's rows are done, and how many there are in all.
Progress = Callable[[int, int], None]


@dataclass
class RowProgress:
    """Counts an import's rows as they are done, and tells `progress` (if given).

    A row is done once it is checked and needs no writing (bad, or unchanged), or once
    it is written; the count never goes past `total` and never goes back.
    """

    total: int
    progress: Progress | None = None
    done: int = 0

    def advance(self, rows: int) -> None:
        """Count `rows` more as done (0 just tells where the import stands)."""
        self.done = min(self.total, self.done + max(0, rows))
        if self.progress is not None:
            self.progress(self.done, self.total)

    def leave(self, remaining: int) -> None:
        """Count as done every row but the `remaining` ones still to write."""
        self.advance(self.total - remaining - self.done)


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


@dataclass(frozen=True)
class RowBatch:
    """Rows to import: where they came from, the rows read, and the errors found while
    reading them (a bad header, a row of the wrong length)."""

    source: str
    rows: list[SourceRow]
    errors: list[RowError] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many rows were read, counting those refused while reading."""
        return len(self.rows) + len({e.line for e in self.errors if e.line > HEADER_LINE})


def csv_batch(
    path: Path, columns: Sequence[str], optional: Sequence[str] = (), source: str | None = None
) -> RowBatch:
    """The rows of a UTF-8 CSV file (a byte-order mark is allowed), by physical line.

    Errors name the file as `source` (by default its path). Raises Invalid for a file
    that is not UTF-8 CSV.
    """
    name = str(path) if source is None else source
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            parsed = read_csv(stream, name, columns, optional)
    except UnicodeDecodeError:
        raise Invalid(f"{name}: not UTF-8 text") from None
    except CsvReadError as exc:
        raise Invalid(str(exc)) from None
    rows = [item for item in parsed if isinstance(item, SourceRow)]
    errors = [item for item in parsed if isinstance(item, RowError)]
    return RowBatch(name, rows, errors)


def json_batch(rows: Sequence[Mapping[str, object]], source: str) -> RowBatch:
    """Rows given as mappings (a JSON body), by 0-based index."""
    return RowBatch(source, [SourceRow(index, row) for index, row in enumerate(rows)])


def chunks(values: Sequence[T], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[T]]:
    """`values` in slices of at most `size` (by default small enough for one IN (...)
    list)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
