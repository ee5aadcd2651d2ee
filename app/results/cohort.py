"""A snapshot's cohort read as columns (`summary.Columns`), for cohorts of any size.

An organisation's month may hold a million invitations. Loading each as a mapped object
takes minutes and gigabytes; here the database does the per-row work and Python sees
arrays of numbers:

- the languages the cohort speaks are read first (they are the levels of `language`,
  `summary.level_names`);
- every invitation comes as five integers: its id; its flags (whether it responded,
  has a response, and whether that response's FFT answer is there, positive or
  negative); its survey version; its level of every variable, coded in SQL and packed
  into one integer; and when its response last changed. All of them come in one
  string (string_agg, group_concat), which numpy parses;
- the answers are read only for a summary (not to check whether the inputs changed),
  only for the respondents, and only each question's status and value (the status
  alone for free text, whose words are not needed), grouped by those: each group
  brings the ids of its respondents.

The figures are those `summary.summarise` gives for the same invitations and responses
(tests/results/test_cohort.py holds the two side by side). `Cohort.inputs`, the digest
of the inputs, covers each invitation, its flags and its response's last change (to
the microsecond on PostgreSQL, the second on SQLite), which moves with every answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    case,
    cast,
    func,
    select,
    text,
    type_coerce,
)

from app.extensions import db
from app.results import categories as cat
from app.results.models import SurveyInvitation, SurveyResponse
from app.results.questions import QuestionKind, QuestionSpec, Readings, read_stored, readings_of
from app.results.summary import FFT_NEGATIVE, FFT_POSITIVE, Columns, level_names

#: The form of `Cohort.inputs`; part of what it digests.
DIGEST_FORM = b"wesaid.cohort.2"
# An invitation's numbers, in `_numbers` order, and its flags.
_ID, _FLAGS, _VERSION, _LEVELS, _STAMP = range(5)
_WIDTH = 5
_RESPONDED, _HAS_RESPONSE, _FFT_ANSWERED, _POSITIVE, _NEGATIVE = 1, 2, 4, 8, 16
_SEPARATOR = ","
#: Working memory for joining a cohort's responses (see `_planning_for_a_cohort`).
JOIN_MEMORY = "64MB"
#: What PostgreSQL reckons handing one row from a parallel worker costs, for a cohort's
#: statements (see `_planning_for_a_cohort`); its default is 0.1.
PARALLEL_TUPLE_COST = 0.01
Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Cohort:
    """Every invitation of a cohort (in id order) as arrays, without the answers."""

    ids: NDArray[np.int64]
    #: The flags of `_numbers` (see the module's docstring).
    flags: NDArray[np.int64]
    codes: dict[str, NDArray[np.int64]]
    levels: dict[str, tuple[str, ...]]
    #: The survey versions the cohort was invited to.
    versions: list[int]
    inputs: str

    def responded(self, fft_rule: bool) -> NDArray[np.bool_]:
        """Who counts as a respondent: whoever answered the FFT, or (`fft_rule` False)
        whoever answered anything (`summary.uses_fft`)."""
        answered = _FFT_ANSWERED if fft_rule else _RESPONDED
        mask: NDArray[np.bool_] = ((self.flags & _HAS_RESPONSE) != 0) & (
            (self.flags & answered) != 0
        )
        return mask


def _flag(condition: ColumnElement[bool], value: int) -> ColumnElement[int]:
    return case((condition, value), else_=0)


def _coded(column: Any, levels: Sequence[str]) -> ColumnElement[int]:
    """The index in `levels` of the column's value; unknown's for any other value."""
    return case(
        {level: index for index, level in enumerate(levels)},
        value=type_coerce(column, String),
        else_=levels.index(cat.UNKNOWN),
    )


def _numbers(where: Sequence[ColumnElement[bool]], levels: dict[str, tuple[str, ...]]) -> Rows:
    """Every invitation's numbers (see the module's docstring), one after the other in
    a single string, the numbers and the invitations separated by commas."""
    fft = func.coalesce(SurveyResponse.fft, "")
    flags = (
        _flag(SurveyInvitation.responded.is_(True), _RESPONDED)
        + _flag(SurveyResponse.id.is_not(None), _HAS_RESPONSE)
        + _flag(fft != "", _FFT_ANSWERED)
        + _flag(fft.in_(sorted(FFT_POSITIVE)), _POSITIVE)
        + _flag(fft.in_(sorted(FFT_NEGATIVE)), _NEGATIVE)
    )
    packed: ColumnElement[int] | None = None  # mixed radix, the last variable lowest
    for variable in cat.VARIABLES:
        digit = _coded(getattr(SurveyInvitation, variable), levels[variable])
        packed = digit if packed is None else packed * len(levels[variable]) + digit
    stamp = func.coalesce(func.extract("epoch", SurveyResponse.updated_at) * 1_000_000, 0)
    numbers = (SurveyInvitation.id, flags, SurveyInvitation.survey_version_id, packed, stamp)
    row: ColumnElement[str] | None = None
    for number in numbers:
        digits = cast(cast(number, BigInteger), String)
        row = digits if row is None else row + _SEPARATOR + digits
    assert row is not None
    return (
        select(func.aggregate_strings(row, _SEPARATOR))
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .where(*where)
    )


def _unpacked(
    packed: NDArray[np.int64], levels: dict[str, tuple[str, ...]]
) -> dict[str, NDArray[np.int64]]:
    codes: dict[str, NDArray[np.int64]] = {}
    rest = packed
    for variable in reversed(cat.VARIABLES):
        rest, codes[variable] = np.divmod(rest, len(levels[variable]))
    return {variable: codes[variable] for variable in cat.VARIABLES}


def _planning_for_a_cohort() -> None:
    """For this transaction, let PostgreSQL hash the responses it joins in memory, and
    join them in parallel workers. At the default 4 MB of working memory, a month of a
    million invitations splits the join into batches on disk and takes twice as long.
    At the default cost of a row handed from a worker, the planner reads such a month
    on one core: both statements (the invitations' numbers, the answers) end with an
    aggregate that only the leader can run, so every row would be handed over. Two
    workers took them from 1.8 s to 1.25 s and from 1.1 s to 0.65 s."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL work_mem = '{JOIN_MEMORY}'"))
        db.session.execute(text(f"SET LOCAL parallel_tuple_cost = {PARALLEL_TUPLE_COST}"))


