"""JSON API v1: the clinic's event subscriptions.

`POST /api/v1/clinics/<slug>/subscriptions` subscribes an HTTPS endpoint to some of the
clinic's events and answers 201 with the subscription and its signing secret, the only
time the secret is shown. `GET` lists the subscriptions (without secrets), a page at a
time; `DELETE .../subscriptions/<id>` revokes one (204), and nothing more is sent to it.
Needs the `events:read` scope; every change is in the audit log with the token.

Each delivery is a POST of `{id, type, occurred_at, clinic, data}` signed in the
`WeSaid-Signature` header (`t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`) and
carrying the event id in `WeSaid-Event-Id`; the README shows how to check it.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from pydantic import BaseModel, Field

from app.api.operations import ApiBlueprint, Call, Reply
from app.api.pagination import PageQuery, next_cursor
from app.api.schemas import ApiModel
from app.clinics.tokens import Scope
from app.core.errors import Invalid, NotFound
from app.events import queries, service
from app.events.endpoints import LOOPBACK_ENVIRONMENTS, UrlRefused
from app.events.models import EventType, Subscription

bp = ApiBlueprint("subscriptions_api")


class NewSubscription(ApiModel):
    """An HTTPS endpoint to send some of the clinic's events to."""

    url: str = Field(min_length=1, max_length=2000, description="The HTTPS endpoint")
    events: list[EventType] = Field(
        min_length=1, description="The event types to send (a repeated type counts once)"
    )
    description: str = Field(
        default="", max_length=100, description="A note for staff, like the receiving system"
    )


class SubscriptionOut(ApiModel):
    """A subscription (its secret is never shown again after it was made)."""

    id: int = Field(description="The subscription's id")
    url: str = Field(description="The HTTPS endpoint")
    events: list[EventType] = Field(description="The event types sent to it")
    description: str = Field(description="A note for staff")
    created_at: datetime = Field(description="When it was made")
    revoked_at: datetime | None = Field(description="When it was revoked; null while live")


class SubscriptionCreated(SubscriptionOut):
    """A new subscription, with the secret that signs its deliveries."""

    secret: str = Field(description="The signing secret: shown this once, keep it safe")


class SubscriptionPage(ApiModel):
    """A page of the clinic's subscriptions, oldest first."""

    items: list[SubscriptionOut] = Field(description="The subscriptions of this page")
    next_cursor: str | None = Field(description="The cursor of the next page; null at the end")


class BySubscription(BaseModel):
    """A subscription named in the URL."""

    subscription_id: int = Field(ge=1, le=2**31 - 1, description="The subscription's id")


def _out(subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.id,
        url=subscription.url,
        events=[EventType(value) for value in subscription.event_types],
        description=subscription.description,
        created_at=subscription.created_at,
        revoked_at=subscription.revoked_at,
    )


@bp.operation(
    "POST",
    "/clinics/<slug>/subscriptions",
    scope=Scope.EVENTS_READ,
    body=NewSubscription,
    responses={201: SubscriptionCreated},
    summary="Subscribe an HTTPS endpoint to the clinic's events",
    tag="subscriptions",
)
def subscribe(call: Call) -> Reply:
    """Subscribe `url` to `events`. A URL that is not HTTPS, or is inside a private
    network, answers 422 naming `url`."""
    given = call.body_as(NewSubscription)
    new = service.NewSubscription(given.url, [e.value for e in given.events], given.description)
    loopback = current_app.config.get("WESAID_ENV") in LOOPBACK_ENVIRONMENTS
    try:
        subscription, secret = service.subscribe(
            call.clinic, new, call.actor, call.clock.now(), allow_loopback_http=loopback
        )
    except UrlRefused as refused:
        return _refused("url", refused.problem.value)
    except Invalid as exc:
        field, _sep, reason = str(exc).partition(": ")
        return _refused(field, reason)
    return Reply(201, SubscriptionCreated(**_out(subscription).model_dump(), secret=secret))


def _refused(field: str, reason: str) -> Reply:
    return Reply.error(422, f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


@bp.operation(
    "GET",
    "/clinics/<slug>/subscriptions",
    scope=Scope.EVENTS_READ,
    query=PageQuery,
    responses={200: SubscriptionPage},
    summary="The clinic's event subscriptions, a page at a time",
    tag="subscriptions",
)
def list_subscriptions(call: Call) -> Reply:
    """Every subscription of the clinic, live and revoked, oldest first; no secrets."""
    page = call.query_as(PageQuery)
    found = [
        s for s in reversed(queries.subscriptions_of(call.clinic.id)) if s.id > page.after_id()
    ][: page.limit + 1]
    items = [_out(s) for s in found[: page.limit]]
    cursor = next_cursor([s.id for s in found], page.limit)
    return Reply(200, SubscriptionPage(items=items, next_cursor=cursor))


@bp.operation(
    "DELETE",
    "/clinics/<slug>/subscriptions/<int:subscription_id>",
    scope=Scope.EVENTS_READ,
    path=BySubscription,
    responses={204: None, 404: None},
    summary="Revoke an event subscription",
    tag="subscriptions",
)
def revoke_subscription(call: Call) -> Reply:
    """Revoke the subscription: nothing more is sent to it. Revoking twice is harmless."""
    subscription_id = call.path_as(BySubscription).subscription_id
    try:
        service.revoke(call.clinic, subscription_id, call.actor, call.clock.now())
    except NotFound:
        return Reply.error(404, "the clinic has no such subscription")
    return Reply(204)
