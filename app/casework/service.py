"""Commands of casework: marking a worklist item handled, and recording in the audit log
what personal data the worklist, a search and a timeline showed.

The caller has checked, through the staff member's scope, that the record is theirs to
handle or see; these functions record what was done and commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.casework.items import RECORD_MODELS, RECORD_TYPES
from app.casework.models import HandledItem, WorkKind
from app.clinics.queries import get_clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.core.inputs import storable_text
from app.extensions import db

#: The longest note kept with a handled item.
NOTE_LENGTH = 500


@dataclass(frozen=True)
class Handled:
    """The handling in force, and whether this call made it."""

    item: HandledItem
    created: bool


def _find(kind: WorkKind, record_id: int) -> HandledItem | None:
    return db.session.scalar(
        select(HandledItem).where(HandledItem.kind == kind, HandledItem.record_id == record_id)
    )


def mark_handled(
    kind: WorkKind, record_id: int, note: str, *, actor: Actor, clock: Clock
) -> Handled:
    """Mark the item of `kind` about `record_id` handled, with the staff member's note.

    An item is handled once: marking it again changes nothing and returns the first
    handling (`created` False). Refuses (Invalid) a note over NOTE_LENGTH characters or
    an actor who is not a staff member; NotFound when there is no such record. In the
    audit log as HANDLE_WORKLIST (the record, the patient's id, whether there was a
    note; never the note). Commits.
    """
    if actor.user_id is None:
        raise Invalid("only a staff member can handle a worklist item")
    text = storable_text(note.strip())
    if len(text) > NOTE_LENGTH:
        raise Invalid(f"a note is up to {NOTE_LENGTH} characters")
    target = db.session.get(RECORD_MODELS[kind], record_id)
    if target is None:
        raise NotFound(f"no {RECORD_TYPES[kind]} with id {record_id}")
    existing = _find(kind, record_id)
    if existing is not None:
        return Handled(existing, created=False)
    clinic = get_clinic(target.clinic_id)
    now = clock.now()
    item = HandledItem(
        clinic_id=clinic.id,
        kind=kind,
        record_id=record_id,
        note=text,
        handled_by_user_id=actor.user_id,
        handled_at=now,
    )
    db.session.add(item)
    record(
        AuditAction.HANDLE_WORKLIST,
        actor,
        now,
        record_type=RECORD_TYPES[kind],
        record_ids=[record_id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"kind": kind.value, "patient_id": target.patient_id, "note": bool(text)},
    )
    try:
        db.session.commit()
    except IntegrityError:  # someone else handled it at the same moment: theirs stands
        db.session.rollback()
        winner = _find(kind, record_id)
        if winner is None:
            raise
        return Handled(winner, created=False)
    return Handled(item, created=True)


def note_worklist_shown(
    patients: Mapping[int, Sequence[int]],
    unknown_numbers: Mapping[int, int],
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    """Record that the worklist showed personal data: one event per organisation, with
    the ids of the patients shown and how many numbers of unknown senders. Nothing is
    recorded when nothing personal was shown. Commits."""
    now = clock.now()
    for organisation_id in sorted(set(patients) | set(unknown_numbers)):
        record(
            AuditAction.VIEW_WORKLIST,
            actor,
            now,
            record_type="patient",
            record_ids=list(patients.get(organisation_id, ())),
            organisation_id=organisation_id,
            detail={"unknown_numbers": unknown_numbers.get(organisation_id, 0)},
        )
    db.session.commit()


def note_search(
    found: Mapping[int, Sequence[int]],
    organisation_ids: Sequence[int],
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    """Record a patient search: one event per organisation searched, with the ids of the
    patients found there. The terms are not kept. Commits."""
    now = clock.now()
    for organisation_id in sorted(set(organisation_ids) | set(found)):
        ids = list(found.get(organisation_id, ()))
        record(
            AuditAction.SEARCH_PATIENTS,
            actor,
            now,
            record_type="patient",
            record_ids=ids,
            organisation_id=organisation_id,
            detail={"results": len(ids)},
        )
    db.session.commit()


def note_timeline_shown(
    patient_id: int,
    clinic_id: int,
    shown: Mapping[str, str | int | bool | None],
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    """Record that a patient's timeline was shown, and which of their personal data it
    showed (`shown`, e.g. {"names": True, "phone": False}). Commits."""
    clinic = get_clinic(clinic_id)
    record(
        AuditAction.VIEW_PATIENT,
        actor,
        clock.now(),
        record_type="patient",
        record_ids=[patient_id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail=dict(shown),
    )
    db.session.commit()
