"""Every locale catalogue: complete, draft-marked, correct plural rules, usable reply words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from app.core.locales import SUPPORTED_LOCALES
from app.core.parsing import Intent, normalise_text, parse_choice, parse_keyword, parse_yes_no
from app.messaging import compose
from app.messaging.lint import reply_words
from app.messaging.registry import template_texts
from app.surveys import texts

LOCALES = [code for code in SUPPORTED_LOCALES if code != "en"]  # English is the msgid itself
POT = compose.TRANSLATIONS_DIR / "messages.pot"

# nplurals of each catalogue's Plural-Forms header, and the CLDR locale whose plural
# categories for whole numbers give its forms, in CLDR order (zero, one, two, few, many,
# other), less those in FOLDED. Portuguese is written for Portugal: pt_PT, where 1 is
# singular and 0 is not (CLDR's plain "pt" is Brazilian, where 0 is singular too).
PLURALS: dict[str, tuple[int, str]] = {
    "cy": (6, "cy"),  # zero, one, two, few (3), many (6), other
    "pl": (3, "pl"),  # one, few (2-4, 22-24...), many
    "ro": (3, "ro"),  # one, few (0, 2-19, 101-119...), other
    "ur": (2, "ur"),
    "pa": (2, "pa"),  # 0 and 1 are singular
    "bn": (2, "bn"),  # 0 and 1 are singular
    "gu": (2, "gu"),  # 0 and 1 are singular
    "ar": (6, "ar"),  # zero, one, two, few (3-10), many (11-99), other (100-102...)
    "so": (2, "so"),
    "pt": (2, "pt_PT"),
    "lt": (3, "lt"),  # one (1, 21...), few (2-9, 22-29...), other (0, 10-20...)
    "es": (2, "es"),
    "zh_Hans": (1, "zh_Hans"),
}
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
# Every count to 999, and the millions where CLDR's "many" of Spanish and Portuguese
# begins (and where Polish, Romanian and Lithuanian still have their own forms).
COUNTS = [*range(1000), 10**6, 10**6 + 1, 2 * 10**6, 10**6 + 22, 10**9]
# The decision for Spanish and Portuguese: gettext's two forms, not CLDR's three. Their
# "many" is only for whole millions ("1 millón de citas"), which no message counts (the
# one plural text counts a patient's pending appointments), so those counts take the
# "other" form. A catalogue listed here must say so in its header comment, naming its
# Plural-Forms rule exactly (FOLDED_NOTE), so that the header cannot change alone.
FOLDED: dict[str, dict[str, str]] = {
    "es": {"many": "other"},
    "pt": {"many": "other"},
}
FOLDED_NOTE = (
    'Plural forms: gettext\'s two, "{rule}"',
    'CLDR\'s "many" (whole millions',
    "is left out on purpose: no message here counts anywhere near a million",
)

_PLACEHOLDER = re.compile(r"%\(\w+\)[#0+ \-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def _catalogue(locale: str) -> Catalog:
    return _read(compose.TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po")


def _sources() -> list[Message]:
    return [message for message in _read(POT) if message.id]


def _forms(message: Message) -> tuple[str, ...]:
    string = message.string
    if isinstance(string, (tuple, list)):
        return tuple(str(form or "") for form in string)
    return (string or "",)


def _placeholder_problems(source: str, text: str) -> list[str]:
    expected, found = set(_PLACEHOLDER.findall(source)), set(_PLACEHOLDER.findall(text))
    problems = [f"missing {p}" for p in sorted(expected - found)]
    problems += [f"unknown {p}" for p in sorted(found - expected)]
    if "%" in _PLACEHOLDER.sub("", text).replace("%%", ""):
        problems.append("stray %")
    return problems


def _problems(locale: str) -> list[str]:
    catalogue = _catalogue(locale)
    problems = [f"obsolete: {key!r}" for key in catalogue.obsolete]
    for source in _sources():
        found = catalogue.get(source.id)
        label = f"{locale} {str(source.id if isinstance(source.id, str) else source.id[0])[:40]!r}"
        if found is None:
            problems.append(f"{label}: missing")
            continue
        if found.fuzzy:
            problems.append(f"{label}: fuzzy")
        forms = _forms(found)
        wanted = catalogue.num_plurals if source.pluralizable else 1
        if len(forms) != wanted:
            problems.append(f"{label}: {len(forms)} forms, expected {wanted}")
        ids = source.id if isinstance(source.id, (tuple, list)) else (source.id,)
        for index, text in enumerate(forms):
            if not text.strip():
                problems.append(f"{label}[{index}]: empty")
            problems += [
                f"{label}[{index}]: {p}" for p in _placeholder_problems(" ".join(ids), text)
            ]
    return problems


def test_every_supported_locale_has_a_catalogue() -> None:
    assert compose.catalogue_locales() == ["en", *sorted(LOCALES)]
    assert set(PLURALS) == set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale: str) -> None:
    assert _problems(locale) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_marked_as_a_draft_for_review(locale: str) -> None:
    header = _catalogue(locale).header_comment
    for phrase in ("DRAFT", "WeSaid team", "qualified", "translator", "review", "patients"):
        assert phrase in header, f"{locale}: header lacks {phrase!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms_follow_cldr(locale: str) -> None:
    """Each count takes the form of its CLDR category, or of the category FOLDED names."""
    nplurals, cldr = PLURALS[locale]
    assert _catalogue(locale).num_plurals == nplurals
    rule = Locale.parse(cldr).plural_form
    folded = FOLDED.get(locale, {})
    used = [c for c in CLDR_ORDER if any(rule(n) == c for n in COUNTS)]
    assert set(folded) <= set(used), f"{locale}: folds a category CLDR does not use"
    kept = [c for c in used if c not in folded]
    assert len(kept) == nplurals
    translations = compose.catalogue(locale)
    assert translations is not None
    wanted = {n: kept.index(folded.get(rule(n), rule(n))) for n in COUNTS}
    wrong = {n: translations.plural(n) for n in COUNTS if translations.plural(n) != wanted[n]}
    assert wrong == {}, f"{locale}: counts with the wrong form"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_catalogue_that_departs_from_cldr_says_so_in_its_header(locale: str) -> None:
    catalogue = _catalogue(locale)
    comment = " ".join(catalogue.header_comment.replace("#", " ").split())
    notes = [part.format(rule=catalogue.plural_forms) for part in FOLDED_NOTE]
    if locale in FOLDED:
        missing = [note for note in notes if note not in comment]
        assert missing == [], f"{locale}: the header comment must say which plural rule and why"
    else:
        assert "Plural forms:" not in comment


def test_spanish_and_portuguese_keep_two_forms_and_portuguese_is_european() -> None:
    for locale in ("es", "pt"):
        assert _catalogue(locale).plural_forms == "nplurals=2; plural=(n != 1);"
        translations = compose.catalogue(locale)
        assert translations is not None
        assert [translations.plural(n) for n in (0, 1, 2, 10**6)] == [1, 0, 1, 1]
    assert Locale.parse("pt_PT").plural_form(0) == "other"
    assert Locale.parse("pt").plural_form(0) == "one"  # Brazil: not what the catalogue follows
    assert "European Portuguese (pt_PT)" in _catalogue("pt").header_comment


@pytest.mark.parametrize("locale", LOCALES)
def test_english_keywords_stay_english(locale: str) -> None:
    catalogue = _catalogue(locale)
    for source in _sources():
        ids = source.id if isinstance(source.id, (tuple, list)) else (source.id,)
        found = catalogue.get(source.id)
        assert found is not None
        for keyword in ("STOP", "START"):
            if any(keyword in text for text in ids):
                assert all(keyword in text for text in _forms(found)), (locale, keyword)


def _fft_labels(locale: str) -> list[str]:
    gettext = compose.translator((locale,))[0].gettext
    return [gettext(option["label"]) for option in texts.FFT["questions"][0]["options"]]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_fft_labels_are_distinct_after_normalisation(locale: str) -> None:
    labels = _fft_labels(locale)
    assert len({normalise_text(label) for label in labels}) == len(labels)
    for number, label in enumerate(labels, start=1):
        assert parse_keyword(label, locale) is None, f"{label!r} is a keyword"
        assert parse_choice(label, locale, labels).number == number, label


def _asked_intents(source: str, locale: str) -> set[Intent]:
    """What the parser makes of each word that the translated `source` asks for."""
    text = compose.translator((locale,))[0].gettext(source)
    return {parse_yes_no(word, locale).intent for word in reply_words(text, locale)}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_yes_no_prompt_asks_for_words_the_parser_accepts(locale: str) -> None:
    assert {Intent.YES, Intent.NO} <= _asked_intents(texts.YES_NO, locale)


@pytest.mark.parametrize(
    "source", [texts.SKIP, texts.FREE_TEXT, texts.HINT_REQUIRED], ids=["skip", "free", "required"]
)
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_skip_prompts_ask_for_a_skip_word(locale: str, source: str) -> None:
    assert Intent.SKIP in _asked_intents(source, locale)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_text_asks_for_an_opt_out_word_but_stop(locale: str) -> None:
    translations = compose.translator((locale,))[0]
    sources = list(template_texts().values())
    asked = {word for s in sources for word in reply_words(translations.gettext(s), locale)}
    opting_out = {word for word in asked if parse_keyword(word, locale) is Intent.OPT_OUT}
    assert opting_out <= {"STOP"}
