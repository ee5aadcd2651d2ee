"""Simulated patients for the Twilio simulator: who they are and how they answer.

`generate_population` draws a deterministic, roughly UK-shaped set of personas: language,
age, sex, NHS ethnic category, deprivation quintile, and the hidden traits that drive
their behaviour (how likely they are to reply, to miss an appointment, to be helped by a
reminder, to write digits in their own script, to be satisfied). Those traits depend on
the demographics on purpose, so non-response is not random and weighting has work to do.

`Behaviour` answers messages the way these personas would: a reminder offering a numbered
menu gets a digit, an opt-out, a short sentence or silence; anything else gets silence.
Every draw is keyed by a hash of the seed and the event, so a rerun gives the same answers
whatever order the messages arrive in.

The phone numbers sit in real UK mobile ranges because the phone policy refuses Ofcom's
drama range. They are synthetic and belong only to the loopback simulator; never hand
them to a real channel.

The non-English phrases in `PHRASEBOOK` are synthetic test data written for the simulator.
They have not been reviewed by a translator and are not catalogue text.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.simulator.phrasebook import DIGITS, PHRASEBOOK

FloatArray = npt.NDArray[np.float64]

__all__ = ["DIGITS", "PHRASEBOOK", "Behaviour", "Persona", "generate_population"]


@dataclass(frozen=True)
class Persona:
    """One simulated patient. The last six fields are hidden traits, not patient data."""

    external_id: str  # "P000001", stable within one generated population
    phone: str  # E.164 UK mobile, unique within the population
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


OPT_OUT_REPLY = "STOP"

# Odds ratio on the DNA odds for a patient who confirmed: confirmers rarely miss.
CONFIRMED_ODDS_RATIO = 0.5

# What a persona who answers a menu does, with its share of answers.
_REPLY_KINDS: tuple[tuple[str, float], ...] = (
    ("1", 0.80),  # confirm
    ("2", 0.07),  # cancel
    ("3", 0.06),  # ask to rebook
    ("stop", 0.015),
    ("text", 0.055),
)

# How a digit is typed: mostly bare, sometimes with a full stop or stray spaces.
_DIGIT_LAYOUTS = (("{}", 0.7), ("{}.", 0.1), (" {} ", 0.1), ("{} ", 0.1))

# A menu option is a lone 1, 2 or 3: not part of a time (1:30), date (1/3), decimal or word.
_MENU_OPTION = re.compile(r"(?<![\w:/.,])([123])(?![\w:/]|[.,]\d)")

_FFT_DONT_KNOW = 6
_FFT_DONT_KNOW_RATE = 0.02
# Cut points on satisfaction for Very poor (5), Poor (4), Neither (3), Good (2);
# above the last is Very good (1).
_FFT_CUTS: tuple[tuple[float, int], ...] = ((-2.4, 5), (-2.0, 4), (-1.55, 3), (-0.45, 2))


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

# Four-digit blocks after +44 that are wholly mobile in the GB numbering plan as
# `phonenumbers` knows it. Blocks shared with Jersey, Guernsey or Man are left out.
_MOBILE_RANGES: tuple[tuple[int, int], ...] = (
    *((7400, 7450), (7460, 7509), (7510, 7520), (7530, 7600)),
    *((7800, 7820), (7840, 7910), (7920, 7930), (7940, 8000)),
)
MOBILE_BLOCKS: tuple[int, ...] = tuple(b for low, high in _MOBILE_RANGES for b in range(low, high))
_NUMBERS_PER_BLOCK = 1_000_000


def generate_population(n: int, seed: int, start_year: int = 2026) -> list[Persona]:
    """Draw `n` personas, the same ones for the same (n, seed, start_year).

    About three in four prefer English and one in twenty Welsh; the rest are spread over
    the other project locales, each with its own mix of ethnic categories, ages (16 to 95
    in `start_year`) and deprivation. Refuses a negative `n` or more people than there are
    numbers to give them (ValueError).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = np.random.default_rng(seed)
    codes = tuple(_PROFILES)
    shares = np.array([_PROFILES[code].share for code in codes])
    locale_index = rng.choice(len(codes), size=n, p=shares / shares.sum())
    locales = [codes[i] for i in locale_index]
    ages, imd, digit_mean, ethnic = _draw_by_locale(rng, codes, locale_index)
    sexes = rng.choice(len(_SEXES), size=n, p=_SEX_SHARES)
    phones = _draw_phones(rng, n)
    english = np.array([code in ("en", "cy") for code in locales], dtype=bool)
    propensity = _response_propensity(rng, ages, imd, english, ethnic)
    dna = _dna_probability(rng, ages, imd, english)
    reminder = np.clip(np.exp(rng.normal(np.log(0.68), 0.12, n)), 0.4, 1.0)
    digit_rate = _digit_rate(rng, digit_mean)
    satisfaction = rng.normal(0.0, 1.0, n) + 0.2 * (ages - 50) / 10 + 0.1 * (imd - 3)
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
        )
        for i in range(n)
    ]


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


