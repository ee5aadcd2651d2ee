"""The consent and opt-out ledger: the latest event per patient and channel is in force.

Features that hold a conversation open with a patient (a survey) register an opt-out
listener at start-up (`on_opt_out`); every opt-out, by reply or reported by the
provider, tells them, so that nothing more is asked of the patient. Listeners that must
hear of each opt-out once (the clinic's systems, as an event) register with
`on_new_opt_out`: they are told only when the patient was not already opted out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.patients.models import ConsentAction, ConsentEvent

ALL_CHANNELS = "all"

#: Told (patient id, clinic id, when) of every opt-out recorded. Never commits.
OptOutListener = Callable[[int, int, datetime], None]
_opt_out_listeners: dict[str, OptOutListener] = {}
#: Told (patient id, clinic id, channel, source, when) of an opt-out that changed
#: something. Never commits.
NewOptOutListener = Callable[[int, int, str, str, datetime], object]
_new_opt_out_listeners: dict[str, NewOptOutListener] = {}


def on_opt_out(name: str, listener: OptOutListener) -> None:
    """Tell `listener` (registered under `name`; again replaces it) of every opt-out."""
    _opt_out_listeners[name] = listener


def on_new_opt_out(name: str, listener: NewOptOutListener) -> None:
    """Tell `listener` (registered under `name`) of every opt-out that was new."""
    _new_opt_out_listeners[name] = listener


def latest_action(patient_id: int, clinic_id: int, channel: str) -> ConsentAction | None:
    """The consent action in force for `channel` (an "all" event counts for every channel)."""
    return db.session.scalar(
        select(ConsentEvent.action)
        .where(
            ConsentEvent.patient_id == patient_id,
            ConsentEvent.clinic_id == clinic_id,
            ConsentEvent.channel.in_([channel, ALL_CHANNELS]),
        )
        .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc())
        .limit(1)
    )


def is_opted_out(patient_id: int, clinic_id: int, channel: str) -> bool:
    return latest_action(patient_id, clinic_id, channel) is ConsentAction.OPT_OUT


def record_opt_out(
    patient_id: int,
    clinic_id: int,
    channel: str,
    source: str,
    now: datetime,
    inbound_id: int | None = None,
) -> bool:
    """Opt the patient out; returns False if they already were. Either way the opt-out
    listeners are told. Does not commit."""
    changed = _record(
        patient_id, clinic_id, channel, ConsentAction.OPT_OUT, source, now, inbound_id
    )
    for listener in _opt_out_listeners.values():
        listener(patient_id, clinic_id, now)
    if changed:
        for new_listener in _new_opt_out_listeners.values():
            new_listener(patient_id, clinic_id, channel, source, now)
    return changed


def record_opt_in(
    patient_id: int,
    clinic_id: int,
    channel: str,
    source: str,
    now: datetime,
    inbound_id: int | None = None,
) -> bool:
    """Opt the patient back in; returns False if they were not opted out. Does not commit."""
    return _record(patient_id, clinic_id, channel, ConsentAction.OPT_IN, source, now, inbound_id)


def _record(
    patient_id: int,
    clinic_id: int,
    channel: str,
    action: ConsentAction,
    source: str,
    now: datetime,
    inbound_id: int | None,
) -> bool:
    current = latest_action(patient_id, clinic_id, channel)
    if current is action or (current is None and action is ConsentAction.OPT_IN):
        return False
    db.session.add(
        ConsentEvent(
            clinic_id=clinic_id,
            patient_id=patient_id,
            channel=channel,
            action=action,
            source=source,
            inbound_id=inbound_id,
            created_at=now,
        )
    )
    db.session.flush()
    return True
