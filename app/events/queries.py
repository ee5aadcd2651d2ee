"""Reading subscriptions, the FHIR endpoint and the delivery log of one clinic.

The delivery log says what happened to each delivery (its event's type and id, the
target, attempts, the last HTTP status, the next retry), never what the event said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.events.models import (
    Delivery,
    DeliveryState,
    Event,
    EventType,
    FhirEndpoint,
    Subscription,
    Target,
)
from app.extensions import db

LOG_PAGE = 100


def subscriptions_of(clinic_id: int, *, include_revoked: bool = True) -> list[Subscription]:
    """The clinic's subscriptions, newest first."""
    query = select(Subscription).where(Subscription.clinic_id == clinic_id)
    if not include_revoked:
        query = query.where(Subscription.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(Subscription.id.desc())))


def find_subscription(clinic_id: int, subscription_id: int) -> Subscription | None:
    """The clinic's subscription `subscription_id`, or None (another clinic's too)."""
    found = db.session.get(Subscription, subscription_id)
    return found if found is not None and found.clinic_id == clinic_id else None


def fhir_endpoint_of(clinic_id: int) -> FhirEndpoint | None:
    return db.session.get(FhirEndpoint, clinic_id)


@dataclass(frozen=True)
class LoggedDelivery:
    """One row of the delivery log."""

    id: int
    event_id: str
    event_type: EventType
    occurred_at: datetime
    target: Target
    #: The subscription's URL for a webhook; the FHIR base for the write-back.
    destination: str
    state: DeliveryState
    attempts: int
    last_status: int | None
    #: A `Reason` value, or None.
    last_error: str | None
    #: When it is tried again; None once it is final.
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def delivery_log(clinic_id: int, before_id: int | None = None) -> list[LoggedDelivery]:
    """The clinic's deliveries, newest first, `LOG_PAGE` at a time (older than
    `before_id` if given)."""
    query = (
        select(Delivery, Event.public_id, Event.type, Event.occurred_at, Subscription.url)
        .join(Event, Event.id == Delivery.event_id)
        .outerjoin(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.clinic_id == clinic_id)
        .order_by(Delivery.id.desc())
        .limit(LOG_PAGE)
    )
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    endpoint = fhir_endpoint_of(clinic_id)
    fhir_base = endpoint.base_url if endpoint is not None else ""
    rows = []
    for delivery, public_id, type_, occurred_at, url in db.session.execute(query):
        waiting = delivery.state in (DeliveryState.PENDING, DeliveryState.CLAIMED)
        rows.append(
            LoggedDelivery(
                id=delivery.id,
                event_id=public_id,
                event_type=type_,
                occurred_at=occurred_at,
                target=delivery.target,
                destination=url if delivery.target is Target.WEBHOOK else fhir_base,
                state=delivery.state,
                attempts=delivery.attempts,
                last_status=delivery.last_status,
                last_error=delivery.last_error,
                next_attempt_at=delivery.due_at if waiting else None,
                delivered_at=delivery.delivered_at,
            )
        )
    return rows
