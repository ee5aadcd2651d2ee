"""Organisations (trusts), clinics (the tenants), their API tokens, and the staff who sign
in to the workspace with their roles."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base


class Organisation(Base):
    """A trust or provider that runs one or more clinics."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Message texts, replies and free-text answers older than this many months are
    #: purged every night (app.privacy).
    retention_months: Mapped[int] = mapped_column(default=13, server_default="13")
    created_at: Mapped[datetime]

    clinics: Mapped[list[Clinic]] = relationship(back_populates="organisation")


class Clinic(Base):
    """A service that sends messages: every patient-facing row carries its id."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: IANA zone for appointment times given without an offset and for quiet hours.
    timezone: Mapped[str] = mapped_column(String(64))
    #: E.164 long code, or a Messaging Service sid (MG…). Inbound replies find their
    #: clinic from the number they were sent to, so a number sender is unique.
    sender: Mapped[str] = mapped_column(String(64), unique=True)
    #: No message starts in [quiet_start, quiet_end) local time; equal means none.
    quiet_start: Mapped[time] = mapped_column(Time)
    quiet_end: Mapped[time] = mapped_column(Time)
    default_locale: Mapped[str] = mapped_column(String(16))
    #: Reminder rules: [{"name": "7d", "offset_minutes": 10080, "delivery": "10:00"}, ...]
    reminder_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: A reminder still pending this long before the appointment is dropped.
    expiry_margin_minutes: Mapped[int] = mapped_column(default=120)
    #: Region codes (other than the UK) whose mobiles this clinic may text.
    allowed_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The survey sent after an attended appointment ("" for none), and its limits.
    survey_slug: Mapped[str] = mapped_column(String(64), default="fft", server_default="fft")
    survey_delay_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    #: How long after it is due an invitation may still go out.
    survey_window_minutes: Mapped[int] = mapped_column(default=1440, server_default="1440")
    #: A patient is asked at most once in this many days by this clinic.
    survey_interval_days: Mapped[int] = mapped_column(default=30, server_default="30")
    #: An open survey conversation ends unanswered after this many hours.
    survey_session_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    #: Pathways never surveyed (for example "pregnancy-loss").
    survey_suppressed_pathways: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Approved WhatsApp templates (Twilio Content SIDs) by message kind, for use
    #: outside the 24-hour window.
    whatsapp_templates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship(back_populates="clinics")


class ApiToken(Base):
    """A bearer token for the JSON API of one clinic, or of every clinic of an
    organisation; only its SHA-256 is stored, and it can do what its scopes say."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The clinic the token is for; None for a token of the whole organisation.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    #: `app.clinics.tokens.Scope` values; every scope for a token made without any.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class IdempotentRequest(Base):
    """A POST made through the API with an `Idempotency-Key`, and the answer it got.

    One row per token and key (a unique constraint, so two requests at once cannot both
    claim it); `status` is None while the first request is still being answered. Kept
    24 hours (`app.clinics.idempotency`). The stored answer holds ids and counts, as
    every API answer to a POST does: no personal data.
    """

    __tablename__ = "api_idempotent_requests"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the method, path and canonical JSON body: a retry must match it.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)


class StaffUser(Base):
    """A member of staff who signs in to the workspace."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased; the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: How the workspace greets them and the audit log names them; may be empty.
    name: Mapped[str] = mapped_column(String(120), default="")
    #: argon2id; None until the invitation link has been used.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: The TOTP secret (base32); None until the second factor is enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The 30-second step of the last TOTP code accepted: a code is good once.
    totp_last_step: Mapped[int | None]
    #: Failed sign-ins in a row; the account locks at the limit until `locked_until`.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    #: Staff pages in this locale ("en", "cy").
    locale: Mapped[str] = mapped_column(String(16), default="en")
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    grants: Mapped[list[StaffGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="StaffGrant.id"
    )

    @property
    def display_name(self) -> str:
        """Their name, or their email when they have not given one."""
        return self.name or self.email


class StaffGrant(Base):
    """One role of a user in one organisation, for all its clinics or some of them."""

    __tablename__ = "staff_grants"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: A `app.clinics.roles.Role` value.
    role: Mapped[str] = mapped_column(String(32))
    #: The clinics the role is limited to; None for every clinic of the organisation.
    clinic_ids: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    user: Mapped[StaffUser] = relationship(back_populates="grants")


class StaffSession(Base):
    """A signed-in session: the cookie holds only its random token, stored hashed.

    A new one is made at every sign-in; it ends after 30 idle minutes, 12 hours in all,
    or at sign-out.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    #: False until the second factor is given (for roles that need it).
    verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class StaffLink(Base):
    """A one-time link: to set a password (an invitation) or to enrol a second factor."""

    __tablename__ = "staff_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="invite")
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class RecoveryCode(Base):
    """A one-time code that stands in for the second factor; only its hash is kept."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
