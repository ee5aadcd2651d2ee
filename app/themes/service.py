"""Coding comments: collect them, suggest themes, confirm codes, and the coding queue.

The API the workspace's coding queue is built on:

- `collect_comments(organisation_id, now)` registers every free-text survey answer and
  PALS text of the organisation not registered yet (call it before reading the queue;
  it is cheap when nothing is new).
- `queue(organisation_id, clinic_ids)` → the next comment to code (oldest first) within
  the clinics the staff member may see (None: the whole organisation, organisation-wide
  PALS contacts included), with its masked text and its suggestions, or None.
- `suggest_for(comment_id)` → the themes to pre-tick, with scores, and a sentiment: from
  the organisation's latest model (app.themes.training), or else the keyword baseline.
- `confirm(comment_id, theme_ids, sentiment, actor, now)` records what a person
  confirmed (audited; confirming again replaces the codes).

The comment's text is read from where it was written each time (`comment_text`), so
retention and erasure need not know about themes. `CommentView.masked` is what anyone
but the care team is shown (app.themes.masking).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.results import sources
from app.results.models import SurveyInvitation, SurveyResponse
from app.results.questions import QuestionKind, question_specs
from app.themes import training
from app.themes.codebook import codebook
from app.themes.keywords import keyword_sentiment, keyword_themes
from app.themes.masking import mask
from app.themes.models import CommentSource, PalsContact, Theme, ThemeCode, ThemeComment

KEYWORDS = "keywords"


@dataclass(frozen=True)
class SuggestedTheme:
    theme_id: int
    name: str
    score: float


@dataclass(frozen=True)
class Suggestion:
    """The themes to pre-tick, best first, a sentiment (1-5 or None) and what made them."""

    themes: tuple[SuggestedTheme, ...]
    sentiment: int | None
    by: str


@dataclass(frozen=True)
class CommentView:
    """A comment as the coding queue shows it (masked text only)."""

    id: int
    clinic_id: int | None
    source: CommentSource
    period: str
    locale: str
    masked: str
    suggestion: Suggestion


# -- collecting -------------------------------------------------------------------------


def collect_comments(organisation_id: int, now: datetime) -> int:
    """Register the organisation's new free-text answers and PALS texts; commits.
    Returns how many were added."""
    added = _collect_survey(organisation_id, now) + _collect_pals(organisation_id, now)
    db.session.commit()
    return added


def _collect_survey(organisation_id: int, now: datetime) -> int:
    known = select(ThemeComment.response_id).where(
        ThemeComment.organisation_id == organisation_id, ThemeComment.response_id.is_not(None)
    )
    rows = db.session.execute(
        select(SurveyResponse, SurveyInvitation)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(SurveyInvitation.organisation_id == organisation_id)
        .where(SurveyResponse.id.not_in(known))
    ).all()
    versions = sorted({response.survey_version_id for response, _ in rows})
    free_text = _free_text_questions(versions)
    added = 0
    for response, invitation in rows:
        for question_id in free_text.get(response.survey_version_id, ()):
            answer = (response.answers or {}).get(question_id) or {}
            if answer.get("status") != "answered" or not str(answer.get("value") or "").strip():
                continue
            db.session.add(
                ThemeComment(
                    organisation_id=organisation_id,
                    clinic_id=invitation.clinic_id,
                    source=CommentSource.SURVEY,
                    response_id=response.id,
                    question_id=question_id,
                    period=invitation.period,
                    locale=str(answer.get("language") or response.language),
                    collected_at=now,
                )
            )
            added += 1
    return added


def _free_text_questions(version_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    definitions = sources.definitions(version_ids) or {}
    found: dict[int, tuple[str, ...]] = {}
    for version_id, definition in definitions.items():
        specs = question_specs({version_id: definition})
        found[version_id] = tuple(s.id for s in specs if s.kind is QuestionKind.FREE_TEXT)
    return found


def _collect_pals(organisation_id: int, now: datetime) -> int:
    known = select(ThemeComment.pals_contact_id).where(
        ThemeComment.organisation_id == organisation_id,
        ThemeComment.pals_contact_id.is_not(None),
    )
    contacts = db.session.scalars(
        select(PalsContact).where(
            PalsContact.organisation_id == organisation_id,
            PalsContact.text.is_not(None),
            PalsContact.id.not_in(known),
        )
    ).all()
    for contact in contacts:
        db.session.add(pals_comment(contact, now))
    return len(contacts)


def pals_comment(contact: PalsContact, now: datetime) -> ThemeComment:
    """The comment of a PALS contact (its text may be empty when only themes are known)."""
    return ThemeComment(
        organisation_id=contact.organisation_id,
        clinic_id=contact.clinic_id,
        source=CommentSource.PALS,
        pals_contact_id=contact.id,
        period=f"{contact.contact_date:%Y-%m}",
        locale="en",
        collected_at=now,
    )


# -- reading ----------------------------------------------------------------------------


def get_comment(comment_id: int) -> ThemeComment:
    comment = db.session.get(ThemeComment, comment_id)
    if comment is None:
        raise NotFound(f"no comment {comment_id}")
    return comment


def comment_text(comment: ThemeComment) -> str:
    """The comment's words as written ("" once retention or erasure removed them)."""
    if comment.source is CommentSource.PALS:
        contact = db.session.get(PalsContact, comment.pals_contact_id)
        return (contact.text or "") if contact else ""
    response = db.session.get(SurveyResponse, comment.response_id)
    if response is None or comment.question_id is None:
        return ""
    answer = (response.answers or {}).get(comment.question_id) or {}
    return str(answer.get("value") or "")


