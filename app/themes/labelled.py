"""Reading comment files: labelled comments to train on, and comments to suggest themes
for (pure: no database).

A labelled CSV has the columns `id,text,themes` and optionally `sentiment` (1 very
positive to 5 very negative) and `locale`; `themes` holds theme names (the framework's,
as it publishes them, or an organisation's own codes) separated by `;`. The input of
`suggest` has `id,text` and optionally `locale`. Every problem names the file, the
line (the header is line 1) and the field, and a file with any bad row is refused whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core import locales
from app.core.errors import Invalid
from app.core.imports import (
    FieldChecker,
    FieldValueError,
    RowError,
    check_fields,
    csv_batch,
    duplicate_errors,
    identifier,
    text_of,
)

LABELLED_COLUMNS = ("id", "text", "themes", "sentiment", "locale")
INPUT_COLUMNS = ("id", "text", "locale")
#: A comment longer than this is refused (a survey answer is at most 1,600 characters).
MAX_TEXT = 10_000


@dataclass(frozen=True)
class CommentRow:
    """A comment read from a file."""

    line: int
    id: str
    text: str
    locale: str
    themes: tuple[str, ...] = ()
    sentiment: int | None = None


class CommentFileError(Invalid):
    """A comment file with bad rows; `errors` names each."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:20])
        more = f"\n… and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(shown + more)


def read_labelled(path: Path, resolve: Callable[[str], str | None]) -> list[CommentRow]:
    """The rows of a labelled CSV. `resolve` turns a theme name as written into the
    name the model uses, or None for a name it does not know. Raises CommentFileError
    (or Invalid for a file that is not UTF-8 CSV)."""
    return _read(path, LABELLED_COLUMNS, ("sentiment", "locale"), resolve)


def read_input(path: Path) -> list[CommentRow]:
    """The rows of a CSV of comments to suggest themes for. Raises as `read_labelled`."""
    return _read(path, INPUT_COLUMNS, ("locale",), None)


def _read(
    path: Path,
    columns: tuple[str, ...],
    optional: tuple[str, ...],
    resolve: Callable[[str], str | None] | None,
) -> list[CommentRow]:
    batch = csv_batch(path, columns, optional)
    errors = list(batch.errors)
    rows: list[CommentRow] = []
    required = frozenset({"id", "text"})
    for source_row in batch.rows:
        present = [c for c in columns if c in source_row.values]
        fields = FieldChecker(
            source_row, batch.source, check_fields(source_row, present, required, batch.source)
        )
        comment_id = fields.take("id", identifier)
        text = fields.take("text", _text)
        locale = fields.take("locale", _locale)
        themes = fields.take("themes", _themes(resolve)) if resolve else ()
        sentiment = fields.take("sentiment", _sentiment) if resolve else None
        if fields.errors:
            errors += fields.errors
            continue
        assert comment_id is not None
        assert text is not None
        rows.append(
            CommentRow(source_row.line, comment_id, text, locale or "en", themes or (), sentiment)
        )
    errors += duplicate_errors(((r.line, r.id) for r in rows), batch.source, "id")
    if errors:
        raise CommentFileError(sorted(set(errors), key=lambda e: (e.line, e.field)))
    return rows


def _text(value: object) -> str:
    text = text_of(value)
    if not text:
        raise FieldValueError("required")
    if len(text) > MAX_TEXT:
        raise FieldValueError(f"longer than {MAX_TEXT:,} characters")
    return text


def _locale(value: object) -> str | None:
    text = text_of(value)
    if not text:
        return None
    code = locales.canonical(text)
    if code is None:
        shown = text if len(text) <= 20 and text.isprintable() else "this value"
        raise FieldValueError(f"{shown!r} is not a supported locale")
    return code


def _sentiment(value: object) -> int | None:
    text = text_of(value)
    if not text:
        return None
    if text not in {"1", "2", "3", "4", "5"}:
        raise FieldValueError("must be 1 (very positive) to 5 (very negative)")
    return int(text)


def _themes(resolve: Callable[[str], str | None] | None) -> Callable[[object], tuple[str, ...]]:
    def check(value: object) -> tuple[str, ...]:
        names = []
        for written in (part.strip() for part in text_of(value).split(";")):
            if not written:
                continue
            name = resolve(written) if resolve else written
            if name is None:
                shown = written if len(written) <= 80 else written[:77] + "..."
                raise FieldValueError(f"unknown theme {shown!r}")
            names.append(name)
        return tuple(dict.fromkeys(names))

    return check
