"""Replies in every locale, read with the labels the catalogues actually show patients.

The Friends and Family Test labels come from each locale's catalogue, so a translation
that the parser cannot read back fails here. Yes, no, skip and don't-know words are
written as patients type them: without accents, in capitals, with stray punctuation.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import NamedTuple

import pytest

from app.core.locales import SUPPORTED_LOCALES
from app.core.parsing import OPT_OUT_WORDS, Intent, parse_keyword, parse_menu, parse_yes_no
from app.messaging import compose
from app.surveys import flow, texts
from app.surveys.definitions import Question, Text, parse_definition

SURVEY = parse_definition(
    {
        "slug": "locale-check",
        "title": "Locale check",
        "questions": [
            texts.FFT["questions"][0],
            {"id": "again", "type": "yes_no", "text": "Would you come to us again?"},
            {"id": "score", "type": "scale", "min": 1, "max": 5, "text": "How easy was it?"},
            {"id": "comment", "type": "free_text", "text": "Anything else?", "optional": True},
        ],
    }
)
FFT, YES_NO, SCALE, COMMENT = SURVEY.questions


class Typed(NamedTuple):
    """How a patient of one locale might type each kind of reply."""

    zero: int | None  # the digit zero of the locale's own script, if it has one
    yes: str
    no: str
    skip: str
    dont_know: str
    yes_in_a_sentence: str  # must stay free text
    opt_out_in_a_sentence: str  # must not opt out


# fmt: off
TYPED: dict[str, Typed] = {
    "en": Typed(None, "YES", "no.", "Skip", "not sure", "yes but later",
                "please stop texting my mum"),
    "cy": Typed(None, "Ie", "NA", "hepgor", "Dim syniad", "ie ond yn hwyrach",
                "stopio'r negeseuon i fy mam"),
    "pl": Typed(None, "tak", "NIE", "pomin", "nie wiem", "tak, ale później",
                "proszę nie wysyłaj do mamy"),
    "ro": Typed(None, "DA", "nu", "omiteti", "nu stiu", "da, dar mai târziu",
                "stop la mesaje pentru mama"),
    "ur": Typed(0x06F0, "جی ہاں", "نہیں", "چھوڑ دیں", "پتا نہیں", "ہاں لیکن بعد میں",
                "میری امی کو پیغامات بند کریں"),
    "pa": Typed(0x0A66, "ਹਾਂ ਜੀ", "ਨਹੀਂ", "ਛੱਡੋ", "ਨਹੀਂ ਪਤਾ", "ਹਾਂ ਪਰ ਬਾਅਦ ਵਿੱਚ",
                "ਮੇਰੀ ਮਾਂ ਨੂੰ ਸੁਨੇਹੇ ਬੰਦ ਕਰੋ"),
    "bn": Typed(0x09E6, "হ্যাঁ", "না", "বাদ দিন", "আমি জানি না", "হ্যাঁ কিন্তু পরে",
                "আমার মাকে বার্তা বন্ধ করুন"),
    "gu": Typed(0x0AE6, "હા", "ના", "છોડો", "મને ખબર નથી", "હા પણ પછી",
                "મારી માને સંદેશા બંધ કરો"),
    "ar": Typed(0x0660, "نعم", "لا", "تخطى", "لا اعلم", "نعم ولكن لاحقا",
                "توقف عن مراسلة أمي"),
    "so": Typed(None, "HAA", "maya", "Ka bood", "ma garanayo", "haa laakiin goor dambe",
                "jooji fariimaha hooyaday"),
    "pt": Typed(None, "Sim", "NAO", "saltar", "nao sei", "sim, mas mais tarde",
                "parar as mensagens da minha mãe"),
    "lt": Typed(None, "Taip", "ne", "PRALEISTI", "nezinau", "taip, bet vėliau",
                "atsisakyti žinučių mamai"),
    "es": Typed(None, "SI", "No", "saltar", "no se", "sí, pero más tarde",
                "baja para mi madre por favor"),
    "zh_Hans": Typed(0xFF10, "是的", "否", "跳过", "不知道", "是的但是晚一点",
                     "请停止给我妈妈发短信"),
}
# fmt: on


def native(number: int, zero: int | None) -> str:
    digits = str(number)
    return digits if zero is None else "".join(chr(zero + int(d)) for d in digits)


def loosely(label: str) -> str:
    """`label` as typed in a hurry: no Latin accents or Arabic short-vowel marks (hamza
    stays: it has its own key), upper case where the script has case, and stray
    punctuation around it."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", label.replace("ł", "l").replace("Ł", "L")):
        latin_mark = unicodedata.combining(char) and kept and kept[-1].isascii()
        arabic_mark = "\u064b" <= char <= "\u0652"
        if not (latin_mark or arabic_mark):
            kept.append(char)
    return f"  {unicodedata.normalize('NFC', ''.join(kept)).upper()}!! "


def labels_for(locale: str) -> list[str]:
    """The FFT labels to match: the patient's language, then English (as the app does)."""
    gettext = compose.translator((locale, "en"))[0].gettext

    def both(text: Text) -> list[str]:
        return [gettext(text.english), text.english]

    return flow.option_labels(FFT, both)


def translated_labels(locale: str) -> list[str]:
    gettext = compose.translator((locale,))[0].gettext
    return [gettext(option.label.english) for option in FFT.options]


def outcome(step: flow.Step) -> str:
    if step.answer is None:
        return "reask"
    return f"{step.answer.status.value}:{step.answer.value}"


