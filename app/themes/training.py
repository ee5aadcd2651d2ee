"""Training an organisation's model from its confirmed codes, and loading the latest.

`train_organisation` reads every comment a person confirmed (and, if given, labelled
comments from a file), fits a model (app.themes.learning) over the organisation's code
book and stores it as a new version; the suggestions kept for comments still waiting in
the queue are dropped, so the queue asks the new model. The RQ job
`workers.jobs.train_themes` runs it with the organisation's id only (queued by
`request_training`); `wesaid themes train --org` runs it at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.core.errors import Invalid
from app.extensions import db
from app.queueing import JobName, JobQueue
from app.results.models import SurveyResponse
from app.themes.codebook import codebook
from app.themes.learning import train
from app.themes.model import Example, ThemeModel
from app.themes.models import (
    CommentSource,
    PalsContact,
    Theme,
    ThemeCode,
    ThemeComment,
    ThemeModelVersion,
)

#: Models kept loaded, by stored version id (each is a few MB of arrays at most).
_LOADED_MAX = 8
_loaded: OrderedDict[int, ThemeModel] = OrderedDict()


def confirmed_examples(organisation_id: int) -> list[Example]:
    """Every confirmed comment of the organisation that still has its words."""
    comments = db.session.scalars(
        select(ThemeComment)
        .where(
            ThemeComment.organisation_id == organisation_id,
            ThemeComment.confirmed_at.is_not(None),
        )
        .order_by(ThemeComment.id)
    ).all()
    names: dict[int, list[str]] = {}
    codes = db.session.execute(
        select(ThemeCode.comment_id, Theme.name)
        .join(Theme, Theme.id == ThemeCode.theme_id)
        .join(ThemeComment, ThemeComment.id == ThemeCode.comment_id)
        .where(ThemeComment.organisation_id == organisation_id)
    ).all()
    for comment_id, name in codes:
        names.setdefault(comment_id, []).append(name)
    texts = _texts(comments)
    return [
        Example(texts[c.id], tuple(names.get(c.id, ())), c.sentiment, c.locale)
        for c in comments
        if texts.get(c.id, "").strip()
    ]


def _texts(comments: Sequence[ThemeComment]) -> dict[int, str]:
    pals_ids = [c.pals_contact_id for c in comments if c.source is CommentSource.PALS]
    response_ids = [c.response_id for c in comments if c.source is CommentSource.SURVEY]
    pals = dict(
        db.session.execute(
            select(PalsContact.id, PalsContact.text).where(PalsContact.id.in_(pals_ids))
        ).all()
    )
    answers: dict[int, dict[str, Any]] = dict(
        db.session.execute(
            select(SurveyResponse.id, SurveyResponse.answers).where(
                SurveyResponse.id.in_(response_ids)
            )
        ).all()
    )
    texts: dict[int, str] = {}
    for c in comments:
        if c.source is CommentSource.PALS:
            texts[c.id] = pals.get(c.pals_contact_id or 0) or ""
        else:
            answer = (answers.get(c.response_id or 0) or {}).get(c.question_id or "") or {}
            texts[c.id] = str(answer.get("value") or "")
    return texts


def train_organisation(
    organisation_id: int, now: datetime, extra: Sequence[Example] = (), *, seed: int = 0
) -> ThemeModelVersion:
    """Fit and store a new model version from the organisation's confirmed codes and
    `extra` labelled comments; commits. Raises Invalid when there is nothing to learn."""
    labels = [theme.name for theme in codebook(organisation_id)]
    examples = confirmed_examples(organisation_id) + list(extra)
    try:
        model = train(examples, labels, seed=seed)
    except ValueError as exc:
        raise Invalid(f"cannot train: {exc}") from None
    version = (
        db.session.scalar(
            select(func.max(ThemeModelVersion.version)).where(
                ThemeModelVersion.organisation_id == organisation_id
            )
        )
        or 0
    ) + 1
    stored = ThemeModelVersion(
        organisation_id=organisation_id,
        version=version,
        trained_at=now,
        comments=len(examples),
        metrics=model.metrics,
        content=model.to_bytes(),
    )
    db.session.add(stored)
    # Comments waiting in the queue get the new model's suggestions when next shown.
    db.session.execute(
        update(ThemeComment)
        .where(
            ThemeComment.organisation_id == organisation_id,
            ThemeComment.confirmed_at.is_(None),
        )
        .values(suggested=None, suggested_sentiment=None, suggested_by=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return stored


def request_training(organisation_id: int, queue: JobQueue) -> None:
    """Queue the training of the organisation's model (`workers.jobs.train_themes`)."""
    queue.enqueue(JobName.TRAIN_THEMES, organisation_id)


def latest_model(organisation_id: int) -> tuple[int, ThemeModel] | None:
    """(version, model) of the organisation's latest model, or None if it has none."""
    row = db.session.execute(
        select(ThemeModelVersion.id, ThemeModelVersion.version)
        .where(ThemeModelVersion.organisation_id == organisation_id)
        .order_by(ThemeModelVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    stored_id, version = row
    model = _loaded.get(stored_id)
    if model is None:
        content = db.session.scalar(
            select(ThemeModelVersion.content).where(ThemeModelVersion.id == stored_id)
        )
        assert content is not None
        model = ThemeModel.from_bytes(content)
        _loaded[stored_id] = model
        while len(_loaded) > _LOADED_MAX:
            _loaded.popitem(last=False)
    _loaded.move_to_end(stored_id)
    return version, model
