"""The languages WeSaid speaks, and how a patient's recorded locale falls back.

Project locale codes are short and fixed: a bare ISO 639-1 language code, except
Simplified Chinese, which carries its script (``zh_Hans``) because that is the catalogue
name Babel expects. Anything typed by staff, imported from a FHIR record or sent by a
browser ("en-GB", "zh-CN", "pa_IN") is mapped onto these codes with `canonical` before it
is stored or compared.
"""

from __future__ import annotations

SUPPORTED_LOCALES: tuple[str, ...] = (
    "en",
    "cy",
    "pl",
    "ro",
    "ur",
    "pa",
    "bn",
    "gu",
    "ar",
    "so",
    "pt",
    "lt",
    "es",
    "zh_Hans",
)

# Web pages in these locales are laid out right to left.
RTL_LOCALES: frozenset[str] = frozenset({"ar", "ur"})

DEFAULT_LOCALE = "en"

# Chinese regions whose usual script is Traditional, which we do not support.
_TRADITIONAL_CHINESE_REGIONS = frozenset({"tw", "hk", "mo"})


def is_supported(code: str) -> bool:
    """Say whether `code` is exactly one of the project's locale codes.

    This is a strict check ("en-GB" is not supported as written); use `canonical` to map
    loose input first.
    """
    return code in SUPPORTED_LOCALES


def canonical(code: str) -> str | None:
    """Map a BCP 47 tag, POSIX locale or project code onto a project locale code.

    Case, "-" versus "_", a region ("en-GB") and a POSIX suffix ("en_GB.UTF-8") are all
    tolerated. Returns None for a language we do not support, and also for a supported
    language written in a script we have no catalogue for: Traditional Chinese
    ("zh-Hant", "zh-TW") and Shahmukhi Punjabi ("pa-Arab", "pa-PK").
    """
    subtags = _subtags(code)
    if not subtags:
        return None
    language, rest = subtags[0], subtags[1:]
    if language == "zh":
        return _chinese(rest)
    if language == "pa":
        return None if {"arab", "pk"} & set(rest) else "pa"
    return language if language in SUPPORTED_LOCALES else None


def fallback_chain(patient_locale: str | None, clinic_default: str) -> tuple[str, ...]:
    """Return the locales to try for one patient, best first, always ending in English.

    The order is the patient's locale, its base language, the clinic's default, then
    English. Every entry is a supported project code and appears once; unsupported or
    unknown codes are skipped rather than raising, because a bad recorded locale must
    never stop a reminder from going out.
    """
    candidates: list[str | None] = []
    if patient_locale:
        candidates += [canonical(patient_locale), _base_language(patient_locale)]
    candidates += [canonical(clinic_default), DEFAULT_LOCALE]
    return tuple(dict.fromkeys(code for code in candidates if code is not None))


def _subtags(code: str) -> list[str]:
    """Split a tag into lower-case subtags, dropping any POSIX ".charset" or "@modifier"."""
    bare = code.strip().split(".", 1)[0].split("@", 1)[0]
    return [part.lower() for part in bare.replace("-", "_").split("_") if part]


def _chinese(rest: list[str]) -> str | None:
    if "hant" in rest:
        return None
    if "hans" in rest:
        return "zh_Hans"
    return None if _TRADITIONAL_CHINESE_REGIONS & set(rest) else "zh_Hans"


def _base_language(code: str) -> str | None:
    """The project code for the language subtag alone ("pt-BR" → "pt", "zh-Hant" → "zh_Hans").

    Dropping the script is deliberate: the design puts the same language in the script
    we do have ahead of the clinic's default.
    """
    subtags = _subtags(code)
    return canonical(subtags[0]) if subtags else None
