"""Template checks: what a template editor shows before a text goes to patients.

`lint` looks at one template text and reports problems:

- A reply instruction that asks for an opt-out word: a word after a reply verb (before
  it in languages that put the verb last), in capitals, or in quotes. Twilio treats STOP,
  STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE and OPTOUT as opt-outs when one of
  them is the whole reply: it blocks the clinic's number for that patient, and nothing
  we send after that is delivered. "Reply CANCEL to cancel your appointment" therefore
  unsubscribes the patient instead of cancelling the appointment. Our own parser also
  honours every locale's opt-out words. The only opt-out word a template may ask for is
  the one that really is the opt-out instruction: STOP, or one of the template locale's
  own opt-out words ("Reply STOP to opt out").
- %-placeholders that are missing, unknown, or a stray `%` that breaks formatting.
- A body longer than Twilio accepts (1,600 characters).
- Typographic characters (curly quotes, dashes, invisible spaces) that force UCS-2
  where a GSM-7 rewrite reads the same; the rewrite is offered in the message.

`check_catalogue` renders every registered text (`app.messaging.registry`: reminders,
replies, survey and telephone texts) in each locale with sample values and reports
encoding, segments and problems per text and locale.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

from app.core.locales import DEFAULT_LOCALE, canonical
from app.core.parsing import (
    OPT_OUT_WORDS,
    TWILIO_OPT_OUT_WORDS,
    collides_with_opt_out,
    normalise_text,
)
from app.core.sms import MAX_BODY_CHARS, gsm_safe_rewrite, measure, ucs2_forcing_chars
from app.messaging import compose
from app.messaging.registry import TemplateSet
from app.messaging.registry import sample_values as registered_samples

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    level: Level
    code: str
    message: str


@dataclass(frozen=True)
class TemplateCheck:
    """One template rendered in one locale with sample values."""

    kind: str  # a registered text's name, or "which_one[n]" for a plural form
    locale: str  # the locale asked for
    encoding: str  # GSM-7 or UCS-2, of the rendered body
    segments: int
    problems: tuple[Problem, ...]
    body: str  # the rendered sample


# Verbs that introduce the word a patient should send back. English is always checked
# because English instructions appear in every locale's texts.
REPLY_VERBS: dict[str, frozenset[str]] = {
    "en": frozenset({"reply", "text", "txt", "send", "answer", "respond", "type"}),
    "cy": frozenset({"atebwch", "ateb", "anfonwch", "anfon", "tecstiwch", "tecstio"}),
    "pl": frozenset({"odpowiedz", "wyślij", "napisz"}),
    "ro": frozenset({"răspundeți", "răspunde", "trimiteți", "trimite"}),
    "pt": frozenset({"responda", "envie"}),
    "es": frozenset({"responda", "responde", "envíe", "envía"}),
    "lt": frozenset({"atsakykite", "atsiųskite", "parašykite"}),
    "so": frozenset({"jawaab"}),
    "ar": frozenset({"أرسل", "ارسل", "أرسلي", "ردّ", "رد", "اكتب"}),
    "zh_Hans": frozenset({"回复", "请回复", "发送", "请发送"}),
}

# Verbs that follow the word to send, in languages that put the verb last
# ("ہاں بھیجیں", "send yes").
REPLY_VERBS_AFTER: dict[str, frozenset[str]] = {
    "ur": frozenset({"بھیجیں", "لکھیں"}),
    "pa": frozenset({"ਭੇਜੋ", "ਲਿਖੋ"}),
    "bn": frozenset({"পাঠান", "লিখুন"}),
    "gu": frozenset({"મોકલો", "લખો"}),
}

# Words that may sit between the verb and the reply word ("Reply with CANCEL").
_FILLERS: dict[str, frozenset[str]] = {
    "en": frozenset({"with", "us", "back", "the", "word", "just", "only"}),
    "cy": frozenset({"gyda", "â", "ni", "y", "gair"}),
}

# Asking for one of these can only mean "opt out", so it is the opt-out instruction.
_OPT_OUT_INSTRUCTION = frozenset({"stop"})

_PLACEHOLDER = re.compile(
    r"%(?:(?P<literal>%)|\((?P<name>[A-Za-z_]\w*)\)[#0+ \-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])?"
)
# Latin-script words only, so "回复STOP退订" still yields "STOP" for the capitals check.
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+(?:['’-][A-Za-zÀ-ÖØ-öø-ɏ]+)*")
_QUOTED = re.compile(r'["“”„«»「」]([^"“”„«»「」]{1,40})["“”„«»「」]')

_SAMPLE_CLINIC = "Riverside Clinic"
_SAMPLE_LINK = "https://example.org/s/Ab12Cd"
_SAMPLE_AT = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
_SAMPLE_ZONE = ZoneInfo("Europe/London")
_PLURAL_PROBE = range(1, 11)  # counts tried to find each distinct plural form


def lint(text: str, *, locale: str, expected_placeholders: set[str] | None = None) -> list[Problem]:
    """Every problem in the template `text` written for `locale`, errors first.

    Placeholders are compared with `expected_placeholders` only when it is given; a
    stray `%` is always an error. Reply words are read from the text with the
    placeholders taken out, so a clinic name never counts as an instruction. Never
    raises for any input text.
    """
    problems = placeholder_problems(text, expected_placeholders)
    problems += body_problems(_PLACEHOLDER.sub(" ", text), locale=locale)
    return sorted(problems, key=lambda p: p.level != "error")


def body_problems(body: str, *, locale: str) -> list[Problem]:
    """Problems of a text as the patient receives it: reply words, length, encoding.

    `body` is taken literally (a `%` is just a character), so this suits a rendered
    message as well as a template with its placeholders removed.
    """
    problems = _reply_word_problems(body, locale)
    if len(body) > MAX_BODY_CHARS:
        problems.append(
            Problem(
                "error",
                "too-long",
                f"{len(body)} characters; Twilio refuses a body over {MAX_BODY_CHARS}",
            )
        )
    problems += _encoding_problems(body)
    return problems


def placeholders(text: str) -> set[str]:
    """The names of the `%(name)s`-style placeholders in `text`."""
    return {m["name"] for m in _PLACEHOLDER.finditer(text) if m["name"]}


def placeholder_problems(text: str, expected: set[str] | None) -> list[Problem]:
    """Stray `%` signs, and (when `expected` is given) missing and unknown names."""
    problems = [
        Problem(
            "error",
            "bad-percent",
            f"'%' at position {m.start()} is not %(name)s or %%: formatting would fail",
        )
        for m in _PLACEHOLDER.finditer(text)
        if not m["literal"] and not m["name"]
    ]
    if expected is None:
        return problems
    found = placeholders(text)
    problems += [
        Problem("error", "missing-placeholder", f"%({name})s is missing")
        for name in sorted(expected - found)
    ]
    problems += [
        Problem("error", "unknown-placeholder", f"%({name})s is not a value this text gets")
        for name in sorted(found - expected)
    ]
    return problems


def reply_words(body: str, locale: str) -> list[str]:
    """The words `body` seems to ask the patient to send.

    A word counts when it follows a reply verb of English or `locale` (after fillers
    such as "with") or precedes a verb of a language that puts the verb last. So does a
    Latin word written in capitals (a run of them counts as one phrase, as in "OPT OUT")
    and any short text in double quotes.
    """
    return _reply_candidates(body, locale, width=1)


def _reply_candidates(body: str, locale: str, *, width: int) -> list[str]:
    """`reply_words`, plus the phrases of up to `width` words next to each reply verb."""
    tokens = _tokens(body)
    code = canonical(locale) or DEFAULT_LOCALE
    verbs = REPLY_VERBS[DEFAULT_LOCALE] | REPLY_VERBS.get(code, frozenset())
    verbs_after = REPLY_VERBS_AFTER.get(code, frozenset())
    fillers = _FILLERS[DEFAULT_LOCALE] | _FILLERS.get(code, frozenset())
    found: list[str] = []
    for index, token in enumerate(tokens):
        if token.lower() in verbs:
            start = _skip_fillers(tokens, index + 1, fillers)
            found += [" ".join(tokens[start : start + size]) for size in range(1, width + 1)]
        if token in verbs_after:
            found += [
                " ".join(tokens[max(index - size, 0) : index]) for size in range(1, width + 1)
            ]
    latin = _LATIN_WORD.findall(body)
    found += [t for t in latin if _is_capitals(t)]
    found += _capital_runs(latin)
    found += [quoted.strip() for quoted in _QUOTED.findall(body)]
    return list(dict.fromkeys(word for word in found if word))


def _skip_fillers(tokens: list[str], start: int, fillers: frozenset[str]) -> int:
    """The index of the first token from `start` on that is not a filler word."""
    while start < len(tokens) and tokens[start].lower() in fillers:
        start += 1
    return start


def _tokens(text: str) -> list[str]:
    """Words: letters with their combining marks (Indic vowel signs) and digits, kept
    whole across an inner apostrophe or hyphen."""
    words: list[str] = []
    current = ""
    for index, char in enumerate(text):
        inner = bool(current) and char in "-'’" and _is_word_char(text[index + 1 : index + 2])
        if _is_word_char(char) or inner:
            current += char
        elif current:
            words.append(current)
            current = ""
    return [*words, current] if current else words


def _is_word_char(char: str) -> bool:
    return bool(char) and (char == "_" or unicodedata.category(char)[0] in "LMN")


def _is_capitals(token: str) -> bool:
    # Single letters ("A" in "1A to confirm A") are menu labels, not words.
    return token.isupper() and sum(ch.isalpha() for ch in token) > 1


def _capital_runs(tokens: list[str]) -> list[str]:
    runs: list[str] = []
    current: list[str] = []
    for token in [*tokens, ""]:
        if _is_capitals(token):
            current.append(token)
            continue
        if len(current) > 1:
            runs.append(" ".join(current))
        current = []
    return runs


def _reply_word_problems(body: str, locale: str) -> list[Problem]:
    allowed = _opt_out_instruction_words(locale)
    return [
        Problem(
            "error",
            "reply-word-opts-out",
            f"asks the patient to send {word!r}, an opt-out keyword: Twilio would block "
            "this number for the patient. Ask for a digit instead (Reply 2 to cancel).",
        )
        for word in _reply_candidates(body, locale, width=2)
        if collides_with_opt_out(word) and normalise_text(word) not in allowed
    ]


def _opt_out_instruction_words(locale: str) -> frozenset[str]:
    code = canonical(locale) or DEFAULT_LOCALE
    # The locale's own words, but never Twilio's other keywords: CANCEL, END and QUIT
    # read as "cancel the appointment" or "finish", not as "stop all messages".
    own = OPT_OUT_WORDS.get(code, frozenset()) - TWILIO_OPT_OUT_WORDS
    return frozenset(normalise_text(word) for word in own | _OPT_OUT_INSTRUCTION)


def _encoding_problems(body: str) -> list[Problem]:
    rewrite = gsm_safe_rewrite(body)
    if rewrite is None:
        return []
    forcing = "".join(ucs2_forcing_chars(body))
    before, after = measure(body).segments, measure(rewrite).segments
    return [
        Problem(
            "warning",
            "gsm-rewrite-available",
            f"{forcing!r} force UCS-2 ({before} segment(s)); this GSM-7 rewrite reads the "
            f"same ({after} segment(s)): {rewrite!r}",
        )
    ]


def check_catalogue(
    locales: Iterable[str], template_sets: Mapping[str, TemplateSet]
) -> list[TemplateCheck]:
    """Render every text of `template_sets`, and each distinct form of their plural texts,
    in each locale with sample values, and check each one.

    The placeholders of a translation are compared with those of its English source.
    A text the locale's catalogue does not translate (including a locale with no
    catalogue at all) gets an "untranslated" warning, because the patient would read
    English. A translation that cannot be rendered gets a "render-failed" error rather
    than raising.
    """
    rows: list[TemplateCheck] = []
    for locale in locales:
        for template_set in template_sets.values():
            rows += [_check_single(k, source, locale) for k, source in template_set.texts.items()]
            for name, forms in template_set.plurals.items():
                rows += _check_plural(name, forms, locale)
    return rows


def sample_values(locale: str, count: int = 1) -> dict[str, object]:
    """Values for every placeholder a registered text takes, as `locale` would show them.

    `count` appointments are listed in `list`; each feature adds its own (survey labels
    from the locale's catalogue), so a text is measured with the words the patient reads.
    """
    date, time = compose.format_when(_SAMPLE_AT, _SAMPLE_ZONE, locale)
    items = []
    for index in range(count):
        day, hour = compose.format_when(_SAMPLE_AT + timedelta(days=index), _SAMPLE_ZONE, locale)
        items.append(f"{chr(ord('A') + index)}) {day} {hour}")
    return {
        "clinic": _SAMPLE_CLINIC,
        "date": date,
        "time": time,
        "list": ", ".join(items),
        "link": _SAMPLE_LINK,
        "digit": 1,
        **registered_samples(locale, count),
    }


def _check_single(kind: str, source: str, locale: str) -> TemplateCheck:
    translations, _served = compose.translator((locale,))
    raw = translations.gettext(source)
    values = sample_values(locale)
    return _check(kind, locale, raw, source, partial(compose.compose, source, (locale,), **values))


def _check_plural(name: str, forms: tuple[str, str], locale: str) -> list[TemplateCheck]:
    translations, _served = compose.translator((locale,))
    singular, plural = forms
    found: dict[str, int] = {}
    for count in _PLURAL_PROBE:
        found.setdefault(translations.ngettext(singular, plural, count), count)
    return [
        _check(
            f"{name}[{count}]",
            locale,
            raw,
            singular if count == 1 else plural,
            partial(
                compose.compose_plural, forms, count, (locale,), **sample_values(locale, count)
            ),
        )
        for raw, count in found.items()
    ]


def _check(
    kind: str, locale: str, raw: str, source: str, render: Callable[[], compose.Composed]
) -> TemplateCheck:
    problems = placeholder_problems(raw, placeholders(source))
    if locale != DEFAULT_LOCALE and raw == source:
        problems.append(
            Problem("warning", "untranslated", f"no {locale} translation: patients read English")
        )
    try:
        body = render().body
    except (KeyError, ValueError, TypeError) as exc:
        problems.append(Problem("error", "render-failed", f"cannot render: {exc!r}"))
        body = _PLACEHOLDER.sub(" ", raw)
    problems += body_problems(body, locale=locale)
    sized = measure(body)
    ordered = tuple(sorted(problems, key=lambda p: p.level != "error"))
    return TemplateCheck(kind, locale, sized.encoding, sized.segments, ordered, body)
