"""Prebuilt SQL for the send and status hot paths.

Every message passes through these statements several times. Building a SQLAlchemy
statement costs more than running it on SQLite, so each is built once, on first use,
with bind parameters, and reused.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    TextClause,
    Update,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    update,
)

from app.clinics.models import Clinic
from app.core.channels import Channel
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import MessageState
from app.patients.consent import ALL_CHANNELS
from app.patients.models import ConsentEvent, Patient

_t = cast(Table, OutboundMessage.__table__)
_m = _t.c


@cache
def take_for_sending() -> Update:
    """claimed → sending, counting the attempt. Params: message_id, now."""
    return (
        update(_t)
        .where(_m.id == bindparam("message_id"), _m.state == MessageState.CLAIMED)
        .values(
            state=MessageState.SENDING,
            sending_at=bindparam("now"),
            attempts=_m.attempts + 1,
            updated_at=bindparam("now"),
        )
    )


def _send_columns() -> tuple[Any, ...]:
    """What the sender needs about one message, its patient and its clinic."""
    return (
        _m.id,
        _m.kind,
        _m.channel,
        _m.patient_id,
        _m.clinic_id,
        _m.attempts,
        _m.expires_at,
        _m.body,
        _m.appointment_id,
        Patient.phone,
        Patient.locale,
        Clinic.sender,
        Clinic.name.label("clinic_name"),
        Clinic.timezone,
        Clinic.default_locale,
        Clinic.whatsapp_templates,
    )


def _consent_column() -> Any:
    """The consent action in force for the message's patient, clinic and channel (an
    "all" event counts for every channel), as `consent.latest_action` reads it."""
    event = cast(Table, ConsentEvent.__table__).c
    return (
        select(event.action)
        .where(
            event.patient_id == _m.patient_id,
            event.clinic_id == _m.clinic_id,
            or_(event.channel == _m.channel, event.channel == literal(ALL_CHANNELS)),
        )
        .order_by(event.created_at.desc(), event.id.desc())
        .limit(1)
        .correlate(_t)
        .scalar_subquery()
        .label("consent")
    )


def _whatsapp_last_column() -> Any:
    """When a WhatsApp message's patient last wrote to us on WhatsApp (None for other
    channels, or if never), for the 24-hour window."""
    inbound = cast(Table, InboundMessage.__table__).c
    last = (
        select(func.max(inbound.received_at))
        .where(inbound.patient_id == _m.patient_id, inbound.channel == Channel.WHATSAPP)
        .correlate(_t)
        .scalar_subquery()
    )
    return case((_m.channel == Channel.WHATSAPP, last), else_=None).label("whatsapp_last")


def _batch_columns() -> tuple[Any, ...]:
    return (*_send_columns(), _consent_column(), _whatsapp_last_column())


def _taking() -> dict[str, Any]:
    return {
        "state": MessageState.SENDING,
        "sending_at": bindparam("now"),
        "attempts": _m.attempts + 1,
        "updated_at": bindparam("now"),
    }


@cache
def take_and_load_many() -> Update:
    """claimed → sending for each of a batch, counting the attempt, returning what the
    sender needs with the consent in force and the WhatsApp window, in one statement
    (PostgreSQL). Params: message_ids (a list), now."""
    return (
        update(_t)
        .where(
            _m.id.in_(bindparam("message_ids", expanding=True)),
            _m.state == MessageState.CLAIMED,
            Patient.id == _m.patient_id,
            Clinic.id == _m.clinic_id,
        )
        .values(**_taking())
        .returning(*_batch_columns())
    )


@cache
def take_many() -> Update:
    """claimed → sending for each of a batch, returning the ids taken (where RETURNING
    cannot name joined tables). Params: message_ids (a list), now."""
    return (
        update(_t)
        .where(
            _m.id.in_(bindparam("message_ids", expanding=True)), _m.state == MessageState.CLAIMED
        )
        .values(**_taking())
        .returning(_m.id)
    )


@cache
def load_many() -> Select:  # type: ignore[type-arg]
    """What `take_and_load_many` returns, for ids already taken. Params: message_ids."""
    return (
        select(*_batch_columns())
        .select_from(_t)
        .join(Patient, Patient.id == _m.patient_id)
        .join(Clinic, Clinic.id == _m.clinic_id)
        .where(_m.id.in_(bindparam("message_ids", expanding=True)))
    )


@cache
def load_claimed() -> Select:  # type: ignore[type-arg]
    """What `take_and_load_many` returns, for those of a batch still claimed, without
    taking them. Params: message_ids."""
    return load_many().where(_m.state == MessageState.CLAIMED)


@cache
def record_results_unnest() -> TextClause:
    """`record_results` for PostgreSQL: one prepared statement over arrays, the same for
    every batch. Params: ids, states, sids, codes, due_ats, accepted_ats (lists, one item
    per message), now."""
    return text(
        """
        UPDATE outbound_messages AS m SET
            state = r.new_state,
            provider_sid = coalesce(m.provider_sid, r.sid),
            error_code = coalesce(m.error_code, r.code),
            due_at = coalesce(r.new_due_at, m.due_at),
            accepted_at = coalesce(r.new_accepted_at, m.accepted_at),
            updated_at = :now
        FROM unnest(
            CAST(:ids AS bigint[]), CAST(:states AS text[]), CAST(:sids AS text[]),
            CAST(:codes AS integer[]), CAST(:due_ats AS timestamptz[]),
            CAST(:accepted_ats AS timestamptz[])
        ) AS r(id, new_state, sid, code, new_due_at, new_accepted_at)
        WHERE m.id = r.id AND m.state = 'sending'
        RETURNING m.id
        """
    ).bindparams(bindparam("now", type_=_m.updated_at.type))


@cache
def write_bodies_unnest() -> TextClause:
    """`write_body` for a batch on PostgreSQL, in one statement. Params: ids, bodies,
    encodings, segments, locales (lists; a None locale keeps the stored one)."""
    return text(
        """
        UPDATE outbound_messages AS m SET
            body = r.body, encoding = r.encoding, segments = r.segments,
            locale = coalesce(r.locale, m.locale)
        FROM unnest(
            CAST(:ids AS bigint[]), CAST(:bodies AS text[]), CAST(:encodings AS text[]),
            CAST(:segments AS integer[]), CAST(:locales AS text[])
        ) AS r(id, body, encoding, segments, locale)
        WHERE m.id = r.id
        """
    )


@cache
def take_and_load() -> Update:
    """claimed → sending, counting the attempt, returning what `load_for_send` reads,
    in one statement (PostgreSQL: SQLite's RETURNING cannot name the joined tables).
    Params: message_id, now."""
    return (
        update(_t)
        .where(
            _m.id == bindparam("message_id"),
            _m.state == MessageState.CLAIMED,
            Patient.id == _m.patient_id,
            Clinic.id == _m.clinic_id,
        )
        .values(
            state=MessageState.SENDING,
            sending_at=bindparam("now"),
            attempts=_m.attempts + 1,
            updated_at=bindparam("now"),
        )
        .returning(*_send_columns())
    )


@cache
def load_for_send() -> Select:  # type: ignore[type-arg]
    """Everything the sender needs about one message. Params: message_id."""
    return (
        select(*_send_columns())
        .select_from(_t)
        .join(Patient, Patient.id == _m.patient_id)
        .join(Clinic, Clinic.id == _m.clinic_id)
        .where(_m.id == bindparam("message_id"))
    )


@cache
def write_body() -> Update:
    """Params: message_id, body, encoding, segments, locale (None keeps the stored one)."""
    return (
        update(_t)
        .where(_m.id == bindparam("message_id"))
        .values(
            body=bindparam("new_body"),
            encoding=bindparam("new_encoding"),
            segments=bindparam("new_segments"),
            locale=func.coalesce(bindparam("new_locale", type_=_m.locale.type), _m.locale),
        )
    )


@cache
def finish_sending() -> Update:
    """sending → a final state without calling the provider. Params: message_id, state, now."""
    return (
        update(_t)
        .where(_m.id == bindparam("message_id"), _m.state == MessageState.SENDING)
        .values(state=bindparam("new_state"), updated_at=bindparam("now"))
    )


@cache
def record_result() -> Update:
    """sending → what the provider said. Params: message_id, state, sid, code, now, due_at,
    accepted_at (None keeps the stored value)."""
    return (
        update(_t)
        .where(_m.id == bindparam("message_id"), _m.state == MessageState.SENDING)
        .values(
            state=bindparam("new_state"),
            provider_sid=func.coalesce(
                _m.provider_sid, bindparam("sid", type_=_m.provider_sid.type)
            ),
            error_code=func.coalesce(_m.error_code, bindparam("code", type_=_m.error_code.type)),
            due_at=func.coalesce(bindparam("new_due_at", type_=_m.due_at.type), _m.due_at),
            accepted_at=func.coalesce(
                bindparam("new_accepted_at", type_=_m.accepted_at.type), _m.accepted_at
            ),
            updated_at=bindparam("now"),
        )
    )


@cache
def adopt_sid() -> Update:
    """Fill in the provider's sid if a callback got there first. Params: message_id, sid."""
    return (
        update(_t)
        .where(_m.id == bindparam("message_id"))
        .values(provider_sid=func.coalesce(_m.provider_sid, bindparam("sid")))
    )


def _status_target(by_id: bool) -> ColumnElement[bool]:
    return _m.id == bindparam("message_id") if by_id else _m.provider_sid == bindparam("sid")


@cache
def advance_status(by_id: bool) -> Update:
    """Move a message forward on a status callback. Params: message_id or sid, sid, state,
    allowed (states it may move from), code, now, delivered_at."""
    same_message = or_(_m.provider_sid.is_(None), _m.provider_sid == bindparam("sid"))
    return (
        update(_t)
        .where(
            _status_target(by_id),
            same_message,
            _m.state.in_(bindparam("allowed", expanding=True)),
        )
        .values(
            state=bindparam("new_state"),
            provider_sid=func.coalesce(_m.provider_sid, bindparam("sid")),
            error_code=func.coalesce(_m.error_code, bindparam("code", type_=_m.error_code.type)),
            accepted_at=func.coalesce(_m.accepted_at, bindparam("now")),
            delivered_at=func.coalesce(
                bindparam("new_delivered_at", type_=_m.delivered_at.type), _m.delivered_at
            ),
            updated_at=bindparam("now"),
        )
    )


@cache
def keep_first_error(by_id: bool) -> Update:
    """Record an error code from a stale callback if none is known yet. Params: message_id or
    sid, sid, code."""
    same_message = or_(_m.provider_sid.is_(None), _m.provider_sid == bindparam("sid"))
    return (
        update(_t)
        .where(_status_target(by_id), same_message, _m.error_code.is_(None))
        .values(error_code=bindparam("code"))
    )
