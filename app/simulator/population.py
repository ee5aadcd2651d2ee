"""Simulated patients for the Twilio simulator: who they are and how they answer.

`generate_population` draws a deterministic, roughly UK-shaped set of personas: language,
age, sex, NHS ethnic category, deprivation quintile, and the hidden traits that drive
their behaviour (how likely they are to reply, to miss an appointment, to be helped by a
reminder, to write digits in their own script, to be satisfied). Those traits depend on
the demographics on purpose, so non-response is not random and weighting has work to do.

`Behaviour` (from `behaviour`, exported here too) answers messages and calls the way
these personas would. A small share of personas may be given a landline (see `numbers`)
and prefer calls.

The non-English phrases in `PHRASEBOOK` are synthetic test data written for the simulator.
They have not been reviewed by a translator and are not catalogue text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.simulator.behaviour import OPT_OUT_REPLY, Behaviour, offers_menu
from app.simulator.numbers import MOBILE_BLOCKS, draw_landlines, draw_mobiles
from app.simulator.phrasebook import DIGITS, PHRASEBOOK

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "DIGITS",
    "MOBILE_BLOCKS",
    "OPT_OUT_REPLY",
    "PHRASEBOOK",
    "Behaviour",
    "Persona",
    "generate_population",
    "offers_menu",
]


@dataclass(frozen=True)
class Persona:
    """One simulated patient. The six fields from response_propensity on are hidden
    traits, not patient data."""

    external_id: str  # "P000001", stable within one generated population
    phone: str  # E.164 UK mobile (a landline if channel is "voice"), unique here
    locale: str  # a project locale code (app.core.locales)
    birth_year: int
    sex: str  # "F", "M" or, rarely, "X"
    ethnic_category: str  # NHS ethnic category code, A..Z
    imd_quintile: int  # 1 most deprived .. 5 least deprived
    response_propensity: float  # P(reply to a message that asks for a reply)
    base_dna_probability: float  # P(not attending) with no reminder
    reminder_effect: float  # odds ratio on DNA odds when a reminder was delivered
    native_digit_rate: float  # P(writing a digit in the locale's own script)
    satisfaction: float  # latent, roughly standard normal; higher is happier
    channel: str = "sms"  # channel preference: "voice" for a landline


@dataclass(frozen=True)
class _Profile:
    """How one language group is drawn."""

    share: float  # of the whole population
    ethnicity: dict[str, float]  # NHS code -> relative weight
    age_shape: tuple[float, float]  # beta(a, b) over ages 16..95
    imd: tuple[float, float, float, float, float]  # weights for quintiles 1..5
    digit_rate: float  # mean native_digit_rate; 0 where the locale has no own digits


_ENGLISH_ETHNICITY = {
    **{"A": 0.80, "B": 0.01, "C": 0.03, "D": 0.005, "E": 0.005, "F": 0.006, "G": 0.004},
    **{"H": 0.03, "J": 0.02, "K": 0.008, "L": 0.01, "M": 0.012, "N": 0.018, "P": 0.004},
    **{"R": 0.004, "S": 0.01, "Z": 0.02},
}
_EUROPEAN = {"C": 0.9, "A": 0.02, "G": 0.02, "Z": 0.06}
_YOUNG = (1.3, 2.8)
_MIDDLE = (1.4, 2.0)
_DEPRIVED = (0.4, 0.25, 0.15, 0.12, 0.08)
_EVEN = (0.2, 0.2, 0.2, 0.2, 0.2)

_PROFILES: dict[str, _Profile] = {
    "en": _Profile(0.75, _ENGLISH_ETHNICITY, (1.5, 1.8), _EVEN, 0.0),
    "cy": _Profile(0.05, {"A": 0.95, "C": 0.02, "Z": 0.03}, (1.6, 1.7), _EVEN, 0.0),
    "pl": _Profile(0.04, _EUROPEAN, _YOUNG, (0.3, 0.28, 0.2, 0.13, 0.09), 0.0),
    "ro": _Profile(0.025, _EUROPEAN, _YOUNG, (0.32, 0.28, 0.2, 0.12, 0.08), 0.0),
    "lt": _Profile(0.01, _EUROPEAN, _YOUNG, (0.3, 0.28, 0.2, 0.13, 0.09), 0.0),
    "pt": _Profile(0.012, {**_EUROPEAN, "N": 0.08}, _YOUNG, (0.28, 0.27, 0.2, 0.15, 0.1), 0.0),
    "es": _Profile(0.01, {**_EUROPEAN, "G": 0.06}, _YOUNG, (0.2, 0.22, 0.2, 0.2, 0.18), 0.0),
    "ur": _Profile(0.025, {"J": 0.85, "H": 0.04, "L": 0.05, "Z": 0.06}, _MIDDLE, _DEPRIVED, 0.35),
    "pa": _Profile(0.015, {"H": 0.78, "J": 0.08, "L": 0.09, "Z": 0.05}, _MIDDLE, _DEPRIVED, 0.25),
    "bn": _Profile(0.015, {"K": 0.9, "L": 0.05, "Z": 0.05}, _MIDDLE, _DEPRIVED, 0.4),
    "gu": _Profile(0.012, {"H": 0.9, "L": 0.05, "Z": 0.05}, _MIDDLE, _DEPRIVED, 0.3),
    "ar": _Profile(0.015, {"S": 0.8, "N": 0.08, "L": 0.04, "Z": 0.08}, _YOUNG, _DEPRIVED, 0.5),
    "so": _Profile(
        0.01, {"N": 0.9, "P": 0.03, "Z": 0.07}, _YOUNG, (0.5, 0.25, 0.13, 0.08, 0.04), 0.0
    ),
    "zh_Hans": _Profile(0.011, {"R": 0.92, "L": 0.03, "Z": 0.05}, _YOUNG, _EVEN, 0.15),
}

_SEXES = ("F", "M", "X")
_SEX_SHARES = (0.54, 0.457, 0.003)
_MIN_AGE, _MAX_AGE = 16, 95

# Shifts on the logit of response_propensity by ethnic category: groups that answer
# surveys and texts less often in practice, and people who did not state one.
_ETHNIC_REPLY_SHIFT = {
    **dict.fromkeys("AB", 0.0),
    **dict.fromkeys("CR", -0.1),
    **dict.fromkeys("DEFG", -0.15),
    **dict.fromkeys("HJKL", -0.25),
    **dict.fromkeys("MNPS", -0.3),
    "Z": -0.4,
}


def generate_population(
    n: int,
    seed: int,
    start_year: int = 2026,
    *,
    landline_share: float = 0.0,
    app_shares: tuple[float, float] = (0.0, 0.0),
) -> list[Persona]:
    """Draw `n` personas, the same ones for the same arguments.

    About three in four prefer English and one in twenty Welsh; the rest are spread over
    the other project locales, each with its own mix of ethnic categories, ages (16 to 95
    in `start_year`) and deprivation. About `landline_share` of them, older people more
    often, have a landline instead of a mobile and prefer voice calls; everything else
    about them is drawn as if they had none. Refuses a negative `n`, a share outside 0
    to 1, or more people than there are numbers to give them (ValueError).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if not 0.0 <= landline_share <= 1.0:
        raise ValueError("landline_share must be between 0 and 1")
    rng = np.random.default_rng(seed)
    codes = tuple(_PROFILES)
    shares = np.array([_PROFILES[code].share for code in codes])
    locale_index = rng.choice(len(codes), size=n, p=shares / shares.sum())
    locales = [codes[i] for i in locale_index]
    ages, imd, digit_mean, ethnic = _draw_by_locale(rng, codes, locale_index)
    sexes = rng.choice(len(_SEXES), size=n, p=_SEX_SHARES)
    phones = draw_mobiles(rng, n)
    english = np.array([code in ("en", "cy") for code in locales], dtype=bool)
    propensity = _response_propensity(rng, ages, imd, english, ethnic)
    dna = _dna_probability(rng, ages, imd, english)
    reminder = np.clip(np.exp(rng.normal(np.log(0.68), 0.12, n)), 0.4, 1.0)
    digit_rate = _digit_rate(rng, digit_mean)
    # Older and less deprived patients are happier, and also answer more often: the
    # unweighted share positive is biased upwards, which weighting should correct.
    satisfaction = rng.normal(0.0, 1.0, n) + 0.4 * (ages - 50) / 10 + 0.3 * (imd - 3)
    channels = _give_landlines(seed, ages, phones, landline_share)
    _prefer_apps(seed, ages, channels, *app_shares)
    return [
        Persona(
            external_id=f"P{i + 1:06d}",
            phone=phones[i],
            locale=locales[i],
            birth_year=start_year - int(ages[i]),
            sex=_SEXES[sexes[i]],
            ethnic_category=ethnic[i],
            imd_quintile=int(imd[i]),
            response_propensity=float(propensity[i]),
            base_dna_probability=float(dna[i]),
            reminder_effect=float(reminder[i]),
            native_digit_rate=float(digit_rate[i]),
            satisfaction=float(satisfaction[i]),
            channel=channels[i],
        )
        for i in range(n)
    ]


