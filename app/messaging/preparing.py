"""Sending, phase 1: take a batch of claimed messages, check each may still go,
compose them and write their bodies, in one short transaction (`prepare`).

On PostgreSQL one statement takes the rows (claimed → sending, each row's own
compare-and-set) and brings back everything composing needs, with the consent in
force; each kind's prefetch reads ahead for the whole batch; the bodies are written in
one statement more. On SQLite, where one writer at a time holds the file, the rows are
read and composed first and taken afterwards, so that the write lock is held for the
writing alone (`app.messaging.sending` calls the provider and records the outcomes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.channels import Channel, OutboundRequest
from app.core.clock import Clock
from app.core.sms import measure
from app.extensions import db
from app.messaging import statements as sql
from app.messaging.dispatcher import SendSettings, outgoing_from
from app.messaging.fallback import WHATSAPP_OUTSIDE_WINDOW, fall_back
from app.messaging.kinds import SENT_DESPITE_OPT_OUT, MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.queries import WHATSAPP_WINDOW
from app.messaging.registry import (
    ComposeContext,
    Draft,
    Outgoing,
    Withheld,
    composer_for,
    prefetch_for,
    tell_failed,
)
from app.messaging.states import MessageState
from app.messaging.status import status_callback_url
from app.patients.models import ConsentAction


@dataclass(frozen=True)
class Claim:
    """What the worker knows about a message it is sending, between the phases."""

    message_id: int
    patient_id: int
    clinic_id: int
    attempts: int
    expires_at: datetime
    kind: str
    channel: str


@dataclass
class Batch:
    """What the first phase made of a batch: the requests to send, and the state of each
    message that ended there (None: it was not ours to send)."""

    requests: list[tuple[OutboundRequest, Claim]]
    ended: dict[int, MessageState | None]


def _take_and_load(message_ids: list[int], now: datetime) -> list[Any]:
    """Take the rows (claimed → sending) and read what sending needs: one round trip on
    PostgreSQL, two elsewhere. Rows that were not ours to take are not returned."""
    params = {"message_ids": message_ids, "now": now}
    if on_postgresql():
        return list(db.session.execute(sql.take_and_load_many(), params))
    taken = list(db.session.scalars(sql.take_many(), params))
    if not taken:
        return []
    return list(db.session.execute(sql.load_many(), {"message_ids": taken}))


def _load_claimed(message_ids: list[int]) -> list[Any]:
    """What sending needs of the rows still claimed, read without taking them."""
    return list(db.session.execute(sql.load_claimed(), {"message_ids": message_ids}))


def _prefetch(rows: list[Any], context: ComposeContext) -> None:
    """Let each kind read ahead for the messages of the batch it will compose."""
    by_kind: dict[MessageKind, list[Outgoing]] = {}
    for row in rows:
        if row.body is None:
            by_kind.setdefault(MessageKind(row.kind), []).append(outgoing_from(row))
    for kind, outgoing in by_kind.items():
        prefetch = prefetch_for(kind)
        if prefetch is not None:
            prefetch(outgoing, context)


def _whatsapp_template(row: Any, now: datetime) -> str | None:
    """Outside the 24-hour window WhatsApp takes only an approved template (its Content
    SID); None inside it.

    With no approved template for this kind the message cannot go on WhatsApp: it fails
    as Twilio would (63016), and the fallback sends it by SMS.
    """
    last = row.whatsapp_last
    if last is not None and last > now - WHATSAPP_WINDOW:
        return None
    content_sid = (row.whatsapp_templates or {}).get(row.kind)
    if not content_sid:
        raise Withheld(MessageState.FAILED, WHATSAPP_OUTSIDE_WINDOW)
    return str(content_sid)


def _compose(row: Any, context: ComposeContext) -> Draft:
    """The message composed by its kind's composer. Raises Withheld."""
    composer = composer_for(MessageKind(row.kind))
    if composer is None:
        raise ValueError(f"message {row.id}: no composer for {row.kind}")
    return composer(outgoing_from(row), context)


@dataclass
class _Plan:
    """What composing a batch decided, to be written once its rows are taken."""

    finished: list[dict[str, Any]]
    withheld: list[tuple[int, Withheld]]
    bodies: list[dict[str, Any]]
    requests: list[tuple[OutboundRequest, Claim]]