def masked_text(comment: ThemeComment) -> str:
    """The comment's words with personal data masked, for anyone but the care team."""
    return mask(comment_text(comment), comment.locale).text


# -- suggesting -------------------------------------------------------------------------


def suggest_for(comment_id: int) -> Suggestion:
    """The themes to pre-tick and a sentiment for one comment, stored with it; commits."""
    comment = get_comment(comment_id)
    suggestion = suggest_texts(comment.organisation_id, [(comment_text(comment), comment.locale)])[
        0
    ]
    comment.suggested = [{"theme_id": t.theme_id, "score": t.score} for t in suggestion.themes]
    comment.suggested_sentiment = suggestion.sentiment
    comment.suggested_by = suggestion.by
    db.session.commit()
    return suggestion


def suggest_texts(organisation_id: int, texts: Sequence[tuple[str, str]]) -> list[Suggestion]:
    """Suggestions for (text, locale) pairs with the organisation's latest model, or the
    keyword baseline when it has none. Reads only."""
    themes = codebook(organisation_id)
    latest = training.latest_model(organisation_id)
    if latest is None:
        return [keyword_suggestion(text, locale, themes) for text, locale in texts]
    version, model = latest
    by_name = {theme.name: theme for theme in themes}
    suggestions = []
    predictions = model.predict([text for text, _ in texts], [locale for _, locale in texts])
    for (text, locale), prediction in zip(texts, predictions, strict=True):
        chosen = tuple(
            SuggestedTheme(by_name[s.name].id, s.name, s.score)
            for s in prediction.themes
            if s.name in by_name
        )
        sentiment = prediction.sentiment
        if sentiment is None:
            sentiment = keyword_sentiment(text, locale)
        suggestions.append(Suggestion(chosen, sentiment, f"model:{version}"))
    return suggestions


def keyword_suggestion(text: str, locale: str, themes: Sequence[Theme]) -> Suggestion:
    """The keyword baseline's suggestion, as theme rows of the code-book."""
    by_key = {theme.key: theme for theme in themes}
    chosen = tuple(
        SuggestedTheme(by_key[s.key].id, by_key[s.key].name, s.score)
        for s in keyword_themes(text, locale)
        if s.key in by_key
    )
    return Suggestion(chosen, keyword_sentiment(text, locale), KEYWORDS)


