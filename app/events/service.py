"""Subscriptions and the FHIR write-back endpoint: made, revoked and changed by staff or
through the API. Every function here commits, and writes the audit log as it does.

A subscription's secret is returned once, by `subscribe`; nothing shows it again.
Revoking a subscription cancels its deliveries not yet made: a revoked endpoint is
never called again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic
from app.core.errors import Invalid, NotFound
from app.events.endpoints import check_identifier_system, check_url
from app.events.models import Delivery, DeliveryState, EventType, FhirEndpoint, Subscription
from app.events.signing import new_secret
from app.extensions import db

MAX_SUBSCRIPTIONS = 20
MAX_DESCRIPTION = 100


class TooManySubscriptions(Invalid):
    """The clinic has `MAX_SUBSCRIPTIONS` live subscriptions already."""


@dataclass(frozen=True)
class NewSubscription:
    """A subscription as asked for: where, which events, and a note for staff."""

    url: str
    event_types: Sequence[str]
    description: str = ""


def _audit(
    actor: Actor, clinic: Clinic, now: datetime, what: str, record_id: int | None = None
) -> None:
    record(
        AuditAction.MANAGE_EVENTS,
        actor,
        now,
        record_type="event_subscription" if record_id is not None else "clinic",
        record_ids=[record_id] if record_id is not None else [clinic.id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"what": what},
    )


def _event_types(given: Sequence[str]) -> list[str]:
    known = {t.value for t in EventType}
    chosen = [str(value) for value in given]
    unknown = [value for value in chosen if value not in known]
    if unknown:
        raise Invalid(f"event_types: unknown event type {unknown[0]!r}")
    if not chosen:
        raise Invalid("event_types: choose at least one event")
    return [t.value for t in EventType if t.value in chosen]


def _description(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_DESCRIPTION or not text.isprintable():
        raise Invalid(f"description: at most {MAX_DESCRIPTION} printable characters")
    return text


def subscribe(
    clinic: Clinic, new: NewSubscription, actor: Actor, now: datetime, *, allow_loopback_http: bool
) -> tuple[Subscription, str]:
    """Subscribe an endpoint of `clinic` to events; returns it and its signing secret,
    which is never shown again. Refuses (Invalid, naming the field) a URL that is not
    HTTPS or is inside a private network, an unknown event type, none at all, or a
    clinic that has `MAX_SUBSCRIPTIONS` live ones already. Commits."""
    url = check_url(new.url, allow_loopback_http=allow_loopback_http)
    event_types = _event_types(new.event_types)
    description = _description(new.description)
    live = db.session.query(Subscription).filter(
        Subscription.clinic_id == clinic.id, Subscription.revoked_at.is_(None)
    )
    if live.count() >= MAX_SUBSCRIPTIONS:
        raise TooManySubscriptions(f"url: a clinic may have at most {MAX_SUBSCRIPTIONS} live")
    secret = new_secret()
    subscription = Subscription(
        clinic_id=clinic.id,
        url=url,
        event_types=event_types,
        secret=secret,
        description=description,
        created_at=now,
        created_by_user_id=actor.user_id,
        created_by_token_id=actor.token_id,
    )
    db.session.add(subscription)
    db.session.flush()
    _audit(actor, clinic, now, "subscribe", subscription.id)
    db.session.commit()
    return subscription, secret


def revoke(clinic: Clinic, subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    """Revoke a subscription of `clinic` and cancel its deliveries not yet made (one
    being sent finishes). NotFound for another clinic's; a second revocation changes
    nothing. Commits."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None or subscription.clinic_id != clinic.id:
        raise NotFound("no such subscription")
    if subscription.revoked_at is not None:
        return subscription
    subscription.revoked_at = now
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.subscription_id == subscription.id,
            Delivery.state.in_([DeliveryState.PENDING, DeliveryState.CLAIMED]),
        )
        .values(state=DeliveryState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    _audit(actor, clinic, now, "revoke", subscription.id)
    db.session.commit()
    return subscription


def set_fhir_endpoint(
    clinic: Clinic,
    base_url: str,
    identifier_system: str,
    actor: Actor,
    now: datetime,
    *,
    allow_loopback_http: bool,
) -> FhirEndpoint | None:
    """Write patients' confirmations and cancellations back to the FHIR server at
    `base_url`, finding each Appointment by `identifier_system` and its external id.
    An empty `base_url` turns the write-back off (and cancels what had not gone yet).
    Refuses (Invalid, naming the field) what `check_url` refuses. Commits."""
    endpoint = db.session.get(FhirEndpoint, clinic.id)
    if not base_url.strip():
        if endpoint is not None:
            db.session.delete(endpoint)
            _cancel_fhir(clinic.id, now)
            _audit(actor, clinic, now, "fhir_off")
            db.session.commit()
        return None
    url = check_url(base_url, allow_loopback_http=allow_loopback_http, field="base_url")
    system = check_identifier_system(identifier_system)
    if endpoint is None:
        endpoint = FhirEndpoint(clinic_id=clinic.id, base_url="", identifier_system="")
        db.session.add(endpoint)
    endpoint.base_url = url.rstrip("/")
    endpoint.identifier_system = system
    endpoint.updated_at = now
    _audit(actor, clinic, now, "fhir_on")
    db.session.commit()
    return endpoint


def _cancel_fhir(clinic_id: int, now: datetime) -> None:
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.clinic_id == clinic_id,
            Delivery.subscription_id.is_(None),
            Delivery.state.in_([DeliveryState.PENDING, DeliveryState.CLAIMED]),
        )
        .values(state=DeliveryState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