def _give_landlines(seed: int, ages: FloatArray, phones: list[str], share: float) -> list[str]:
    """Swap some mobiles for landlines (in place); each persona's channel preference.

    A generator of its own keeps every other trait as it would be without landlines.
    """
    if share <= 0 or not phones:
        return ["sms"] * len(phones)
    rng = np.random.default_rng([seed, 0x1A4D])
    weight = np.exp((ages - 60) / 15)
    chosen = np.flatnonzero(
        rng.random(len(phones)) < np.minimum(1.0, share * weight / weight.mean())
    )
    for index, number in zip(chosen.tolist(), draw_landlines(rng, len(chosen)), strict=True):
        phones[index] = number
    landline = set(chosen.tolist())
    return ["voice" if i in landline else "sms" for i in range(len(phones))]


def _prefer_apps(
    seed: int, ages: FloatArray, channels: list[str], whatsapp: float, web: float
) -> None:
    """Give some mobile users a preference for WhatsApp or the web form (in place).

    Younger people choose either more often. A generator of its own keeps every other
    trait unchanged.
    """
    if whatsapp <= 0 and web <= 0:
        return
    rng = np.random.default_rng([seed, 0xA995])
    weight = np.exp(-(ages - 45) / 20)
    scale = weight / weight.mean()
    draws = rng.random(len(channels))
    for i, channel in enumerate(channels):
        if channel != "sms":
            continue
        if draws[i] < min(1.0, whatsapp * scale[i]):
            channels[i] = "whatsapp"
        elif draws[i] < min(1.0, (whatsapp + web) * scale[i]):
            channels[i] = "web"


