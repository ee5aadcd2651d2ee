from collections.abc import Callable
from typing import NamedTuple

import pytest

from app.core import vocabulary
from app.core.locales import SUPPORTED_LOCALES
from app.core.parsing import (
    OPT_OUT_WORDS,
    TWILIO_OPT_OUT_WORDS,
    Intent,
    Parsed,
    all_opt_out_words,
    collides_with_opt_out,
    is_help,
    is_opt_in,
    is_opt_out,
    normalise_text,
    parse_choice,
    parse_keyword,
    parse_menu,
    parse_number,
    parse_yes_no,
    to_ascii_digits,
)

DIGIT_ZEROS = {
    "arabic_indic": 0x0660,
    "extended_arabic_indic": 0x06F0,
    "devanagari": 0x0966,
    "bengali": 0x09E6,
    "gurmukhi": 0x0A66,
    "gujarati": 0x0AE6,
    "full_width": 0xFF10,
}


def native(number: int, zero: int | None) -> str:
    """Write `number` in the digits of the script whose zero is `zero` (None: ASCII)."""
    digits = str(number)
    return digits if zero is None else "".join(chr(zero + int(d)) for d in digits)


class Locale(NamedTuple):
    zero: int | None  # the digits patients of this locale may type
    yes: str
    no: str
    confirm: str
    opt_out: str
    skip: str
    dont_know: str
    labels: tuple[str, ...]
    label_answer: str  # how a patient might type one of the labels
    label_index: int
    free_text: str


# fmt: off
LOCALES: dict[str, Locale] = {
    "en": Locale(None, "Yes", "no", "OK", "STOP", "Skip", "Don't know",
                 ("Very good", "Good", "Poor"), "very good!", 1, "can I come at 3pm instead"),
    "cy": Locale(None, "Ie", "Na", "Iawn", "Stopio", "Hepgor", "Dim syniad",
                 ("Da iawn", "Da", "Gwael"), "DA IAWN", 1, "Alla i ddod yn hwyrach?"),
    "pl": Locale(None, "Tak", "Nie", "Potwierdzam", "Rezygnuję", "Pomiń", "Nie wiem",
                 ("Bardzo dobrze", "Dobrze", "Źle"), "bardzo dobrze", 1,
                 "Czy mogę przyjść później?"),
    "ro": Locale(None, "Da", "Nu", "Confirm", "Dezabonare", "Sari", "Nu știu",
                 ("Foarte bine", "Bine", "Rău"), "rau", 3, "Pot veni mai târziu?"),
    "ur": Locale(0x06F0, "ہاں", "نہیں", "ٹھیک ہے", "بند کریں", "چھوڑیں", "پتہ نہیں",
                 ("بہت اچھا", "اچھا", "برا"), "اچھا", 2, "کیا میں بعد میں آ سکتا ہوں"),
    "pa": Locale(0x0A66, "ਹਾਂ", "ਨਹੀਂ", "ਠੀਕ ਹੈ", "ਬੰਦ ਕਰੋ", "ਛੱਡੋ", "ਪਤਾ ਨਹੀਂ",
                 ("ਬਹੁਤ ਵਧੀਆ", "ਵਧੀਆ", "ਮਾੜਾ"), "ਵਧੀਆ", 2, "ਕੀ ਮੈਂ ਬਾਅਦ ਵਿੱਚ ਆ ਸਕਦਾ ਹਾਂ"),
    "bn": Locale(0x09E6, "হ্যাঁ", "না", "ঠিক আছে", "বন্ধ", "বাদ দিন", "জানি না",
                 ("খুব ভালো", "ভালো", "খারাপ"), "খুব ভালো", 1, "আমি কি পরে আসতে পারি"),
    "gu": Locale(0x0AE6, "હા", "ના", "બરાબર", "બંધ", "છોડો", "ખબર નથી",
                 ("ખૂબ સારું", "સારું", "ખરાબ"), "ખરાબ", 3, "શું હું પછી આવી શકું"),
    "ar": Locale(0x0660, "نعم", "لا", "تأكيد", "توقف", "تخطى", "لا اعرف",
                 ("جيد جدا", "جيد", "سيئ"), "جيد جداً", 1, "هل يمكنني الحضور لاحقا"),
    "so": Locale(None, "Haa", "Maya", "Xaqiiji", "Jooji", "Gudub", "Ma aqaan",
                 ("Aad u fiican", "Fiican", "Xun"), "fiican", 2, "Ma iman karaa goor dambe?"),
    "pt": Locale(None, "Sim", "Nao", "Confirmo", "Sair", "Pular", "Não sei",
                 ("Muito bom", "Bom", "Mau"), "Muito bom.", 1, "Posso ir mais tarde?"),
    "lt": Locale(None, "Taip", "Ne", "Patvirtinu", "Atsisakyti", "Praleisti", "Nežinau",
                 ("Labai gerai", "Gerai", "Blogai"), "blogai", 3, "Ar galiu ateiti vėliau?"),
    "es": Locale(None, "Sí", "No", "Vale", "Baja", "Saltar", "No sé",
                 ("Muy buena", "Buena", "Mala"), "¡Muy buena!", 1, "¿Puedo ir más tarde?"),
    "zh_Hans": Locale(0xFF10, "是的", "不", "确认", "退订", "跳过", "不知道",
                      ("非常好", "好", "差"), "差", 3, "我可以晚点来吗"),
}
# fmt: on

