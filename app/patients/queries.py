"""Reads about patients for the clinic's own systems: by their identifiers, in pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.patients.consent import ALL_CHANNELS
from app.patients.models import ConsentAction, ConsentEvent, Patient


def patient_by_external_id(clinic_id: int, external_id: str) -> Patient | None:
    """The clinic's patient that its own system calls `external_id` (never an erased
    patient: erasure replaced the identifier)."""
    return db.session.scalar(
        select(Patient).where(
            Patient.clinic_id == clinic_id,
            Patient.external_id == external_id,
            Patient.erased_at.is_(None),
        )
    )


def patients_after(clinic_id: int, after_id: int, limit: int) -> list[Patient]:
    """Up to `limit` of the clinic's patients (not erased) with ids above `after_id`."""
    return list(
        db.session.scalars(
            select(Patient)
            .where(
                Patient.clinic_id == clinic_id,
                Patient.id > after_id,
                Patient.erased_at.is_(None),
            )
            .order_by(Patient.id)
            .limit(limit)
        )
    )


def consent_in_force(
    clinic_id: int, patient_ids: Sequence[int], channels: Sequence[str]
) -> dict[int, dict[str, tuple[ConsentAction, datetime] | None]]:
    """For each patient and channel, the consent event in force (an event for every
    channel counts for each), or None when there has been none."""
    found: dict[int, dict[str, tuple[ConsentAction, datetime] | None]] = {
        id_: dict.fromkeys(channels) for id_ in patient_ids
    }
    if not found:
        return found
    events = db.session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.clinic_id == clinic_id, ConsentEvent.patient_id.in_(list(found)))
        .order_by(ConsentEvent.created_at, ConsentEvent.id)
    )
    for event in events:  # oldest first: a later event replaces an earlier one
        covered = channels if event.channel == ALL_CHANNELS else [event.channel]
        for channel in covered:
            if channel in found[event.patient_id]:
                found[event.patient_id][channel] = (event.action, event.created_at)
    return found
