"""Target margins, and the checks that respondents' codes fit them.

A margin gives target totals per level of one weighting variable, or per combination of
levels of several ("age*sex"). Respondents carry one integer level code per variable; a
negative code means the level is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
CollapseRule = Literal["none", "adjacent"]
_TOTALS_AGREE = 1e-9  # relative difference allowed between the grand totals of two margins


class WeightingError(ValueError):
    """Weights cannot be made: the message says which variable, level and row."""

    def __init__(
        self,
        message: str,
        *,
        variable: str | None = None,
        level: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.variable = variable
        self.level = level
        self.row = row


@dataclass(frozen=True)
class Margin:
    """Target totals for one variable, or for every combination of several.

    `totals` has one axis per variable, in order, with one entry per level code. `labels`
    optionally names the levels of each variable for messages.
    """

    variables: tuple[str, ...]
    totals: Floats
    labels: tuple[tuple[str, ...], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", tuple(self.variables))
        object.__setattr__(self, "totals", np.asarray(self.totals, dtype=np.float64))

    @property
    def name(self) -> str:
        return "*".join(self.variables)

    def level_name(self, flat: int) -> str:
        """The label of a level (or combination, joined by '*') from its flat index."""
        codes = np.unravel_index(flat, self.totals.shape)
        if self.labels is None:
            return "*".join(str(int(c)) for c in codes)
        return "*".join(self.labels[i][int(c)] for i, c in enumerate(codes))


@dataclass(frozen=True)
class Collapse:
    """An empty level whose target was added to a neighbouring level's."""

    variable: str
    level: str
    into: str


def check_codes(
    codes: Mapping[str, ArrayLike], margins: Sequence[Margin]
) -> tuple[dict[str, Ints], dict[str, int]]:
    """Code arrays per margin variable and each variable's number of levels.

    Checks shapes, types and lengths; `check_ranges` checks the codes themselves.
    """
    sizes: dict[str, int] = {}
    for margin in margins:
        if margin.totals.ndim != len(margin.variables):
            raise WeightingError(
                f"margin {margin.name!r}: totals have {margin.totals.ndim} axes for "
                f"{len(margin.variables)} variables",
                variable=margin.name,
            )
        for variable, size in zip(margin.variables, margin.totals.shape, strict=True):
            if sizes.setdefault(variable, size) != size:
                raise WeightingError(
                    f"variable {variable!r} has {sizes[variable]} levels in one margin and "
                    f"{size} in another",
                    variable=variable,
                )
    columns: dict[str, Ints] = {}
    for variable in sizes:
        if variable not in codes:
            raise WeightingError(f"no codes for margin variable {variable!r}", variable=variable)
        column = np.asarray(codes[variable])
        if column.ndim != 1 or not np.issubdtype(column.dtype, np.integer):
            raise WeightingError(
                f"variable {variable!r}: codes must be a 1-D integer array", variable=variable
            )
        columns[variable] = column.astype(np.int64, copy=False)
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise WeightingError(f"code arrays differ in length: {sorted(lengths)}")
    if not lengths.pop():
        raise WeightingError("there are no respondents")
    return columns, sizes


def check_ranges(columns: Mapping[str, Ints], sizes: Mapping[str, int]) -> None:
    """Raise for the first code outside its variable's levels; negative means missing."""
    for variable, values in columns.items():
        size = sizes[variable]
        bad = np.flatnonzero((values < 0) | (values >= size))
        if not bad.size:
            continue
        row = int(bad[0])
        code = int(values[row])
        why = (
            f"has no level (code {code})"
            if code < 0
            else f"has level code {code}, which is not one of the {size} levels of its margin"
        )
        raise WeightingError(
            f"variable {variable!r}: row {row} {why} ({bad.size} rows in all)",
            variable=variable,
            level="missing" if code < 0 else str(code),
            row=row,
        )


def check_base(base_weights: ArrayLike, n: int) -> Floats:
    """Base weights as floats; each must be positive and finite."""
    base = np.asarray(base_weights, dtype=np.float64)
    if base.shape != (n,):
        raise WeightingError(f"base weights have shape {base.shape}, expected ({n},)")
    bad = np.flatnonzero(~np.isfinite(base) | (base <= 0))
    if bad.size:
        raise WeightingError(
            f"base weight of row {int(bad[0])} is {base[bad[0]]}; base weights must be "
            "positive and finite",
            row=int(bad[0]),
        )
    return base


def check_margins(
    margins: Sequence[Margin], respondents: Sequence[Floats], collapse: CollapseRule
) -> tuple[list[Margin], tuple[Collapse, ...]]:
    """Margins with valid targets, given the respondents in each level of each margin.

    Empty levels are collapsed or refused (see `_empty_levels`); the margins' grand totals
    must agree.
    """
    checked: list[Margin] = []
    collapsed: list[Collapse] = []
    for margin, counts in zip(margins, respondents, strict=True):
        totals = np.asarray(margin.totals, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(totals.ravel()) | (totals.ravel() < 0))
        if bad.size:
            level = margin.level_name(int(bad[0]))
            raise WeightingError(
                f"margin {margin.name!r} level {level!r}: target must be a non-negative number",
                variable=margin.name,
                level=level,
            )
        flat, moves = _empty_levels(margin, totals.ravel().copy(), counts, collapse)
        collapsed.extend(moves)
        checked.append(Margin(margin.variables, flat.reshape(totals.shape), margin.labels))
    _check_totals_agree(checked)
    return checked, tuple(collapsed)