Parser = Callable[[str, str], Parsed]
MENU: Parser = parse_menu
YES_NO: Parser = parse_yes_no


def locale_cases() -> list[object]:
    """At least ten cases for every locale, built from the table above."""
    cases: list[object] = []
    for code, lc in LOCALES.items():

        def choice(raw: str, locale: str, labels: tuple[str, ...] = lc.labels) -> Parsed:
            return parse_choice(raw, locale, labels)

        rows: list[tuple[str, Parser, str, Intent, int | None]] = [
            ("menu-1", MENU, native(1, lc.zero), Intent.CONFIRM, 1),
            ("menu-2", MENU, f" {native(2, lc.zero)}. ", Intent.CANCEL, 2),
            ("menu-3", MENU, native(3, lc.zero), Intent.REBOOK, 3),
            ("menu-4-out-of-range", MENU, native(4, lc.zero), Intent.TEXT, 4),
            ("menu-yes", MENU, lc.yes, Intent.CONFIRM, None),
            ("menu-confirm", MENU, lc.confirm, Intent.CONFIRM, None),
            ("menu-english-yes", MENU, "YES!", Intent.CONFIRM, None),
            ("menu-opt-out", MENU, lc.opt_out, Intent.OPT_OUT, None),
            ("menu-free-text", MENU, lc.free_text, Intent.TEXT, None),
            ("yes", YES_NO, lc.yes, Intent.YES, None),
            ("no", YES_NO, lc.no, Intent.NO, None),
            ("english-no", YES_NO, "No.", Intent.NO, None),
            ("skip", YES_NO, lc.skip, Intent.SKIP, None),
            ("dont-know", YES_NO, lc.dont_know, Intent.DONT_KNOW, None),
            ("yes-no-opt-out", YES_NO, f"{lc.opt_out}!", Intent.OPT_OUT, None),
            ("yes-no-free-text", YES_NO, lc.free_text, Intent.TEXT, None),
            ("choice-label", choice, lc.label_answer, Intent.NUMBER, lc.label_index),
            ("choice-digit", choice, native(2, lc.zero), Intent.NUMBER, 2),
            ("choice-skip", choice, lc.skip, Intent.SKIP, None),
            ("choice-dont-know", choice, lc.dont_know, Intent.DONT_KNOW, None),
            ("number", parse_number, native(15, lc.zero), Intent.NUMBER, 15),
        ]
        cases += [pytest.param(*row[1:], code, id=f"{code}-{row[0]}") for row in rows]
    return cases


@pytest.mark.parametrize(("parse", "raw", "intent", "number", "locale"), locale_cases())
def test_locale_table(
    parse: Parser, raw: str, intent: Intent, number: int | None, locale: str
) -> None:
    parsed = parse(raw, locale)
    assert (parsed.intent, parsed.number) == (intent, number)
    assert parsed.text == normalise_text(raw)


@pytest.mark.parametrize(
    ("zero", "digit"),
    [pytest.param(z, d, id=f"{name}-{d}") for name, z in DIGIT_ZEROS.items() for d in range(10)],
)
def test_each_native_digit_becomes_ascii(zero: int, digit: int) -> None:
    assert to_ascii_digits(chr(zero + digit)) == str(digit)


