"""Weighting categories taken from a patient at invitation time (pure).

| variable  | levels                                                                  |
|-----------|-------------------------------------------------------------------------|
| age_band  | 16-24, 25-39, 40-54, 55-64, 65-74, 75+ (age in the invitation's year)    |
| sex       | F, M (X, U and missing → unknown)                                        |
| ethnic    | NHS ethnic category codes grouped: white (A-C), mixed (D-G),            |
|           | asian (H-L), black (M-P), other (R, S); Z or missing → unknown           |
| imd       | deprivation quintile 1 (most deprived) to 5                              |
| language  | the project locale                                                       |
| channel   | sms, whatsapp, voice, web                                                |

"unknown" is an explicit level: it is weighted like any other, never dropped.
"""

from __future__ import annotations

UNKNOWN = "unknown"
VARIABLES: tuple[str, ...] = ("age_band", "sex", "ethnic", "imd", "language", "channel")
#: Variables the snapshots rake on by default (language and channel are reported only:
#: they follow from the others and from what the patient chose).
RAKING_VARIABLES: tuple[str, ...] = ("age_band", "sex", "ethnic", "imd")

AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 24, "16-24"),
    (25, 39, "25-39"),
    (40, 54, "40-54"),
    (55, 64, "55-64"),
    (65, 74, "65-74"),
    (75, None, "75+"),
)
ETHNIC_GROUPS: dict[str, str] = {
    **dict.fromkeys("ABC", "white"),
    **dict.fromkeys("DEFG", "mixed"),
    **dict.fromkeys("HJKL", "asian"),
    **dict.fromkeys("MNP", "black"),
    **dict.fromkeys("RS", "other"),
}
LEVELS: dict[str, tuple[str, ...]] = {
    "age_band": (*(band for _, _, band in AGE_BANDS), UNKNOWN),
    "sex": ("F", "M", UNKNOWN),
    "ethnic": ("white", "mixed", "asian", "black", "other", UNKNOWN),
    "imd": ("1", "2", "3", "4", "5", UNKNOWN),
}


def age_band(birth_year: int | None, year: int) -> str:
    if birth_year is None:
        return UNKNOWN
    age = year - birth_year
    for low, high, band in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return band
    return UNKNOWN


def sex(code: str | None) -> str:
    return code if code in ("F", "M") else UNKNOWN


def ethnic_group(code: str | None) -> str:
    return ETHNIC_GROUPS.get(code or "", UNKNOWN)


def imd(quintile: int | None) -> str:
    return str(quintile) if quintile in (1, 2, 3, 4, 5) else UNKNOWN
