"""Reads for the workspace's "you said, we did" pages: entries and quotes within the
clinics (and whole organisations) a staff member's scope gives."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.results.questions import SUPPRESS_BELOW
from app.themes.models import CommentSource, ThemeComment
from app.themes.service import masked_text
from app.yousaid.models import PublishedQuote, YouSaidEntry
from app.yousaid.service import respondents_in

#: How many comments the quote page offers at a time.
CANDIDATES = 20


@dataclass(frozen=True)
class Candidate:
    """A free-text answer that could be quoted: its masked words only."""

    comment_id: int
    clinic_id: int
    period: str
    locale: str
    masked: str
    #: Whether its clinic's month has enough respondents for a quote to be published.
    enough: bool


def entries_in(
    clinic_ids: Collection[int], organisation_ids: Collection[int]
) -> list[YouSaidEntry]:
    """Entries of these clinics, and organisation-wide entries of these organisations,
    newest first."""
    return list(
        db.session.scalars(
            select(YouSaidEntry)
            .where(
                or_(
                    YouSaidEntry.clinic_id.in_(sorted(clinic_ids)),
                    and_(
                        YouSaidEntry.clinic_id.is_(None),
                        YouSaidEntry.organisation_id.in_(sorted(organisation_ids)),
                    ),
                )
            )
            .order_by(YouSaidEntry.updated_at.desc(), YouSaidEntry.id.desc())
        )
    )


def quotes_in(clinic_ids: Collection[int]) -> list[PublishedQuote]:
    """The live (not withdrawn) quotes of these clinics, newest first."""
    return list(
        db.session.scalars(
            select(PublishedQuote)
            .where(
                PublishedQuote.clinic_id.in_(sorted(clinic_ids)),
                PublishedQuote.withdrawn_at.is_(None),
            )
            .order_by(PublishedQuote.approved_at.desc(), PublishedQuote.id.desc())
        )
    )


def candidates_in(clinic_ids: Collection[int], limit: int = CANDIDATES) -> list[Candidate]:
    """The newest free-text survey answers of these clinics not quoted now, masked."""
    live = select(PublishedQuote.comment_id).where(PublishedQuote.withdrawn_at.is_(None))
    comments = db.session.scalars(
        select(ThemeComment)
        .where(
            ThemeComment.source == CommentSource.SURVEY,
            ThemeComment.clinic_id.in_(sorted(clinic_ids)),
            ThemeComment.id.not_in(live),
        )
        .order_by(ThemeComment.collected_at.desc(), ThemeComment.id.desc())
        .limit(limit)
    )
    sizes: dict[tuple[int, str], int] = {}
    found = []
    for comment in comments:
        assert comment.clinic_id is not None
        key = (comment.clinic_id, comment.period)
        if key not in sizes:
            sizes[key] = respondents_in(*key)
        text = masked_text(comment).strip()
        if text:
            found.append(
                Candidate(
                    comment.id,
                    comment.clinic_id,
                    comment.period,
                    comment.locale,
                    text,
                    sizes[key] >= SUPPRESS_BELOW,
                )
            )
    return found
