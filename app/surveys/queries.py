"""Reads about surveys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select

from app.extensions import db
from app.surveys import texts
from app.surveys.models import SurveyVersion
from app.surveys.service import BUILTIN


def survey_slugs(clinic_id: int) -> list[str]:
    """The surveys the clinic can send after visits: the Friends and Family Test, every
    built-in survey stored, and the clinic's own, by slug."""
    stored = db.session.scalars(
        select(SurveyVersion.slug)
        .where(
            or_(SurveyVersion.owner == BUILTIN, SurveyVersion.clinic_id == clinic_id),
        )
        .distinct()
    )
    return sorted({str(texts.FFT["slug"]), *stored})


def definitions_by_version(version_ids: Sequence[int]) -> dict[int, Mapping[str, Any]]:
    """The stored definition of each of these survey versions, by version id (what the
    results store reads to estimate every question)."""
    if not version_ids:
        return {}
    rows = db.session.execute(
        select(SurveyVersion.id, SurveyVersion.definition).where(
            SurveyVersion.id.in_(sorted(set(version_ids)))
        )
    )
    return dict(rows.all())


def survey_titles(clinic_ids: Sequence[int]) -> dict[str, Any]:
    """The title of each survey the built-in set and these clinics have, by slug: the
    latest version's, as stored (text, or a mapping from locale to text)."""
    rows = db.session.execute(
        select(SurveyVersion.slug, SurveyVersion.definition["title"])
        .where(
            or_(
                SurveyVersion.owner == BUILTIN, SurveyVersion.clinic_id.in_(sorted(set(clinic_ids)))
            )
        )
        .order_by(SurveyVersion.version)
    )
    return {slug: title for slug, title in rows if title is not None}
