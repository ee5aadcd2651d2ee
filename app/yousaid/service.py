""" "You said, we did": writing entries, approving and withdrawing quotes.

Every change is in the audit log (ids only). Callers pass ids they have already found in
the staff member's scope; these functions check the rules that hold whoever asks:

- an entry's text is required and bounded, its themes are codes of its organisation's
  code-book and its quotes are live quotes of its organisation (of its clinic, for a
  clinic's entry);
- a quote is a free-text survey answer, masked (app.themes.masking) before anyone
  approves it, from a clinic's month with at least 10 respondents, never shown whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.results.models import SurveyInvitation, SurveyResponse
from app.results.questions import SUPPRESS_BELOW
from app.themes.codebook import codebook
from app.themes.models import CommentSource
from app.themes.service import get_comment, masked_text
from app.yousaid.models import EntryStatus, PublishedQuote, YouSaidEntry

#: The longest "you said" or "we did" text.
MAX_TEXT = 1000


@dataclass(frozen=True)
class EntryInput:
    """An entry as a form or a caller gives it."""

    said: str
    did: str
    status: EntryStatus
    theme_ids: Sequence[int] = ()
    quote_ids: Sequence[int] = ()
    started_on: date | None = None
    done_on: date | None = None


def create_entry(
    organisation_id: int, clinic_id: int | None, given: EntryInput, actor: Actor, now: datetime
) -> YouSaidEntry:
    """A new entry of the organisation (of one of its clinics when `clinic_id` is given);
    commits. Raises Invalid naming the field that breaks a rule."""
    _check(organisation_id, clinic_id, given)
    entry = YouSaidEntry(
        organisation_id=organisation_id,
        clinic_id=clinic_id,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    _fill(entry, given)
    db.session.add(entry)
    db.session.flush()
    _audit(entry, actor, now, "create")
    db.session.commit()
    return entry


def update_entry(entry_id: int, given: EntryInput, actor: Actor, now: datetime) -> YouSaidEntry:
    """Change an entry's texts, status, dates, themes and quotes; commits."""
    entry = get_entry(entry_id)
    _check(entry.organisation_id, entry.clinic_id, given)
    _fill(entry, given)
    entry.updated_at = now
    _audit(entry, actor, now, "update")
    db.session.commit()
    return entry


def get_entry(entry_id: int) -> YouSaidEntry:
    entry = db.session.get(YouSaidEntry, entry_id)
    if entry is None:
        raise NotFound(f"no entry {entry_id}")
    return entry


def _fill(entry: YouSaidEntry, given: EntryInput) -> None:
    entry.said = given.said.strip()
    entry.did = given.did.strip()
    entry.status = given.status
    entry.theme_ids = sorted(set(given.theme_ids))
    entry.quote_ids = sorted(set(given.quote_ids))
    entry.started_on = given.started_on
    entry.done_on = given.done_on


def _check(organisation_id: int, clinic_id: int | None, given: EntryInput) -> None:
    for field, text in (("said", given.said), ("did", given.did)):
        if not text.strip():
            raise Invalid(f"{field}: required")
        if len(text) > MAX_TEXT:
            raise Invalid(f"{field}: at most {MAX_TEXT} characters")
    if given.started_on and given.done_on and given.done_on < given.started_on:
        raise Invalid("done_on: before started_on")
    known = {theme.id for theme in codebook(organisation_id)}
    unknown = sorted(set(given.theme_ids) - known)
    if unknown:
        raise Invalid(f"theme_ids: not codes of this organisation: {unknown}")
    live = {quote.id for quote in live_quotes(organisation_id, clinic_id)}
    foreign = sorted(set(given.quote_ids) - live)
    if foreign:
        raise Invalid(f"quote_ids: not approved quotes of this place: {foreign}")


def live_quotes(organisation_id: int, clinic_id: int | None = None) -> list[PublishedQuote]:
    """The organisation's quotes that are not withdrawn (one clinic's when given)."""
    query = select(PublishedQuote).where(
        PublishedQuote.organisation_id == organisation_id, PublishedQuote.withdrawn_at.is_(None)
    )
    if clinic_id is not None:
        query = query.where(PublishedQuote.clinic_id == clinic_id)
    return list(db.session.scalars(query.order_by(PublishedQuote.id)))


def _audit(entry: YouSaidEntry, actor: Actor, now: datetime, change: str) -> None:
    record(
        AuditAction.EDIT_YOU_SAID,
        actor,
        now,
        record_type="you_said_entry",
        record_ids=[entry.id],
        clinic_id=entry.clinic_id,
        organisation_id=entry.organisation_id,
        detail={"change": change, "status": entry.status.value, "quotes": len(entry.quote_ids)},
    )


# -- quotes -----------------------------------------------------------------------------


def respondents_in(clinic_id: int, period: str) -> int:
    """How many answered a survey of the clinic in the month `period`: the group a quote
    of that month would be published from."""
    return int(
        db.session.scalar(
            select(func.count(SurveyResponse.id))
            .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(SurveyInvitation.clinic_id == clinic_id, SurveyInvitation.period == period)
        )
        or 0
    )


def approve_quote(comment_id: int, actor: Actor, now: datetime) -> PublishedQuote:
    """Publish a free-text survey answer's masked words; commits. Approving a withdrawn
    quote again publishes it as it is masked now. Raises Invalid for a PALS text, an
    empty answer, or a month of fewer than 10 respondents in its clinic."""
    comment = get_comment(comment_id)
    if comment.source is not CommentSource.SURVEY or comment.clinic_id is None:
        raise Invalid("comment: only a survey answer of a clinic can be quoted")
    text = masked_text(comment).strip()
    if not text:
        raise Invalid("comment: the answer has no words left to quote")
    if respondents_in(comment.clinic_id, comment.period) < SUPPRESS_BELOW:
        raise Invalid(f"comment: its clinic had fewer than {SUPPRESS_BELOW} respondents that month")
    quote = db.session.scalar(select(PublishedQuote).where(PublishedQuote.comment_id == comment.id))
    if quote is None:
        quote = PublishedQuote(
            organisation_id=comment.organisation_id,
            clinic_id=comment.clinic_id,
            comment_id=comment.id,
        )
        db.session.add(quote)
    quote.text, quote.locale, quote.period = text, comment.locale, comment.period
    quote.approved_by_user_id, quote.approved_at = actor.user_id, now
    quote.withdrawn_by_user_id, quote.withdrawn_at = None, None
    db.session.flush()
    _audit_quote(AuditAction.APPROVE_QUOTE, quote, actor, now)
    db.session.commit()
    return quote


def withdraw_quote(quote_id: int, actor: Actor, now: datetime) -> PublishedQuote:
    """Take a quote off the public page (and out of every entry that shows it); commits."""
    quote = db.session.get(PublishedQuote, quote_id)
    if quote is None:
        raise NotFound(f"no quote {quote_id}")
    if quote.withdrawn_at is None:
        quote.withdrawn_by_user_id, quote.withdrawn_at = actor.user_id, now
        _audit_quote(AuditAction.WITHDRAW_QUOTE, quote, actor, now)
        db.session.commit()
    return quote


def _audit_quote(action: AuditAction, quote: PublishedQuote, actor: Actor, now: datetime) -> None:
    record(
        action,
        actor,
        now,
        record_type="published_quote",
        record_ids=[quote.id, quote.comment_id],
        clinic_id=quote.clinic_id,
        organisation_id=quote.organisation_id,
    )
