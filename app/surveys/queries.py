"""Reads about surveys."""

from __future__ import annotations

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
