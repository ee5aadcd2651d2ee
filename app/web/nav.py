"""The workspace's sections: what the header's navigation and the home page list.

Each page module names its section (`Section`) with the permission that opens it; a
staff member sees the sections their roles open, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import LazyString

from app.clinics.roles import Permission
from app.clinics.scope import StaffScope


@dataclass(frozen=True)
class Section:
    """A part of the workspace, reached from the header."""

    endpoint: str
    label: LazyString | str
    description: LazyString | str
    permission: Permission
    #: The blueprints whose pages belong to this section (for the current marker).
    blueprints: tuple[str, ...] = ()
    #: Place in the navigation: lower first.
    order: int = 50


@dataclass(frozen=True)
class ShownSection:
    endpoint: str
    label: str
    description: str
    current: bool


_sections: list[Section] = []


def add(section: Section) -> Section:
    """Register a section (at import of its page module). Returns it."""
    if all(s.endpoint != section.endpoint for s in _sections):
        _sections.append(section)
        _sections.sort(key=lambda s: (s.order, s.endpoint))
    return section


def sections_for(scope: StaffScope) -> list[ShownSection]:
    """The sections `scope` opens, in order, marking the one of the current page."""
    blueprint = request.blueprint if request else None
    return [
        ShownSection(
            endpoint=s.endpoint,
            label=str(s.label),
            description=str(s.description),
            current=blueprint in s.blueprints,
        )
        for s in _sections
        if scope.may(s.permission)
    ]