def _stored_suggestion(comment: ThemeComment) -> Suggestion | None:
    if comment.suggested_by is None:
        return None
    ids = [int(item["theme_id"]) for item in comment.suggested or []]
    names = dict(db.session.execute(select(Theme.id, Theme.name).where(Theme.id.in_(ids))).all())
    return Suggestion(
        tuple(
            SuggestedTheme(
                int(item["theme_id"]), names.get(int(item["theme_id"]), ""), item["score"]
            )
            for item in comment.suggested or []
        ),
        comment.suggested_sentiment,
        comment.suggested_by,
    )


# -- the queue and confirming -----------------------------------------------------------


def queue(
    organisation_id: int, clinic_ids: Collection[int] | None = None, *, after: int | None = None
) -> CommentView | None:
    """The next comment to code: the oldest unconfirmed one with words, within
    `clinic_ids` (None: the whole organisation), and after the comment `after` if given
    (to skip one). Its suggestion is made and kept if it has none yet (commits then)."""
    query = select(ThemeComment).where(
        ThemeComment.organisation_id == organisation_id, ThemeComment.confirmed_at.is_(None)
    )
    if after is not None:
        query = query.where(ThemeComment.id > after)
    if clinic_ids is not None:
        query = query.where(ThemeComment.clinic_id.in_(list(clinic_ids)))
    for comment in db.session.scalars(query.order_by(ThemeComment.id)):
        text = comment_text(comment)
        if not text.strip():
            continue  # its words were purged: nothing to code
        suggestion = _stored_suggestion(comment) or suggest_for(comment.id)
        return CommentView(
            comment.id,
            comment.clinic_id,
            comment.source,
            comment.period,
            comment.locale,
            mask(text, comment.locale).text,
            suggestion,
        )
    return None


def confirm(
    comment_id: int,
    theme_ids: Sequence[int],
    sentiment: int | None,
    actor: Actor,
    now: datetime,
    *,
    clinic_ids: Collection[int] | None = None,
) -> ThemeComment:
    """Record the themes and sentiment a person confirmed for a comment; audited, commits.

    `clinic_ids` are the clinics the person may code for (None: the whole organisation);
    a comment outside them is not found. Raises NotFound for an unknown comment and
    Invalid for a theme outside the organisation's code-book or a sentiment outside 1-5.
    """
    comment = get_comment(comment_id)
    if clinic_ids is not None and comment.clinic_id not in set(clinic_ids):
        raise NotFound(f"no comment {comment_id}")
    allowed = {theme.id for theme in codebook(comment.organisation_id)}
    unknown = sorted(set(theme_ids) - allowed)
    if unknown:
        raise Invalid(f"themes: {unknown[0]} is not in the organisation's code-book")
    if sentiment is not None and not 1 <= sentiment <= 5:
        raise Invalid("sentiment: must be 1 (very positive) to 5 (very negative)")
    set_codes(comment, theme_ids)
    comment.sentiment = sentiment
    comment.confirmed_by_user_id = actor.user_id
    comment.confirmed_at = now
    record(
        AuditAction.CODE_COMMENT,
        actor,
        now,
        record_type="theme_comment",
        record_ids=[comment.id],
        clinic_id=comment.clinic_id,
        organisation_id=comment.organisation_id,
        detail={"themes": len(set(theme_ids)), "suggested_by": comment.suggested_by},
    )
    db.session.commit()
    return comment


def set_codes(comment: ThemeComment, theme_ids: Sequence[int]) -> None:
    """Replace a comment's confirmed codes. Does not commit."""
    if comment.id is not None:
        db.session.execute(delete(ThemeCode).where(ThemeCode.comment_id == comment.id))
    for theme_id in dict.fromkeys(theme_ids):
        db.session.add(ThemeCode(comment_id=comment.id, theme_id=theme_id))
