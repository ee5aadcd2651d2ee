"""The demo's themes: after the month, what the simulated patients wrote is coded and
the summary gains the top themes with their weighted shares.

Staff would confirm each comment in the coding queue; the demo stands in for them. It
trains the organisation's model from a seeded labelled share (comments written by
`app.simulator.comments` with their true themes, as if a team had coded a first batch),
then confirms the model's suggestions for every comment of the month at once. The shares
are those the themes page shows (app.themes.shares): weighted to everyone invited, with
95% intervals, themes from fewer than 10 coded answers left out.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.simulator.comments import generate_comments
from app.themes import service
from app.themes.codebook import codebook
from app.themes.model import Example
from app.themes.models import ThemeComment
from app.themes.shares import theme_shares
from app.themes.training import train_organisation

#: How many labelled comments the seeded share holds.
LABELLED = 1500
#: How many themes the summary lists.
TOP = 5


def _labelled_share(organisation_id: int, seed: int) -> list[Example]:
    names = {theme.key: theme.name for theme in codebook(organisation_id)}
    return [
        Example(c.text, tuple(names[key] for key in c.themes), c.sentiment, c.locale)
        for c in generate_comments(LABELLED, seed=seed + 1000)
    ]


def code_comments(organisation_id: int, seed: int, now: datetime) -> int:
    """Collect the organisation's comments, train its model on the seeded labelled share
    and confirm the model's suggestions for every comment waiting. Commits; returns how
    many comments were coded."""
    service.collect_comments(organisation_id, now)
    train_organisation(organisation_id, now, _labelled_share(organisation_id, seed), seed=seed)
    waiting = db.session.scalars(
        select(ThemeComment)
        .where(
            ThemeComment.organisation_id == organisation_id,
            ThemeComment.confirmed_at.is_(None),
        )
        .order_by(ThemeComment.id)
    ).all()
    texts = [(service.comment_text(c), c.locale) for c in waiting]
    suggestions = service.suggest_texts(organisation_id, texts)
    for comment, suggestion in zip(waiting, suggestions, strict=True):
        service.set_codes(comment, [t.theme_id for t in suggestion.themes])
        comment.sentiment = suggestion.sentiment
        comment.suggested_by = suggestion.by
        comment.confirmed_at = now
    db.session.commit()
    return len(waiting)


def _period(organisation_id: int) -> str | None:
    periods = Counter(
        db.session.scalars(
            select(ThemeComment.period).where(ThemeComment.organisation_id == organisation_id)
        )
    )
    return periods.most_common(1)[0][0] if periods else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarise_themes(organisation_id: int, survey: str, seed: int, now: datetime) -> dict[str, Any]:
    """Code the month's comments and return the summary's `themes` (the top themes with
    weighted shares and intervals) and `comments_coded`."""
    coded = code_comments(organisation_id, seed, now)
    period = _period(organisation_id)
    shares = theme_shares(survey, "organisation", organisation_id, period, now) if period else []
    top = [
        {
            "name": share.name,
            "share": _rounded(share.estimate),
            "ci": [_rounded(share.ci_low), _rounded(share.ci_high)],
        }
        for share in shares
        if not share.suppressed
    ][:TOP]
    return {"comments_coded": coded, "themes": top}
