"""Prebuilt SQL for the send and status hot paths.

Every message passes through these statements several times. Building a SQLAlchemy
statement costs more than running it on SQLite, so each is built once, on first use,
with bind parameters, and reused.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, Update, bindparam, func, or_, select, update

from app.clinics.models import Clinic
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient

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
