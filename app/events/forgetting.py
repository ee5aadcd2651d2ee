"""What events forget when a patient is erased.

An event about a patient names them by the clinic system's identifiers (their external
id, their appointment's). Erasure removes those from every event about the patient,
so a delivery not yet made, or retried later, sends the event without them; the
event's type, clinic and time stay, as the delivery log needs them. Events hold no
text of the patient's, so the retention purge has nothing to blank. Registered as a
`Forgetter` in `app.wiring`; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select

from app.events.models import Event
from app.extensions import db
from app.patients.forgetting import Forgetter

#: The parts of an event's data that identify a patient or their appointment.
IDENTIFYING = ("patient", "appointment")


def count(patient_id: int, clinic_id: int) -> Mapping[str, int]:
    held = db.session.scalar(
        select(func.count(Event.id)).where(
            Event.patient_id == patient_id, Event.clinic_id == clinic_id
        )
    )
    return {"events": int(held or 0)}


def erase(patient_id: int, clinic_id: int, now: datetime) -> Mapping[str, int]:
    """Strip the patient's identifiers from their events. Does not commit."""
    events = db.session.scalars(
        select(Event).where(Event.patient_id == patient_id, Event.clinic_id == clinic_id)
    ).all()
    for event in events:
        data = dict(event.data or {})
        for key in IDENTIFYING:
            if key in data:
                data[key] = None
        event.data = data
        event.patient_id = None
    return {"events": len(events)}


def purge(_clinic_ids: Sequence[int], _cutoff: datetime) -> Mapping[str, int]:
    return {}


FORGETTER = Forgetter(count=count, erase=erase, purge=purge)
