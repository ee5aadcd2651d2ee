"""Idempotency keys of API requests: a retried POST gets the first answer, once written.

A client that sends `Idempotency-Key: <key>` with a POST may send it again after a
timeout. The first request claims the key for its token by inserting a row; the unique
constraint on (token, key) means that of two requests at once only one claims it, the
other finds it taken. The claim is committed before the request's work starts and the
answer is stored when it ends, so a retry either replays the answer, or is told the
first is still in progress. A key is kept 24 hours. A claim left unanswered for 10
minutes (the process died mid-request) may be taken over by a retry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.clinics.models import IdempotentRequest
from app.extensions import db

KEPT_FOR = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=10)


class Claim(enum.StrEnum):
    CLAIMED = "claimed"  # the key is this request's: do the work, then `answer`
    REPLAY = "replay"  # answered before: send the stored answer
    MISMATCH = "mismatch"  # the key was used for a different request
    IN_PROGRESS = "in_progress"  # the first request with the key is still being answered


@dataclass(frozen=True)
class Answer:
    """A stored answer."""

    status: int
    content_type: str
    body: str


@dataclass(frozen=True)
class Claimed:
    """What became of a claim; `answer` is set for REPLAY, `claim_id` for CLAIMED."""

    outcome: Claim
    claim_id: int | None = None
    answer: Answer | None = None


def claim(token_id: int, key: str, fingerprint: str, now: datetime) -> Claimed:
    """Claim `key` for a request of `token_id` whose fingerprint is `fingerprint`. Commits."""
    db.session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.token_id == token_id,
            IdempotentRequest.key == key,
            IdempotentRequest.created_at <= now - KEPT_FOR,
        )
    )
    row = IdempotentRequest(token_id=token_id, key=key, fingerprint=fingerprint, created_at=now)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    else:
        return Claimed(Claim.CLAIMED, claim_id=row.id)
    return _taken(token_id, key, fingerprint, now)


def _taken(token_id: int, key: str, fingerprint: str, now: datetime) -> Claimed:
    found = db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.token_id == token_id, IdempotentRequest.key == key
        )
    )
    if found is None:  # answered with a server error and released in the meantime
        return claim(token_id, key, fingerprint, now)
    if found.fingerprint != fingerprint:
        return Claimed(Claim.MISMATCH)
    if found.status is not None:
        answer = Answer(found.status, found.content_type or "application/json", found.body or "")
        return Claimed(Claim.REPLAY, answer=answer)
    if found.created_at <= now - ABANDONED_AFTER and _take_over(found.id, found.created_at, now):
        return Claimed(Claim.CLAIMED, claim_id=found.id)
    return Claimed(Claim.IN_PROGRESS)


def _take_over(claim_id: int, created_at: datetime, now: datetime) -> bool:
    # Compare-and-set: of two retries of an abandoned claim, one takes it.
    taken = db.session.execute(
        update(IdempotentRequest)
        .where(
            IdempotentRequest.id == claim_id,
            IdempotentRequest.created_at == created_at,
            IdempotentRequest.status.is_(None),
        )
        .values(created_at=now)
    )
    db.session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def answer(claim_id: int, stored: Answer) -> None:
    """Store the answer of the claimed request. Commits."""
    db.session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.id == claim_id)
        .values(status=stored.status, content_type=stored.content_type, body=stored.body)
    )
    db.session.commit()


def release(claim_id: int) -> None:
    """Give up a claim whose request failed on the server's side, so a retry runs it.
    Commits."""
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.id == claim_id))
    db.session.commit()


def purge_expired(now: datetime) -> int:
    """Remove keys older than 24 hours; the number removed. Commits."""
    removed = db.session.execute(
        delete(IdempotentRequest).where(IdempotentRequest.created_at <= now - KEPT_FOR)
    )
    db.session.commit()
    return int(getattr(removed, "rowcount", 0) or 0)