@pytest.mark.parametrize("zero", DIGIT_ZEROS.values(), ids=DIGIT_ZEROS.keys())
def test_native_digit_runs_become_ascii(zero: int) -> None:
    assert to_ascii_digits("".join(chr(zero + d) for d in range(10))) == "0123456789"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("room ١٢ at ۳", "room 12 at 3"),
        ("๓", "๓"),  # Thai is not a supported script, so it is left alone
        ("abc", "abc"),
        ("", ""),
    ],
)
def test_to_ascii_digits_leaves_everything_else(raw: str, expected: str) -> None:
    assert to_ascii_digits(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Hello   World  ", "hello world"),
        ("\tyes\n", "yes"),
        ("STOP.", "stop"),
        ("¡Sí!", "sí"),
        ("¿No sé?", "no sé"),
        ("1️⃣", "1"),
        ("👍🏽 yes 👍", "yes"),
        ("don’t know", "don't know"),
        ("a, b", "a, b"),
        ("\u200fنعم\u200f", "نعم"),
        ("ਹਾਂ", "ਹਾਂ"),  # the final bindi is part of the word, not punctuation
        ("Ｙｅｓ", "yes"),
        ("２", "2"),
        ("是的。", "是的"),
        ("ہاں۔", "ہاں"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "locale", "expected"),
    [
        ("STOP", "en", True),
        ("stop", "en", True),
        (" Stop. ", "en", True),
        ("STOP!!!", "pl", True),
        ("CANCEL", "en", True),
        ("Unsubscribe", "cy", True),
        ("opt-out", "en", True),
        ("OPT OUT", "en", True),
        ("stopall", "ar", True),
        ("REZYGNUJE", "en", True),  # Polish, typed without the ogonek, from an "en" patient
        ("jooji", "zh_Hans", True),  # every locale's words count whatever the locale
        ("الغاء الاشتراك", "ur", True),  # hamza left off
        ("退订", "en", True),
        ("please stop texting me", "en", False),
        ("Stop please", "en", False),
        ("STOP STOP", "en", False),
        ("stopped", "en", False),
        ("cancelar", "pt", False),  # usually means the appointment, left for staff
        ("", "en", False),
    ],
)
def test_is_opt_out(raw: str, locale: str, expected: bool) -> None:
    assert is_opt_out(raw, locale) is expected


@pytest.mark.parametrize(
    ("raw", "locale", "expected"),
    [
        ("START", "en", Intent.OPT_IN),
        ("unstop", "pl", Intent.OPT_IN),
        ("Wznów", "pl", Intent.OPT_IN),
        ("HELP", "en", Intent.HELP),
        ("info", "so", Intent.HELP),
        ("Pomoc", "pl", Intent.HELP),
        ("ayuda", "es", Intent.HELP),
        ("pomoc", "es", None),  # help words count in the patient's locale and English only
        ("YES", "en", None),  # Twilio resubscribes on YES, but here it is an answer
        ("END", "en", Intent.OPT_OUT),
        ("help me please", "en", None),
        ("", "en", None),
    ],
)
def test_parse_keyword(raw: str, locale: str, expected: Intent | None) -> None:
    assert parse_keyword(raw, locale) is expected
    assert is_opt_in(raw, locale) is (expected is Intent.OPT_IN)
    assert is_help(raw, locale) is (expected is Intent.HELP)