def read_cohort(where: Sequence[ColumnElement[bool]]) -> Cohort:
    """The invitations matching `where`, and their responses. Reads only."""
    _planning_for_a_cohort()
    seen = db.session.scalars(
        select(SurveyInvitation.language).where(*where).group_by(SurveyInvitation.language)
    ).all()
    levels = {variable: level_names(variable, seen) for variable in cat.VARIABLES}
    joined = db.session.scalar(_numbers(where, levels))
    numbers = np.fromstring(joined or "", dtype=np.int64, sep=_SEPARATOR)
    if numbers.size % _WIDTH:
        raise RuntimeError(f"a cohort read as {numbers.size} numbers, not rows of {_WIDTH}")
    rows = numbers.reshape(-1, _WIDTH)
    rows = rows[np.argsort(rows[:, _ID], kind="stable")]
    digest = hashlib.sha256(DIGEST_FORM)
    digest.update(np.ascontiguousarray(rows[:, [_ID, _FLAGS, _STAMP]], dtype="<i8").tobytes())
    return Cohort(
        ids=np.ascontiguousarray(rows[:, _ID]),
        flags=np.ascontiguousarray(rows[:, _FLAGS]),
        codes=_unpacked(rows[:, _LEVELS], levels),
        levels=levels,
        versions=[int(version) for version in np.unique(rows[:, _VERSION])],
        inputs=digest.hexdigest(),
    )


def read_columns(
    cohort: Cohort,
    where: Sequence[ColumnElement[bool]],
    specs: Sequence[QuestionSpec],
    fft_rule: bool,
) -> Columns:
    """The cohort's columns for a summary: its respondents by `fft_rule` and their
    readings of every question of `specs`. Reads only."""
    responded = cohort.responded(fft_rule)
    flags = cohort.flags[responded]
    return Columns(
        ids=cohort.ids,
        responded=responded,
        codes=cohort.codes,
        levels=cohort.levels,
        fft_positive=(flags & _POSITIVE) != 0,
        fft_negative=(flags & _NEGATIVE) != 0,
        readings=_readings(where, specs, fft_rule, cohort.ids[responded]),
    )


def _readings(
    where: Sequence[ColumnElement[bool]],
    specs: Sequence[QuestionSpec],
    fft_rule: bool,
    respondents: NDArray[np.int64],
) -> dict[str, Readings]:
    """Each question's readings over the respondents (ids in order)."""
    if not specs:
        return {}
    answers = SurveyResponse.answers
    keys: list[Any] = [SurveyResponse.survey_version_id]
    for spec in specs:
        keys.append(answers[(spec.id, "status")].as_string())
        if spec.kind is not QuestionKind.FREE_TEXT:
            keys.append(answers[(spec.id, "value")].as_string())
    counted = (
        func.coalesce(SurveyResponse.fft, "") != ""
        if fft_rule
        else SurveyInvitation.responded.is_(True)
    )
    ids = func.aggregate_strings(cast(SurveyInvitation.id, String), _SEPARATOR)
    groups = db.session.execute(
        select(*keys, ids)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(*where, counted)
        .group_by(*keys)
    ).all()
    group_of = np.full(len(respondents), -1, dtype=np.int64)
    for number, group in enumerate(groups):
        members = np.fromstring(group[-1], dtype=np.int64, sep=_SEPARATOR)
        at = np.searchsorted(respondents, members)
        if (at >= len(respondents)).any() or (respondents[at] != members).any():
            raise RuntimeError("answers read for someone who is not a respondent")
        group_of[at] = number
    if (group_of < 0).any():
        raise RuntimeError("a respondent's answers were not read")
    found: dict[str, Readings] = {}
    position = 1
    for spec in specs:
        value_at = position + 1 if spec.kind is not QuestionKind.FREE_TEXT else None
        read = [
            read_stored(
                spec, group[0], group[position], None if value_at is None else group[value_at]
            )
            for group in groups
        ]
        distinct = readings_of(spec, read)
        found[spec.id] = Readings(
            distinct.reading[group_of], distinct.choice[group_of], distinct.number[group_of]
        )
        position += 1 if value_at is None else 2
    return found