def _draw_phones(rng: np.random.Generator, n: int) -> list[str]:
    """Unique E.164 numbers spread over MOBILE_BLOCKS, in draw order."""
    space = len(MOBILE_BLOCKS) * _NUMBERS_PER_BLOCK
    if n > space:
        raise ValueError("more personas than synthetic mobile numbers")
    chosen: dict[int, None] = {}
    while len(chosen) < n:
        for value in rng.integers(0, space, size=n - len(chosen)).tolist():
            chosen.setdefault(value)
    return [
        f"+44{MOBILE_BLOCKS[v // _NUMBERS_PER_BLOCK]}{v % _NUMBERS_PER_BLOCK:06d}" for v in chosen
    ]


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


def offers_menu(body: str) -> bool:
    """Say whether `body` offers the numbered reply menu: lone 1, 2 and 3 in any script."""
    ascii_body = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in body)
    return {"1", "2", "3"} <= set(_MENU_OPTION.findall(ascii_body))


def _rng(seed: int, *parts: str) -> random.Random:
    """A generator seeded from a hash of the seed and the event, independent of call order."""
    key = "\x1f".join((str(seed), *parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=16).digest(), "big"))


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    values = [value for value, _ in table]
    return rng.choices(values, weights=[weight for _, weight in table])[0]


class Behaviour:
    """How the personas answer messages. Deterministic for a given seed and message history."""

    def __init__(self, personas: Sequence[Persona], seed: int) -> None:
        """Index `personas` by phone. Refuses two personas sharing a number (ValueError)."""
        self._by_phone = {persona.phone: persona for persona in personas}
        if len(self._by_phone) != len(personas):
            raise ValueError("two personas share a phone number")
        self._seed = seed
        self._opted_out: set[str] = set()
        self._menus_seen: dict[str, int] = {}

    def find(self, phone: str) -> Persona | None:
        """The persona with this E.164 number, or None if nobody in the population has it."""
        return self._by_phone.get(phone)

    def get_persona(self, phone: str) -> Persona:
        """The persona with this number; raises KeyError if there is none."""
        persona = self.find(phone)
        if persona is None:
            raise KeyError("no persona has that number")
        return persona

    def reply_to(self, phone: str, body: str) -> str | None:
        """The persona's reply to `body`, or None for silence.

        Only a message offering the 1/2/3 menu gets a reply, and only with the persona's
        response propensity: a menu digit (in the persona's own script at their
        native_digit_rate), "STOP", or a short sentence in their language. A persona who
        has sent STOP never replies again, and an unknown number never replies. The n-th
        menu sent to a phone always gets the same answer for the same seed.
        """
        persona = self.find(phone)
        if persona is None or phone in self._opted_out or not offers_menu(body):
            return None
        seen = self._menus_seen.get(phone, 0)
        self._menus_seen[phone] = seen + 1
        rng = _rng(self._seed, "reply", phone, str(seen))
        if rng.random() >= persona.response_propensity:
            return None
        kind = _pick(rng, _REPLY_KINDS)
        if kind == "stop":
            self._opted_out.add(phone)
            return OPT_OUT_REPLY
        if kind == "text":
            return rng.choice(PHRASEBOOK[persona.locale])
        return _write_digit(rng, persona, kind)

    def has_opted_out(self, phone: str) -> bool:
        """Whether this persona has sent STOP."""
        return phone in self._opted_out

    def attends(self, phone: str, reminded: bool, confirmed: bool, rng_key: str) -> bool:
        """Whether the persona turns up to the appointment identified by `rng_key`.

        The DNA odds start from base_dna_probability, are multiplied by reminder_effect
        when a reminder was delivered and by CONFIRMED_ODDS_RATIO when the patient
        confirmed. The random draw depends only on (seed, phone, rng_key), so a reminder
        can only turn a miss into an attendance, never the reverse. Raises KeyError for an
        unknown number.
        """
        persona = self.get_persona(phone)
        odds = persona.base_dna_probability / (1 - persona.base_dna_probability)
        if reminded:
            odds *= persona.reminder_effect
        if confirmed:
            odds *= CONFIRMED_ODDS_RATIO
        draw = _rng(self._seed, "attend", phone, rng_key).random()
        return draw >= odds / (1 + odds)

    def true_fft_answer(self, phone: str) -> int:
        """The persona's honest Friends and Family Test answer, 1 (Very good) to 6 (Don't know).

        Fixed for a given seed and persona. Raises KeyError for an unknown number.
        """
        persona = self.get_persona(phone)
        if _rng(self._seed, "fft", phone).random() < _FFT_DONT_KNOW_RATE:
            return _FFT_DONT_KNOW
        for cut, answer in _FFT_CUTS:
            if persona.satisfaction < cut:
                return answer
        return 1


def _write_digit(rng: random.Random, persona: Persona, digit: str) -> str:
    native = DIGITS.get(persona.locale)
    if native is not None and rng.random() < persona.native_digit_rate:
        digit = native[int(digit)]
    return _pick(rng, _DIGIT_LAYOUTS).format(digit)