@pytest.mark.parametrize(
    ("raw", "options", "expected"),
    [
        ("1", 3, Parsed(Intent.CONFIRM, 1, "1")),
        ("2", 3, Parsed(Intent.CANCEL, 2, "2")),
        ("3", 3, Parsed(Intent.REBOOK, 3, "3")),
        ("1.", 3, Parsed(Intent.CONFIRM, 1, "1")),
        ("1!", 3, Parsed(Intent.CONFIRM, 1, "1")),
        (" 1 ", 3, Parsed(Intent.CONFIRM, 1, "1")),
        ("(2)", 3, Parsed(Intent.CANCEL, 2, "2")),
        ("02", 3, Parsed(Intent.CANCEL, 2, "02")),
        ("0", 3, Parsed(Intent.TEXT, 0, "0")),
        ("4", 3, Parsed(Intent.TEXT, 4, "4")),
        ("3", 2, Parsed(Intent.TEXT, 3, "3")),
        ("4", 4, Parsed(Intent.NUMBER, 4, "4")),
        ("CANCEL", 3, Parsed(Intent.OPT_OUT, None, "cancel")),
        ("no", 3, Parsed(Intent.TEXT, None, "no")),
        ("1 2", 3, Parsed(Intent.TEXT, None, "1 2")),
        ("07911123456", 3, Parsed(Intent.TEXT, None, "07911123456")),
        ("+447911123456", 3, Parsed(Intent.TEXT, None, "447911123456")),
        ("Yes please", 3, Parsed(Intent.CONFIRM, None, "yes please")),
        ("", 3, Parsed(Intent.TEXT, None, "")),
    ],
)
def test_parse_menu(raw: str, options: int, expected: Parsed) -> None:
    assert parse_menu(raw, "en", options) == expected


def test_parse_menu_refuses_an_empty_menu() -> None:
    with pytest.raises(ValueError, match="at least one option"):
        parse_menu("1", "en", options=0)


FFT_EN = ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")


@pytest.mark.parametrize(
    ("raw", "labels", "allow_dont_know", "expected"),
    [
        ("6", FFT_EN, True, (Intent.NUMBER, 6)),
        ("7", FFT_EN, True, (Intent.TEXT, 7)),
        ("0", FFT_EN, True, (Intent.TEXT, 0)),
        ("NEITHER GOOD NOR POOR", FFT_EN, True, (Intent.NUMBER, 3)),
        ("dont know", FFT_EN, True, (Intent.NUMBER, 6)),  # the label wins over the word
        ("dk", FFT_EN, True, (Intent.DONT_KNOW, None)),
        ("dk", FFT_EN, False, (Intent.TEXT, None)),
        ("not sure", FFT_EN[:5], False, (Intent.TEXT, None)),
        ("pass", FFT_EN, False, (Intent.SKIP, None)),
        ("1 very good", FFT_EN, True, (Intent.TEXT, None)),
        ("stop", FFT_EN, True, (Intent.OPT_OUT, None)),
        ("", FFT_EN, True, (Intent.TEXT, None)),
        ("", ("", "Good"), True, (Intent.TEXT, None)),
        ("1", (), True, (Intent.TEXT, 1)),
    ],
)
def test_parse_choice(
    raw: str, labels: tuple[str, ...], allow_dont_know: bool, expected: tuple[Intent, int | None]
) -> None:
    parsed = parse_choice(raw, "en", labels, allow_dont_know=allow_dont_know)
    assert (parsed.intent, parsed.number) == expected


@pytest.mark.parametrize(
    ("raw", "locale", "labels", "expected"),
    [
        ("zle", "pl", ("Bardzo dobrze", "Dobrze", "Źle"), 3),
        ("ani dobrze ani źle", "pl", ("Dobrze", "Ani dobrze, ani źle"), 2),
        ("Rău", "ro", ("Bine", "Rau"), 2),
        ("جيد", "ar", ("جيّد جدا", "جيّد"), 2),  # shadda is optional
    ],
)
def test_parse_choice_matches_labels_loosely(
    raw: str, locale: str, labels: tuple[str, ...], expected: int
) -> None:
    assert parse_choice(raw, locale, labels) == Parsed(Intent.NUMBER, expected, normalise_text(raw))


@pytest.mark.parametrize(
    ("raw", "locale", "expected"),
    [
        ("yes please", "en", Intent.YES),
        ("Y", "en", Intent.YES),
        ("nope", "en", Intent.NO),
        ("1", "en", Intent.TEXT),
        ("Tak", "es", Intent.TEXT),  # another locale's yes is not trusted
        ("yes", "pl", Intent.YES),  # English always is
        ("NAO", "pt", Intent.NO),
        ("si", "es", Intent.YES),
        ("هاں", "ur", Intent.YES),  # Arabic heh for Urdu heh
        ("haan", "pa", Intent.YES),
        ("nahi", "ur", Intent.NO),
        ("yes and no", "en", Intent.TEXT),
        ("DUNNO", "en", Intent.DONT_KNOW),
        ("don’t know", "en", Intent.DONT_KNOW),
        ("no idea", "en", Intent.DONT_KNOW),
        ("QUIT", "cy", Intent.OPT_OUT),
        ("help", "lt", Intent.HELP),
        ("yes", "xx", Intent.YES),  # an unknown locale still reads English
        ("Tak", "pl-PL", Intent.YES),
    ],
)
def test_parse_yes_no(raw: str, locale: str, expected: Intent) -> None:
    assert parse_yes_no(raw, locale).intent is expected