def _draw_by_locale(
    rng: np.random.Generator, codes: tuple[str, ...], locale_index: npt.NDArray[np.intp]
) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
    """Ages, IMD quintiles, mean digit rates and ethnic codes, each group from its profile."""
    n = len(locale_index)
    ages, imd, digit_mean = np.empty(n), np.empty(n), np.empty(n)
    ethnic = np.empty(n, dtype=object)
    for i, code in enumerate(codes):
        members = np.flatnonzero(locale_index == i)
        profile = _PROFILES[code]
        shape = rng.beta(*profile.age_shape, size=len(members))
        ages[members] = np.floor(_MIN_AGE + shape * (_MAX_AGE - _MIN_AGE + 1))
        imd[members] = 1 + rng.choice(5, size=len(members), p=profile.imd)
        digit_mean[members] = profile.digit_rate
        ethnic[members] = _choose(rng, profile.ethnicity, len(members))
    return np.minimum(ages, _MAX_AGE), imd, digit_mean, [str(code) for code in ethnic]


def _choose(rng: np.random.Generator, weights: dict[str, float], size: int) -> list[str]:
    keys = list(weights)
    p = np.array([weights[key] for key in keys])
    return [keys[i] for i in rng.choice(len(keys), size=size, p=p / p.sum())]


def _logistic(x: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return result


def _response_propensity(
    rng: np.random.Generator,
    ages: FloatArray,
    imd: FloatArray,
    english: npt.NDArray[np.bool_],
    ethnic: list[str],
) -> FloatArray:
    # Older, less deprived, English- or Welsh-speaking people reply more: roughly 0.2 for
    # a deprived young non-English speaker to 0.85 for an affluent pensioner.
    shift = np.array([_ETHNIC_REPLY_SHIFT[code] for code in ethnic])
    logit = 0.4 + 0.28 * (ages - 50) / 10 + 0.22 * (imd - 3) - 0.5 * ~english + shift
    return np.clip(_logistic(logit + rng.normal(0.0, 0.35, len(ages))), 0.03, 0.97)


def _dna_probability(
    rng: np.random.Generator, ages: FloatArray, imd: FloatArray, english: npt.NDArray[np.bool_]
) -> FloatArray:
    # Younger and more deprived patients miss more; the mean lands near 10-11%.
    logit = -2.3 - 0.22 * (ages - 50) / 10 - 0.22 * (imd - 3) + 0.15 * ~english
    return _logistic(logit + rng.normal(0.0, 0.3, len(ages)))


def _digit_rate(rng: np.random.Generator, mean: FloatArray) -> FloatArray:
    # A beta around the group's mean, so some people always use their own digits and
    # some never do; zero stays zero for locales without their own digit set.
    has_digits = mean > 0
    safe = np.where(has_digits, mean, 0.5)
    draw = rng.beta(safe * 6.0, (1 - safe) * 6.0)
    return np.where(has_digits, draw, 0.0)
