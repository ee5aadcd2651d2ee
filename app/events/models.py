"""Events the clinic's own systems hear about, who hears them, and the outbox of
deliveries to them (webhooks, and the FHIR write-back)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, state_enum


class EventType(enum.StrEnum):
    APPOINTMENT_CONFIRMED = "appointment.confirmed"  # the patient confirmed by reply
    APPOINTMENT_CANCELLED_BY_PATIENT = "appointment.cancelled_by_patient"  # cancelled by reply
    APPOINTMENT_REBOOK_REQUESTED = "appointment.rebook_requested"  # asked for a new time
    PATIENT_OPTED_OUT = "patient.opted_out"  # no more messages from the clinic
    MESSAGE_FAILED = "message.failed"  # a message could not reach the patient (no fallback)
    SURVEY_RESPONSE_RECORDED = "survey.response_recorded"  # a new (pseudonymous) response


class Target(enum.StrEnum):
    WEBHOOK = "webhook"  # a subscription's HTTPS endpoint
    FHIR = "fhir"  # the clinic's FHIR server: the Appointment is updated


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waits for its due time (the first try, or a retry after backoff)
    CLAIMED = "claimed"  # the clock queued a job for it
    SENDING = "sending"  # a worker is calling the endpoint (one attempt counted)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # given up: refused for good, or every attempt used
    CANCELLED = "cancelled"  # its subscription was revoked (or FHIR turned off) first


#: States a delivery never leaves.
FINAL_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.CANCELLED})


class Event(Base):
    """Something that happened at a clinic that at least one target wanted to hear.

    `data` holds the clinic system's own identifiers (external ids) and codes, never a
    name, a number or a message text; a survey response's event holds no identifier."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id receivers see ("evt_…") and deduplicate on.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    type: Mapped[EventType] = mapped_column(state_enum(EventType, 48))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The patient the event is about (never sent: erasure finds their events by it).
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)


class Subscription(Base):
    """A clinic's HTTPS endpoint and the event types it receives."""

    __tablename__ = "event_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: Event type values, e.g. ["appointment.confirmed", "patient.opted_out"].
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The signing secret, shown once when the subscription is made.
    secret: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    revoked_at: Mapped[datetime | None]


class FhirEndpoint(Base):
    """Where a clinic's Appointments live, for the write-back of patients' replies."""

    __tablename__ = "fhir_endpoints"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    #: The FHIR R4 base, e.g. "https://pas.example.nhs.uk/fhir".
    base_url: Mapped[str] = mapped_column(String(2000))
    #: The identifier system under which the Appointment carries our external id.
    identifier_system: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class Delivery(Base):
    """One event to one target: the outbox row that is claimed, sent and retried."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "target", "subscription_id"),
        Index("ix_event_deliveries_state_due_at", "state", "due_at"),
        Index("ix_event_deliveries_clinic_created_at", "clinic_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    target: Mapped[Target] = mapped_column(state_enum(Target, 16))
    #: The webhook's subscription; None for the FHIR write-back.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("event_subscriptions.id"))
    state: Mapped[DeliveryState] = mapped_column(
        state_enum(DeliveryState, 16), default=DeliveryState.PENDING
    )
    #: Attempts made so far (counted when a worker takes the row).
    attempts: Mapped[int] = mapped_column(default=0)
    #: When it is (next) due; the delivery log shows it as the next retry.
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sending_at: Mapped[datetime | None]
    #: The endpoint's HTTP status of the last attempt (None: no answer).
    last_status: Mapped[int | None]
    #: Why the last attempt failed (`app.events.payloads.Reason`); never a payload.
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