@pytest.mark.parametrize(
    ("raw", "lo", "hi", "expected"),
    [
        ("7", 0, 10, (Intent.NUMBER, 7)),
        ("0", 0, 10, (Intent.NUMBER, 0)),
        ("10", 0, 10, (Intent.NUMBER, 10)),
        ("15", 0, 10, (Intent.TEXT, 15)),
        ("3", 5, None, (Intent.TEXT, 3)),
        ("300", None, None, (Intent.NUMBER, 300)),
        ("١٠", 0, 10, (Intent.NUMBER, 10)),
        ("-5", None, None, (Intent.TEXT, None)),
        ("−5", None, None, (Intent.TEXT, None)),
        ("7.5", None, None, (Intent.TEXT, None)),
        ("seven", None, None, (Intent.TEXT, None)),
        ("1234567890", None, None, (Intent.TEXT, None)),
        ("skip", None, None, (Intent.SKIP, None)),
        ("not sure", None, None, (Intent.DONT_KNOW, None)),
        ("stop", None, None, (Intent.OPT_OUT, None)),
    ],
)
def test_parse_number(
    raw: str, lo: int | None, hi: int | None, expected: tuple[Intent, int | None]
) -> None:
    parsed = parse_number(raw, "en", lo, hi)
    assert (parsed.intent, parsed.number) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CANCEL", True),
        ("Cancel", True),
        ("STOP", True),
        ("baja", True),
        ("退订", True),
        ("confirm", False),
        ("rebook", False),
        ("1", False),
        ("YES", False),
    ],
)
def test_collides_with_opt_out(word: str, expected: bool) -> None:
    assert collides_with_opt_out(word) is expected


def test_opt_out_lists() -> None:
    assert {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"} == (
        TWILIO_OPT_OUT_WORDS
    )
    assert set(OPT_OUT_WORDS) == set(SUPPORTED_LOCALES)
    assert TWILIO_OPT_OUT_WORDS | {"jooji", "退订", "baja"} <= all_opt_out_words()


ANSWER_TABLES = {
    "yes": (vocabulary.YES_WORDS, parse_yes_no, Intent.YES),
    "no": (vocabulary.NO_WORDS, parse_yes_no, Intent.NO),
    "skip": (vocabulary.SKIP_WORDS, parse_yes_no, Intent.SKIP),
    "dont_know": (vocabulary.DONT_KNOW_WORDS, parse_yes_no, Intent.DONT_KNOW),
    "confirm": (vocabulary.CONFIRM_WORDS, parse_menu, Intent.CONFIRM),
    "opt_in": (vocabulary.OPT_IN_WORDS, parse_yes_no, Intent.OPT_IN),
    "help": (vocabulary.HELP_WORDS, parse_yes_no, Intent.HELP),
}


def vocabulary_cases() -> list[object]:
    """Every word of every table, read back in its own locale."""
    return [
        pytest.param(parse, word, code, intent, id=f"{kind}-{code}-{word}")
        for kind, (table, parse, intent) in ANSWER_TABLES.items()
        for code in SUPPORTED_LOCALES
        for word in sorted(table[code])
    ]


@pytest.mark.parametrize(("parse", "word", "locale", "intent"), vocabulary_cases())
def test_every_vocabulary_word_reads_as_its_own_intent(
    parse: Parser, word: str, locale: str, intent: Intent
) -> None:
    assert parse(word, locale).intent is intent
    assert parse(word.upper(), locale).intent is intent
    assert not collides_with_opt_out(word)


@pytest.mark.parametrize("word", sorted(all_opt_out_words()))
def test_every_opt_out_word_opts_out_in_every_locale(word: str) -> None:
    assert all(parse_keyword(word, code) is Intent.OPT_OUT for code in SUPPORTED_LOCALES)
