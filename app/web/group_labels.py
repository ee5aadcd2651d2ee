"""Patient groups as every staff page names them: the levels of sex, ethnic group and
deprivation quintile that attendance, results and goals break their figures down by."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SEX = {"F": _l("Female"), "M": _l("Male")}
ETHNIC = {
    "white": _l("White"),
    "mixed": _l("Mixed or multiple ethnic groups"),
    "asian": _l("Asian or Asian British"),
    "black": _l("Black or Black British"),
    "other": _l("Other ethnic group"),
}
IMD = {"1": _l("1 (most deprived)"), "5": _l("5 (least deprived)")}
_BY_VARIABLE = {"sex": SEX, "ethnic": ETHNIC, "imd": IMD}


def demographic_level(variable: str, level: str) -> str | None:
    """A level of sex, ethnic group or deprivation quintile in words ("Female", "1 (most
    deprived)"); the level itself when it has no words; None for any other variable."""
    names = _BY_VARIABLE.get(variable)
    return None if names is None else str(names.get(level, level))
