"""Properties of the themes' entry points: any input gives a result or a named error."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import Invalid
from app.core.imports import SourceRow
from app.core.locales import SUPPORTED_LOCALES
from app.themes.framework import framework
from app.themes.keywords import keyword_sentiment, keyword_themes
from app.themes.labelled import read_input, read_labelled
from app.themes.masking import mask
from app.themes.pals import PALS_COLUMNS, validate_pals

_CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "2026-02-01", "pals", "complaint", "1980", "F", "H", "3", "Parking"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries(dict.fromkeys(PALS_COLUMNS, _CELL)), max_size=5))
def test_pals_rows_are_each_a_record_or_named_errors(values: list[dict[str, str]]) -> None:
    rows = [SourceRow(line, row) for line, row in enumerate(values, start=2)]
    records, errors = validate_pals(
        rows,
        source="f.csv",
        today=date(2026, 3, 1),
        theme_id=lambda n: 1 if n == "Parking" else None,
    )
    bad = {e.line for e in errors}
    assert {r.line for r in records}.isdisjoint(bad)
    assert {r.line for r in records} | bad == {row.line for row in rows}
    assert all(e.source == "f.csv" and e.field and e.reason for e in errors)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_comment_file_is_read_or_refused_with_reasons(content: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.csv"
        path.write_text(content, encoding="utf-8")
        for read in (read_input, lambda p: read_labelled(p, lambda n: n)):
            try:
                rows, reason = read(path), ""
            except Invalid as exc:
                rows, reason = [], str(exc)
            assert reason or all(r.id and r.text for r in rows)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(SUPPORTED_LOCALES))
def test_masking_and_keywords_take_any_text(text: str, locale: str) -> None:
    masked = mask(text, locale)
    assert isinstance(masked.text, str)
    assert mask(masked.text, locale).text == masked.text  # masking twice changes nothing
    keys = {t.key for t in framework().themes}
    assert all(s.key in keys and 0 < s.score <= 1 for s in keyword_themes(text, locale))
    assert keyword_sentiment(text, locale) in (None, 1, 2, 3, 4, 5)
