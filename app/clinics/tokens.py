"""API tokens: what each may do (scopes), their lifecycle, and finding one from a request.

A token belongs to one clinic, or to an organisation (every clinic of it). It is shown
once, when it is made, and only its SHA-256 is stored. A token made without scopes has
all of them, as the first tokens did. Expired and revoked tokens authenticate nothing.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.audit.models import AuditAction
from app.audit.service import SYSTEM, Actor, record
from app.clinics.models import ApiToken, Clinic
from app.clinics.queries import hash_token
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db


class Scope(enum.StrEnum):
    PATIENTS_WRITE = "patients:write"  # import and update patients
    PATIENTS_READ = "patients:read"  # read patients' language, channel and consent
    APPOINTMENTS_WRITE = "appointments:write"  # import, move and cancel appointments
    APPOINTMENTS_READ = "appointments:read"  # read appointments, reminders and answers
    OUTCOMES_WRITE = "outcomes:write"  # record attended, DNA and cancellations
    GOALS_WRITE = "goals:write"  # record patients' goals
    RESULTS_READ = "results:read"  # weighted results
    ATTENDANCE_READ = "attendance:read"  # DNA reports
    EVENTS_READ = "events:read"  # subscribe to events


ALL_SCOPES: tuple[Scope, ...] = tuple(Scope)
TOKEN_PREFIX = "ws_"  # noqa: S105 (the prefix, not a secret)


class TokenState(enum.StrEnum):
    LIVE = "live"  # authenticates requests
    EXPIRED = "expired"  # past its expiry: authenticates nothing
    REVOKED = "revoked"  # revoked: authenticates nothing, whatever its expiry


def state_of(token: ApiToken, now: datetime) -> TokenState:
    """Whether `token` is live, expired or revoked at `now`."""
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return TokenState.EXPIRED
    return TokenState.LIVE


@dataclass(frozen=True)
class Issued:
    """A token just made: its id, and the secret, shown once."""

    id: int
    secret: str


def create_token(
    *,
    label: str,
    clock: Clock,
    clinic_id: int | None = None,
    organisation_id: int | None = None,
    scopes: Sequence[str] = (),
    expires_at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Issued:
    """Make a token for one clinic or one organisation. Commits.

    Refuses (Invalid) a token for both or neither, an unknown scope, an expiry in the
    past and an empty label.
    """
    if (clinic_id is None) == (organisation_id is None):
        raise Invalid("a token is for one clinic or one organisation")
    label = label.strip()
    if not label or len(label) > 100 or not label.isprintable():
        raise Invalid("a token needs a name of 1 to 100 printable characters")
    unknown = sorted(set(scopes) - {scope.value for scope in Scope})
    if unknown:
        raise Invalid(f"unknown scope {unknown[0]!r}; one of: {', '.join(ALL_SCOPES)}")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise Invalid("the expiry is in the past")
    if clinic_id is not None:
        clinic = db.session.get(Clinic, clinic_id)
        if clinic is None:
            raise NotFound(f"no clinic with id {clinic_id}")
        organisation_id = clinic.organisation_id
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        clinic_id=clinic_id,
        organisation_id=organisation_id,
        token_hash=hash_token(secret),
        label=label,
        scopes=sorted(set(scopes) or {scope.value for scope in Scope}),
        expires_at=expires_at,
        created_at=now,
    )
    db.session.add(token)
    db.session.flush()
    record(
        AuditAction.CREATE_TOKEN,
        actor,
        now,
        record_type="api_token",
        record_ids=[token.id],
        clinic_id=clinic_id,
        organisation_id=organisation_id,
        detail={"scopes": len(token.scopes)},
    )
    db.session.commit()
    return Issued(token.id, secret)


def revoke_token(token_id: int, clock: Clock, actor: Actor = SYSTEM) -> ApiToken:
    """Revoke a token; revoking it again changes nothing. Commits. NotFound if none."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record(
            AuditAction.REVOKE_TOKEN,
            actor,
            token.revoked_at,
            record_type="api_token",
            record_ids=[token.id],
            clinic_id=token.clinic_id,
            organisation_id=token.organisation_id,
        )
        db.session.commit()
    return token


def list_tokens(organisation_ids: Sequence[int] | None = None) -> list[ApiToken]:
    """Tokens, newest first; of these organisations only, when given."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if organisation_ids is not None:
        query = query.where(ApiToken.organisation_id.in_(list(organisation_ids)))
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from: a live token, for this clinic."""

    token_id: int
    clinic: Clinic
    scopes: frozenset[str]

    def may(self, scope: Scope) -> bool:
        return scope.value in self.scopes


def find_caller(clinic_slug: str, secret: str, now: datetime) -> Caller | None:
    """The caller whose token `secret` is live and covers the clinic `clinic_slug`
    (a clinic token for it, or a token of its organisation); None otherwise."""
    row = db.session.execute(
        select(ApiToken, Clinic)
        .join(
            Clinic,
            or_(
                Clinic.id == ApiToken.clinic_id,
                (ApiToken.clinic_id.is_(None))
                & (Clinic.organisation_id == ApiToken.organisation_id),
            ),
        )
        .where(
            Clinic.slug == clinic_slug,
            ApiToken.token_hash == hash_token(secret),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    ).first()
    if row is None:
        return None
    token, clinic = row
    return Caller(token.id, clinic, frozenset(token.scopes))
