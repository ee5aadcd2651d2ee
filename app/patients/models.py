"""Patients, their demographics, and the consent and opt-out ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.channels import Channel
from app.db import Base, state_enum


class Patient(Base):
    """A person a clinic may message. Belongs to one clinic (the tenant)."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("clinic_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: The clinic's own identifier for the patient (from its patient system).
    external_id: Mapped[str] = mapped_column(String(64))
    #: E.164, checked against the phone policy at the boundary.
    phone: Mapped[str] = mapped_column(String(20), index=True)
    #: Names staff recognise the patient by: shown to care roles only, erased on
    #: erasure, and never put in a message unless a template asks for them.
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    #: Preferred locale, one of app.core.locales.SUPPORTED_LOCALES.
    locale: Mapped[str] = mapped_column(String(16))
    birth_year: Mapped[int | None]
    #: "F", "M", "X" (other) or "U" (not known).
    sex: Mapped[str | None] = mapped_column(String(1))
    #: NHS ethnic category code (A–S, Z not stated).
    ethnic_category: Mapped[str | None] = mapped_column(String(2))
    #: Index of Multiple Deprivation quintile, 1 (most deprived) to 5.
    imd_quintile: Mapped[int | None]
    channel_preference: Mapped[Channel] = mapped_column(
        state_enum(Channel, 16), default=Channel.SMS
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: When the patient was erased (app.privacy): every identifying field is blank and
    #: the external id is a placeholder; None for a patient who was not.
    erased_at: Mapped[datetime | None]


class ConsentAction(enum.StrEnum):
    OPT_OUT = "opt_out"  # the patient asked for no more messages on this channel (or all)
    OPT_IN = "opt_in"  # the patient asked to hear from the clinic again (START, UNSTOP)


class ConsentEvent(Base):
    """One change of consent. The latest event per patient and channel is in force.

    `channel` is a channel name, or "all" for a keyword such as STOP that covers
    every channel of that clinic.
    """

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[ConsentAction] = mapped_column(state_enum(ConsentAction, 16))
    #: What caused it: "reply", "provider" (Twilio 21610), "staff", "import".
    source: Mapped[str] = mapped_column(String(16))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime]