Read = Callable[[str], str]


def readers(locale: str) -> dict[str, Read]:
    labels = labels_for(locale)

    def answer(question: Question, reasks: int = 0) -> Read:
        return lambda raw: outcome(flow.interpret(question, raw, locale, labels, reasks=reasks))

    return {
        "menu": lambda raw: parse_menu(raw, locale).intent.value,
        "keyword": lambda raw: str(parse_keyword(raw, locale)),
        "yes_no_word": lambda raw: parse_yes_no(raw, locale).intent.value,
        "fft": answer(FFT),
        "fft_reasked": answer(FFT, reasks=1),
        # Only the status: a don't-know word may also be the "Don't know" label itself.
        "fft_status": lambda raw: answer(FFT)(raw).split(":")[0],
        "yes_no": answer(YES_NO),
        "scale": answer(SCALE),
        "comment": answer(COMMENT),
    }


def locale_cases() -> list[object]:
    """About thirty cases for every locale."""
    cases: list[object] = []
    for locale in SUPPORTED_LOCALES:
        typed, labels = TYPED[locale], translated_labels(locale)

        def digit(number: int, zero: int | None = typed.zero) -> str:
            return native(number, zero)

        rows: list[tuple[str, str, str, str]] = [
            ("menu-1", "menu", digit(1), Intent.CONFIRM.value),
            ("menu-2", "menu", f" {digit(2)}. ", Intent.CANCEL.value),
            ("menu-3", "menu", digit(3), Intent.REBOOK.value),
            ("menu-yes", "menu", typed.yes, Intent.CONFIRM.value),
            ("fft-digit", "fft", digit(5), "answered:very_poor"),
            ("fft-digit-6", "fft", digit(6), "dont_know:dont_know"),
            ("fft-label-1", "fft", labels[0], "answered:very_good"),
            ("fft-label-2-loose", "fft", loosely(labels[1]), "answered:good"),
            ("fft-label-3-loose", "fft", loosely(labels[2]), "answered:neither"),
            ("fft-label-4", "fft", labels[3].lower(), "answered:poor"),
            ("fft-label-5-loose", "fft", loosely(labels[4]), "answered:very_poor"),
            ("fft-label-dont-know", "fft", labels[5], "dont_know:dont_know"),
            ("fft-english-label", "fft", "very poor", "answered:very_poor"),
            ("fft-skip-required", "fft", typed.skip, "reask"),
            ("fft-skip-again", "fft_reasked", typed.skip, "skipped:None"),
            ("fft-dont-know-word", "fft_status", typed.dont_know, "dont_know"),
            ("yes", "yes_no", typed.yes, "answered:yes"),
            ("no", "yes_no", typed.no, "answered:no"),
            ("dont-know-label-as-words", "yes_no_word", labels[5], Intent.DONT_KNOW.value),
            ("yes-no-dont-know", "yes_no", typed.dont_know, "dont_know:None"),
            ("scale-digit", "scale", digit(4), "answered:4"),
            ("comment-skip", "comment", typed.skip, "skipped:None"),
            ("comment-dont-know", "comment", typed.dont_know, "dont_know:None"),
            ("opt-out-stop", "keyword", "Stop", str(Intent.OPT_OUT)),
            # Replies that must not match.
            ("not-fft-out-of-range", "fft", digit(7), "reask"),
            ("not-fft-label-with-more", "fft", f"{labels[0]} {labels[3]}", "reask"),
            ("not-yes-in-a-sentence", "yes_no", typed.yes_in_a_sentence, "reask"),
            ("not-scale-out-of-range", "scale", digit(9), "reask"),
            ("not-menu-4", "menu", digit(4), Intent.TEXT.value),
            ("not-opt-out-in-a-sentence", "keyword", typed.opt_out_in_a_sentence, "None"),
        ]
        rows += [
            (f"opt-out-{word}", "keyword", word.upper(), str(Intent.OPT_OUT))
            for word in sorted(OPT_OUT_WORDS[locale])
        ]
        cases += [
            pytest.param(locale, reader, raw, expected, id=f"{locale}-{name}")
            for name, reader, raw, expected in rows
        ]
    return cases


@pytest.mark.parametrize(("locale", "reader", "raw", "expected"), locale_cases())
def test_replies_in_every_locale(locale: str, reader: str, raw: str, expected: str) -> None:
    assert readers(locale)[reader](raw) == expected


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_labels_of_other_locales_are_never_read_as_an_option(locale: str) -> None:
    # Only this locale's labels and English ones are matched; another language's label
    # is re-asked (or, when it is also a don't-know word here, taken as "don't know").
    own = {*translated_labels(locale), *translated_labels("en")}
    others = {
        label
        for code in SUPPORTED_LOCALES
        for label in translated_labels(code)
        if code not in (locale, "en") and label not in own
    }
    read = readers(locale)["fft"]
    assert {label: read(label) for label in others if read(label).startswith("answered")} == {}


@pytest.mark.parametrize(
    ("typed", "written"),
    [("سييه", "سيئة"), ("جيده", "جيدة"), ("سيىة", "سيئة"), ("موءسسة", "مؤسسة")],
)
def test_arabic_spelling_variants_share_a_key(typed: str, written: str) -> None:
    from app.core.parsing import _match_key, normalise_text

    if "ء" in typed:  # a free-standing hamza is a different letter: not folded
        assert _match_key(normalise_text(typed)) != _match_key(normalise_text(written))
    else:
        assert _match_key(normalise_text(typed)) == _match_key(normalise_text(written))