def _empty_levels(
    margin: Margin, totals: Floats, counts: Floats, collapse: CollapseRule
) -> tuple[Floats, list[Collapse]]:
    """Refuse, or with collapse="adjacent" move to the nearest occupied level, empty targets."""
    unwanted = np.flatnonzero((totals == 0) & (counts > 0))
    if unwanted.size:
        level = margin.level_name(int(unwanted[0]))
        raise WeightingError(
            f"margin {margin.name!r} level {level!r} has {int(counts[unwanted[0]])} respondents "
            "but a target of 0",
            variable=margin.name,
            level=level,
        )
    empty = np.flatnonzero((totals > 0) & (counts == 0))
    if empty.size and collapse != "adjacent":
        level = margin.level_name(int(empty[0]))
        raise WeightingError(
            f"margin {margin.name!r} level {level!r} has a target of {totals[empty[0]]:g} but "
            "no respondents; merge it into another level or use collapse='adjacent'",
            variable=margin.name,
            level=level,
        )
    occupied = np.flatnonzero(counts > 0)
    moves = []
    for index in empty:
        distance = np.abs(occupied - index)
        into = int(occupied[np.argmin(distance)])  # argmin takes the earlier level on a tie
        totals[into] += totals[index]
        totals[index] = 0.0
        moves.append(Collapse(margin.name, margin.level_name(int(index)), margin.level_name(into)))
    return totals, moves


def _check_totals_agree(margins: list[Margin]) -> None:
    first = margins[0]
    expected = float(first.totals.sum())
    if expected <= 0:
        raise WeightingError(f"margin {first.name!r} has a total of 0", variable=first.name)
    for margin in margins[1:]:
        total = float(margin.totals.sum())
        if abs(total - expected) > _TOTALS_AGREE * expected:
            raise WeightingError(
                f"margin totals disagree: {first.name!r} adds up to {expected:g} but "
                f"{margin.name!r} adds up to {total:g}",
                variable=margin.name,
            )


def encode_labels(
    labels: Mapping[str, Sequence[object]],
    margins: Mapping[str, Mapping[str, float]],
    *,
    unknown_level: str | Mapping[str, str] | None = None,
) -> tuple[dict[str, Ints], list[Margin]]:
    """Level codes per variable and `Margin`s from labels and `{variable: {level: count}}`.

    A joint margin is keyed "age*sex" with levels "16-24*F". Levels are numbered in the
    order they first appear in `margins`; a combination a margin leaves out has a target of
    0. A respondent whose label is missing (None, NaN or blank) or not a level of the
    margins is an error, unless `unknown_level` (one name, or one per variable) names a
    level that has a target: the respondent is then counted in that level.
    """
    parsed = [(name, _split(name), levels) for name, levels in margins.items()]
    order: dict[str, dict[str, int]] = {}
    for name, variables, levels in parsed:
        for level in levels:
            for variable, part in zip(variables, _level_parts(name, variables, level), strict=True):
                order.setdefault(variable, {}).setdefault(part, len(order[variable]))
    result = []
    for name, variables, levels in parsed:
        totals = np.zeros(tuple(len(order[v]) for v in variables))
        for level, count in levels.items():
            parts = _level_parts(name, variables, level)
            totals[tuple(order[v][p] for v, p in zip(variables, parts, strict=True))] = _count(
                name, level, count
            )
        names = tuple(tuple(order[v]) for v in variables)
        result.append(Margin(variables, totals, names))
    codes = {
        variable: _encode(variable, labels, lookup, _unknown_for(unknown_level, variable))
        for variable, lookup in order.items()
    }
    return codes, result


def _split(name: str) -> tuple[str, ...]:
    variables = tuple(part.strip() for part in name.split("*"))
    if not all(variables) or len(set(variables)) != len(variables):
        raise WeightingError(f"margin name {name!r} is not 'variable' or 'a*b'", variable=name)
    return variables


def _level_parts(name: str, variables: tuple[str, ...], level: str) -> list[str]:
    parts = [part.strip() for part in str(level).split("*")] if len(variables) > 1 else [level]
    if len(parts) != len(variables) or not all(parts):
        raise WeightingError(
            f"margin {name!r}: level {level!r} does not name one level of each of "
            f"{len(variables)} variables",
            variable=name,
            level=str(level),
        )
    return parts


def _count(name: str, level: str, count: object) -> float:
    try:
        value = float(count)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise WeightingError(
            f"margin {name!r} level {level!r}: count {count!r} is not a non-negative number",
            variable=name,
            level=level,
        )
    return value


def _unknown_for(unknown_level: str | Mapping[str, str] | None, variable: str) -> str | None:
    if unknown_level is None or isinstance(unknown_level, str):
        return unknown_level
    return unknown_level.get(variable)


def _is_missing(label: object) -> bool:
    if label is None:
        return True
    if isinstance(label, float):
        return bool(np.isnan(label))
    return isinstance(label, str) and not label.strip()


def _encode(
    variable: str,
    labels: Mapping[str, Sequence[object]],
    lookup: dict[str, int],
    unknown: str | None,
) -> Ints:
    if variable not in labels:
        raise WeightingError(f"no labels for margin variable {variable!r}", variable=variable)
    fallback = lookup.get(unknown, -1) if unknown is not None else -1
    column = labels[variable]
    codes = np.fromiter(
        (
            fallback if _is_missing(label) else lookup.get(str(label).strip(), fallback)
            for label in column
        ),
        dtype=np.int64,
        count=len(column),
    )
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        row = int(bad[0])
        label = column[row]
        level = "missing" if _is_missing(label) else str(label).strip()
        why = (
            "has no level"
            if level == "missing"
            else f"has level {level!r}, which is not in the margins"
        )
        if unknown is not None:
            why += f", and the unknown level {unknown!r} has no target"
        raise WeightingError(
            f"variable {variable!r}: row {row} {why} ({bad.size} rows in all)",
            variable=variable,
            level=level,
            row=row,
        )
    return codes
