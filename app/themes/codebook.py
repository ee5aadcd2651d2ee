"""The code-book in the database: the framework's codes, and codes organisations add.

The framework's codes are written from `framework.json` the first time anything asks for
the code-book (and again when a new framework version adds codes); a code the framework
no longer has stays, inactive, so old codings keep their meaning. An organisation's code
book is the framework's active codes followed by its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.core.errors import Invalid
from app.extensions import db
from app.themes.framework import framework, name_key
from app.themes.models import Theme

MAX_NAME = 120
#: The prefix of an organisation's own codes' keys ("org-12-waiting-room-signs").
ORG_KEY = "org-{organisation_id}-"


def load_codebook() -> int:
    """Write the framework's codes that are not in the database yet; mark those it no
    longer has inactive. Returns how many were added. Does not commit."""
    shipped = framework()
    existing = {
        theme.key: theme
        for theme in db.session.scalars(select(Theme).where(Theme.organisation_id.is_(None)))
    }
    added = 0
    for code in shipped.themes:
        theme = existing.get(code.key)
        if theme is None:
            db.session.add(
                Theme(
                    organisation_id=None,
                    key=code.key,
                    name=code.name,
                    category=code.category,
                    framework_version=shipped.version,
                    active=True,
                )
            )
            added += 1
        else:
            theme.name, theme.category, theme.active = code.name, code.category, True
            theme.framework_version = shipped.version
    keys = {code.key for code in shipped.themes}
    for key, theme in existing.items():
        if key not in keys:
            theme.active = False
    if added:
        db.session.flush()
    return added


def codebook(organisation_id: int) -> list[Theme]:
    """The active codes an organisation codes with: the framework's, then its own."""
    if db.session.scalar(select(Theme.id).where(Theme.organisation_id.is_(None)).limit(1)) is None:
        load_codebook()
    themes = db.session.scalars(
        select(Theme)
        .where(
            Theme.active.is_(True),
            or_(Theme.organisation_id.is_(None), Theme.organisation_id == organisation_id),
        )
        .order_by(Theme.organisation_id.is_not(None), Theme.id)
    )
    return list(themes)


def name_resolver(themes: list[Theme]) -> Callable[[str], Theme | None]:
    """Finds a theme of `themes` by name as people type it (app.themes.framework.name_key)."""
    by_name = {name_key(theme.name): theme for theme in themes}
    return lambda name: by_name.get(name_key(name))


def add_code(organisation_id: int, name: str, category: str, actor: Actor, now: datetime) -> Theme:
    """Add a code of the organisation's own to its code-book; audited, commits.

    Raises Invalid for an empty or over-long name, or one the code-book already has.
    """
    name, category = " ".join(name.split()), " ".join(category.split()) or "Other"
    if not name:
        raise Invalid("name: required")
    if len(name) > MAX_NAME or len(category) > MAX_NAME:
        raise Invalid(f"name and category: at most {MAX_NAME} characters")
    if name_resolver(codebook(organisation_id))(name) is not None:
        raise Invalid(f"name: the code-book already has {name!r}")
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40] or "code"
    key = ORG_KEY.format(organisation_id=organisation_id) + slug
    clash = db.session.scalar(
        select(Theme.id).where(Theme.organisation_id == organisation_id, Theme.key == key)
    )
    if clash is not None:
        key = f"{key}-{clash}"
    theme = Theme(
        organisation_id=organisation_id,
        key=key,
        name=name,
        category=category,
        framework_version=None,
        active=True,
    )
    db.session.add(theme)
    db.session.flush()
    record(
        AuditAction.EDIT_CODEBOOK,
        actor,
        now,
        record_type="theme",
        record_ids=[theme.id],
        organisation_id=organisation_id,
    )
    db.session.commit()
    return theme
