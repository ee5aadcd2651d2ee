"""Reading the patient search box (pure): ids, phone numbers written any usual way, names."""

from __future__ import annotations

import pytest

from app.casework.search import SearchTerms, like_prefix, read_terms


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("P-1042", SearchTerms("P-1042")),
        ("  P1  ", SearchTerms("P1")),
        ("07400 100001", SearchTerms("07400 100001", phone="+447400100001")),
        ("+44 (0)7400 100001", SearchTerms("+44 (0)7400 100001", phone="+447400100001")),
        ("0044 7400-100001", SearchTerms("0044 7400-100001", phone="+447400100001")),
        ("07400\u2013100001", SearchTerms("07400\u2013100001", phone="+447400100001")),
        ("020 7183 8750", SearchTerms("020 7183 8750", phone="+442071838750")),
        ("Smith", SearchTerms("Smith", words=("smith",))),
        ("Ann  O'Brien", SearchTerms("Ann O'Brien", words=("ann", "o'brien"))),
        ("Jones-Smith", SearchTerms("Jones-Smith", words=("jones-smith",))),
        ("ann 42", SearchTerms("ann 42", words=("ann",))),
        ("a b c d e", SearchTerms("a b c d e", words=("a", "b", "c", "d"))),
        ("66777", SearchTerms("66777")),  # a short code: an id, not a number
    ],
)
def test_what_a_search_looks_for(typed: str, expected: SearchTerms) -> None:
    assert read_terms(typed) == expected


def test_a_number_of_an_allowed_region_is_read_too() -> None:
    assert read_terms("+1 202 555 0143").phone is None
    assert read_terms("+1 202 555 0143", frozenset({"US"})).phone == "+12025550143"


@pytest.mark.parametrize(
    ("word", "patterns"),
    [
        ("ann", ("ann%", "% ann%", "%-ann%")),
        ("50%_off", ("50\\%\\_off%", "% 50\\%\\_off%", "%-50\\%\\_off%")),
        ("a\\b", ("a\\\\b%", "% a\\\\b%", "%-a\\\\b%")),
    ],
)
def test_name_patterns_escape_what_like_would_read(word: str, patterns: tuple[str, ...]) -> None:
    assert like_prefix(word) == patterns
