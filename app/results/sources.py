"""Where the results store finds survey definitions.

Surveys sit above results in the layers, so results cannot read survey versions
themselves. At start-up `app.wiring` registers a reader (version ids → the definitions
as stored); a snapshot asks it for the versions its cohort answered. Without a reader
the snapshot estimates the Friends and Family Test only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: Survey version ids → each version's definition, as stored (reads only).
DefinitionReader = Callable[[Sequence[int]], Mapping[int, Mapping[str, Any]]]

_readers: dict[str, DefinitionReader] = {}


def register_definitions(reader: DefinitionReader) -> None:
    """Register how survey definitions are read (registering again replaces it)."""
    _readers["definitions"] = reader


def definitions(version_ids: Sequence[int]) -> dict[int, Mapping[str, Any]] | None:
    """The definitions of these survey versions, or None when no reader is registered."""
    reader = _readers.get("definitions")
    if reader is None:
        return None
    return dict(reader(sorted(set(version_ids)))) if version_ids else {}
