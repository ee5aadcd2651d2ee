"""Organisations (trusts), clinics (the tenants) and their API tokens."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base


class Organisation(Base):
    """A trust or provider that runs one or more clinics."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
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
    """A bearer token for one clinic's JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
