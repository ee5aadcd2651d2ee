"""The keyword baseline: themes and a sentiment from word lists, per locale (pure).

Before an organisation has confirmed enough codes to train a model of its own, each
comment gets the themes whose words it contains. `keywords.json` holds, per locale, a
list of words or word stems for the framework's subcategories, and lists of positive and
negative words. They are drafts written by the team, to be reviewed like the catalogues.
English lists apply beside the locale's own (patients mix languages).

Scores are transparent: a theme with k matching entries scores 1 - 0.5^k (one match
0.5, two 0.75, three 0.875), and the coding queue pre-ticks every theme that matched.
The sentiment is 1 (very positive) to 5 (very negative) from the balance of positive and
negative words (two more positive than negative: 1; one more: 2; as many: 3; one more
negative: 4; two more: 5), and None when the comment has none of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.themes.framework import framework

#: A keyword theme is pre-ticked from this score (one matching entry).
KEYWORD_THRESHOLD = 0.5
#: Scripts written without spaces between words: entries match anywhere.
_UNSPACED = frozenset({"zh_Hans"})


@dataclass(frozen=True)
class ThemeScore:
    """A theme (its key in the framework) and a score in [0, 1]."""

    key: str
    score: float


@dataclass(frozen=True)
class _Lists:
    themes: tuple[tuple[str, re.Pattern[str]], ...]
    positive: re.Pattern[str] | None
    negative: re.Pattern[str] | None


@cache
def _data() -> dict[str, Any]:
    text = resources.files("app.themes").joinpath("keywords.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def keyword_locales() -> tuple[str, ...]:
    """The locales that have keyword lists."""
    return tuple(_data()["locales"])


def keyword_status() -> str:
    """How far the lists have been reviewed ("draft" until a translator has)."""
    return str(_data()["status"])


def _pattern(entries: list[str], unspaced: bool) -> re.Pattern[str] | None:
    if not entries:
        return None
    ordered = sorted({e.casefold() for e in entries}, key=len, reverse=True)
    body = "|".join(re.escape(e) for e in ordered)
    return re.compile(body if unspaced else rf"(?<!\w)(?:{body})")


@cache
def _lists(locale: str) -> _Lists:
    locales = _data()["locales"]
    codes = [code for code in dict.fromkeys((locale, "en")) if code in locales]
    unspaced = locale in _UNSPACED
    by_theme: dict[str, list[str]] = {}
    positive: list[str] = []
    negative: list[str] = []
    for code in codes:
        for key, entries in locales[code]["themes"].items():
            by_theme.setdefault(key, []).extend(entries)
        positive += locales[code].get("positive", [])
        negative += locales[code].get("negative", [])
    themes = tuple(
        (key, pattern)
        for key, entries in by_theme.items()
        if (pattern := _pattern(entries, unspaced)) is not None
    )
    return _Lists(themes, _pattern(positive, unspaced), _pattern(negative, unspaced))


def keyword_themes(text: str, locale: str = "en") -> list[ThemeScore]:
    """The themes whose words `text` contains, best first (ties in the framework's order)."""
    folded = text.casefold()
    scores = []
    for key, pattern in _lists(locale).themes:
        hits = len(set(pattern.findall(folded)))
        if hits:
            scores.append(ThemeScore(key, round(1 - 0.5**hits, 4)))
    return sorted(scores, key=lambda s: -s.score)


def keyword_sentiment(text: str, locale: str = "en") -> int | None:
    """1 (very positive) to 5 (very negative) from the sentiment words, or None."""
    folded = text.casefold()
    lists = _lists(locale)
    positive = len(lists.positive.findall(folded)) if lists.positive else 0
    negative = len(lists.negative.findall(folded)) if lists.negative else 0
    if positive == negative == 0:
        return None
    balance = max(-2, min(2, positive - negative))
    return 3 - balance


def keyword_matrix(
    texts: Sequence[str], locales: Sequence[str] | None, labels: Sequence[str]
) -> NDArray[np.float32]:
    """The keyword baseline's scores for each text and label (0 for labels that are not
    the framework's, which have no keywords)."""
    shipped = framework()
    column = {}
    for j, label in enumerate(labels):
        theme = shipped.by_name(label)
        if theme is not None:
            column[theme.key] = j
    scores = np.zeros((len(texts), len(labels)), dtype=np.float32)
    for i, text in enumerate(texts):
        locale = locales[i] if locales is not None else "en"
        for found in keyword_themes(text, locale):
            if found.key in column:
                scores[i, column[found.key]] = found.score
    return scores
