"""Reads for the privacy pages and commands: what an erasure would do, whom the audit
log may show to whom, and audit events as staff read them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.clinics.models import ApiToken, Clinic, Organisation, StaffGrant, StaffUser
from app.core.channels import Channel
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import OPEN_STATES
from app.patients import forgetting
from app.patients.models import Patient
from app.privacy.erasure import inbound_of
from app.privacy.models import ErasureState, ProviderErasure


def _count(query: Any) -> int:
    return int(db.session.scalar(query) or 0)


def erasure_preview(patient: Patient) -> dict[str, int]:
    """What erasing the patient would do, as counts (the confirmation page shows them)."""
    sent = OutboundMessage.patient_id == patient.id
    inbound = inbound_of(patient)
    counts = {
        "messages_with_text": _count(
            select(func.count(OutboundMessage.id)).where(sent, OutboundMessage.body.is_not(None))
        ),
        "replies": _count(
            select(func.count(InboundMessage.id)).where(inbound, InboundMessage.body.is_not(None))
        ),
        "pending": _count(
            select(func.count(OutboundMessage.id)).where(
                sent, OutboundMessage.state.in_(sorted(OPEN_STATES))
            )
        ),
        "calls": _count(
            select(func.count(OutboundMessage.id)).where(
                sent,
                OutboundMessage.channel == Channel.VOICE,
                OutboundMessage.provider_sid.is_not(None),
            )
        ),
    }
    return counts | forgetting.count_everywhere(patient.id, patient.clinic_id)


def find_patient(clinic_id: int, external_id: str) -> Patient | None:
    """The clinic's patient with this external id (an erased one has a placeholder)."""
    return db.session.scalar(
        select(Patient).where(Patient.clinic_id == clinic_id, Patient.external_id == external_id)
    )


def provider_erasures(patient_id: int) -> dict[str, int]:
    """How many of the patient's provider copies are in each state."""
    rows = db.session.execute(
        select(ProviderErasure.state, func.count(ProviderErasure.id))
        .where(ProviderErasure.patient_id == patient_id)
        .group_by(ProviderErasure.state)
    ).all()
    found = {ErasureState(state).value: int(count) for state, count in rows}
    return {state.value: found.get(state.value, 0) for state in ErasureState}


# -- the audit log as staff read it -------------------------------------------------------


def organisations(ids: Iterable[int]) -> list[Organisation]:
    """These organisations, by name."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(wanted)).order_by(Organisation.name)
        )
    )


def clinic_ids_of(organisation_ids: Iterable[int]) -> list[int]:
    """Every clinic of these organisations."""
    wanted = sorted(set(organisation_ids))
    if not wanted:
        return []
    return list(db.session.scalars(select(Clinic.id).where(Clinic.organisation_id.in_(wanted))))


def members_of(organisation_ids: Iterable[int]) -> list[StaffUser]:
    """Staff who hold a role in any of these organisations, by name."""
    wanted = sorted(set(organisation_ids))
    if not wanted:
        return []
    holders = select(StaffGrant.user_id).where(StaffGrant.organisation_id.in_(wanted))
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.id.in_(holders))
            .order_by(func.lower(StaffUser.name), StaffUser.email)
        )
    )


@dataclass(frozen=True)
class EventRow:
    """One audit event as the audit log page and its export show it."""

    id: int
    at: datetime
    action: str
    #: "staff", "token" or "system": who did it.
    actor_kind: str
    #: The staff member as "Name (email)" (or the email), the token's label, or "".
    actor: str
    actor_user_id: int | None
    #: The staff member's name (or email) and email, shown on two lines.
    actor_name: str
    actor_email: str
    organisation: str
    clinic: str
    record_type: str
    record_ids: tuple[int, ...]
    address: str
    detail: tuple[tuple[str, str], ...]


def _by_id(model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def describe(events: Sequence[AuditEvent]) -> list[EventRow]:
    """The events with their actors, organisations and clinics named."""
    users = _by_id(StaffUser, {e.actor_user_id for e in events if e.actor_user_id})
    tokens = _by_id(ApiToken, {e.actor_token_id for e in events if e.actor_token_id})
    orgs = _by_id(Organisation, {e.organisation_id for e in events if e.organisation_id})
    clinics = _by_id(Clinic, {e.clinic_id for e in events if e.clinic_id})
    rows = []
    for event in events:
        kind, label = _actor(event, users, tokens)
        user = users.get(event.actor_user_id or 0) if kind == "staff" else None
        rows.append(
            EventRow(
                id=event.id,
                at=event.at,
                action=str(event.action),
                actor_kind=kind,
                actor=label,
                actor_user_id=event.actor_user_id,
                actor_name=(user.display_name if user else label),
                actor_email=(user.email if user and user.name else ""),
                organisation=orgs[event.organisation_id].name if event.organisation_id else "",
                clinic=clinics[event.clinic_id].name if event.clinic_id else "",
                record_type=event.record_type,
                record_ids=tuple(int(i) for i in event.record_ids or ()),
                address=event.address or "",
                detail=tuple((str(k), str(v)) for k, v in sorted((event.detail or {}).items())),
            )
        )
    return rows


def _actor(event: AuditEvent, users: dict[int, Any], tokens: dict[int, Any]) -> tuple[str, str]:
    if event.actor_user_id and event.actor_user_id in users:
        user: StaffUser = users[event.actor_user_id]
        return "staff", f"{user.name} ({user.email})" if user.name else user.email
    if event.actor_token_id and event.actor_token_id in tokens:
        return "token", str(tokens[event.actor_token_id].label)
    return "system", ""