def prepare(message_ids: list[int], clock: Clock, settings: SendSettings) -> Batch:
    """Phase 1: take the rows (claimed → sending), check each may still go, compose
    them, write their bodies. Commits.

    On SQLite, whose one writer waits for every other, the rows are read and composed
    first and taken afterwards, so that the write lock is held for the writing alone;
    if any of them was taken meanwhile, or cancelled, the batch starts again the usual
    way (what composing wrote is rolled back with it).
    """
    now = clock.now()
    plan: _Plan | None = None
    if not on_postgresql():
        rows = _load_claimed(message_ids)
        plan = _plan(rows, now, clock, settings, taking=True)
        params = {"message_ids": [row.id for row in rows], "now": now}
        taken = set(db.session.scalars(sql.take_many(), params)) if rows else set()
        if taken != {row.id for row in rows}:
            db.session.rollback()
            plan = None
    if plan is None:
        plan = _plan(_take_and_load(message_ids, now), now, clock, settings, taking=False)
    batch = Batch([], dict.fromkeys(message_ids))
    for finish in plan.finished:
        batch.ended[finish["message_id"]] = None
    if plan.finished:
        db.session.execute(sql.finish_sending(), plan.finished)
    for message_id, withheld in plan.withheld:
        _withhold(message_id, withheld, now)
        batch.ended[message_id] = None
    if plan.bodies:
        _write_bodies(plan.bodies)
    db.session.commit()
    batch.requests = plan.requests
    return batch


def _plan(
    rows: list[Any], now: datetime, clock: Clock, settings: SendSettings, taking: bool
) -> _Plan:
    """Compose the batch's `rows`: which end without going, which are withheld, and the
    bodies and requests of the rest. Writes nothing but what composers write. `taking`:
    the rows are yet to be taken, which counts an attempt more. Each plan reads ahead
    afresh: what a plan that was rolled back read (or composed) is not reused."""
    context = ComposeContext(now, clock, settings.public_base_url, settings.secret_key)
    _prefetch(rows, context)
    plan = _Plan([], [], [], [])
    for row in rows:
        early = _early_end(row, now)
        if early is not None:
            plan.finished.append({"message_id": row.id, "new_state": early, "now": now})
            continue
        try:  # nothing is written before a message is withheld
            content_sid = _whatsapp_template(row, now) if row.channel == Channel.WHATSAPP else None
            draft = Draft(row.body, "") if row.body is not None else _compose(row, context)
        except Withheld as withheld:
            plan.withheld.append((row.id, withheld))
            continue
        measured = measure(draft.body)
        plan.bodies.append(
            {
                "message_id": row.id,
                "new_body": draft.body,
                "new_encoding": measured.encoding,
                "new_segments": measured.segments,
                "new_locale": draft.locale or None,
            }
        )
        attempts = row.attempts + 1 if taking else row.attempts
        plan.requests.append(_request(row, draft, content_sid, now, settings, attempts))
    return plan


def on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _write_bodies(bodies: list[dict[str, Any]]) -> None:
    if not on_postgresql():
        db.session.execute(sql.write_body(), bodies)
        return
    db.session.execute(
        sql.write_bodies_unnest(),
        {
            "ids": [b["message_id"] for b in bodies],
            "bodies": [b["new_body"] for b in bodies],
            "encodings": [b["new_encoding"] for b in bodies],
            "segments": [b["new_segments"] for b in bodies],
            "locales": [b["new_locale"] for b in bodies],
        },
    )


def _early_end(row: Any, now: datetime) -> MessageState | None:
    """The state a message ends in without going: too late, or the patient opted out."""
    if row.expires_at <= now:
        return MessageState.EXPIRED
    if row.kind not in SENT_DESPITE_OPT_OUT and row.consent is ConsentAction.OPT_OUT:
        return MessageState.SUPPRESSED
    return None


def _request(
    row: Any,
    draft: Draft,
    content_sid: str | None,
    now: datetime,
    settings: SendSettings,
    attempts: int,
) -> tuple[OutboundRequest, Claim]:
    validity = int(min(settings.validity_seconds, (row.expires_at - now).total_seconds()))
    base = settings.public_base_url.rstrip("/")
    request = OutboundRequest(
        message_id=row.id,
        to=row.phone,
        body=draft.body,
        sender=row.sender,
        status_callback=status_callback_url(settings.public_base_url, row.id),
        validity_seconds=max(validity, 1),
        channel=row.channel,
        kind=row.kind,
        twiml_url=f"{base}/webhooks/twilio/voice?m={row.id}"
        if row.channel == Channel.VOICE
        else None,
        content_sid=content_sid,
        content_variables={"1": row.clinic_name, **draft.template_values} if content_sid else None,
    )
    claim = Claim(
        row.id, row.patient_id, row.clinic_id, attempts, row.expires_at, row.kind, row.channel
    )
    return request, claim


def _withhold(message_id: int, withheld: Withheld, now: datetime) -> None:
    db.session.execute(
        sql.finish_sending(), {"message_id": message_id, "new_state": withheld.state, "now": now}
    )
    if withheld.error_code is not None:
        message = db.session.get(OutboundMessage, message_id)
        if message is not None and message.error_code is None:
            message.error_code = withheld.error_code
        copy = fall_back(message_id, withheld.error_code, now)
        if withheld.state is MessageState.FAILED and copy is None:
            tell_failed(message_id, now)
