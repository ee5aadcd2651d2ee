"""The kinds of worklist item: which rows each is read from, what makes a row one, and
what the viewer may see of it.

- replies not understood, and texts to a clinic's number from a number no patient has;
- rebook requests of appointments still booked;
- patients' cancellations of slots that start within the next 72 hours;
- opt-outs by reply or reported by the carrier (one made by staff needs no one else);
- messages that failed or were not delivered, unless a copy went on another channel.

A `Disclosure` decides what personal data an item carries: a name, a number or a
message's text is None unless the viewer's scope allows it in the item's clinic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import aliased

from app.appointments.models import Appointment, AppointmentStatus
from app.casework.models import HandledItem, WorkKind
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.clinics.scope import StaffScope
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import InboundState, MessageState
from app.patients.models import ConsentAction, ConsentEvent, Patient
from app.patients.service import STAFF_SOURCE_PREFIX

#: A patient's cancellation is a slot to refill while the slot is this close.
CANCELLATION_WINDOW = timedelta(hours=72)
#: The table each kind of item is about.
RECORD_MODELS: dict[WorkKind, type[Any]] = {
    WorkKind.FLAGGED_REPLY: InboundMessage,
    WorkKind.REBOOK_REQUEST: Appointment,
    WorkKind.CANCELLATION: Appointment,
    WorkKind.OPT_OUT: ConsentEvent,
    WorkKind.FAILED_MESSAGE: OutboundMessage,
}
#: How the audit log names each kind's records.
RECORD_TYPES: dict[WorkKind, str] = {
    WorkKind.FLAGGED_REPLY: "inbound_message",
    WorkKind.REBOOK_REQUEST: "appointment",
    WorkKind.CANCELLATION: "appointment",
    WorkKind.OPT_OUT: "consent_event",
    WorkKind.FAILED_MESSAGE: "outbound_message",
}
_UNREACHED = (MessageState.FAILED, MessageState.UNDELIVERED)


@dataclass(frozen=True)
class Disclosure:
    """The clinics in which a viewer may see each kind of personal data."""

    names: frozenset[int] = frozenset()
    phones: frozenset[int] = frozenset()
    messages: frozenset[int] = frozenset()
    answers: frozenset[int] = frozenset()

    @classmethod
    def of(cls, scope: StaffScope) -> Disclosure:
        return cls(
            names=scope.clinic_ids(Permission.SEE_NAMES),
            phones=scope.clinic_ids(Permission.SEE_PHONES),
            messages=scope.clinic_ids(Permission.SEE_MESSAGES),
            answers=scope.clinic_ids(Permission.SEE_ANSWERS),
        )

    def name(self, patient: Patient | None) -> str | None:
        """The patient's name, if it may be shown and is known."""
        if patient is None or patient.clinic_id not in self.names:
            return None
        parts = [p for p in (patient.given_name, patient.family_name) if p]
        return " ".join(parts) or None

    def phone(self, clinic_id: int, number: str | None) -> str | None:
        return number if clinic_id in self.phones else None

    def text(self, clinic_id: int, body: str | None) -> str | None:
        return body if clinic_id in self.messages else None


@dataclass(frozen=True)
class Handling:
    """Who marked an item handled, when, and what they noted."""

    by: str
    at: datetime
    note: str


@dataclass(frozen=True)
class WorkItem:
    """One thing for a person to do, with what the viewer may see of it."""

    kind: WorkKind
    record_id: int
    clinic_id: int
    clinic_name: str
    organisation_id: int
    #: The clinic's time zone, in which times are shown.
    timezone: str
    #: When it happened: received, asked, cancelled, opted out, failed.
    at: datetime
    patient_id: int | None = None
    external_id: str | None = None
    name: str | None = None
    phone: str | None = None
    text: str | None = None
    #: A channel, or "all" for an opt-out of every channel.
    channel: str | None = None
    #: Why a reply was flagged, or where an opt-out came from.
    reason: str | None = None
    error_code: int | None = None
    message_kind: str | None = None
    message_state: str | None = None
    starts_at: datetime | None = None
    handling: Handling | None = None

    @property
    def shows_personal_data(self) -> bool:
        return any(v is not None for v in (self.name, self.phone, self.text))


#: A select of several entities (a record, its patient, its clinic, ...).
Rows = Select[*tuple[Any, ...]]
#: Makes an item from a row: the record, its patient (None for an unknown sender), its
#: clinic, and what the viewer may see.
Build = Callable[[Any, Any, Clinic, Disclosure], WorkItem]


@dataclass(frozen=True)
class Source:
    """How one kind of item is read: its rows, what makes a row an item, its order."""

    kind: WorkKind
    model: type[Any]
    base: Callable[[], Rows]
    identity: Callable[[], list[ColumnElement[bool]]]
    build: Build
    order: Callable[[], list[Any]]
    #: Conditions of the open list only (a time window).
    live: Callable[[datetime], list[ColumnElement[bool]]] = lambda _now: []


def _common(kind: WorkKind, record_id: int, clinic: Clinic, at: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "record_id": record_id,
        "clinic_id": clinic.id,
        "clinic_name": clinic.name,
        "organisation_id": clinic.organisation_id,
        "timezone": clinic.timezone,
        "at": at,
    }


def _patient_fields(patient: Patient | None, shown: Disclosure) -> dict[str, Any]:
    if patient is None:
        return {}
    return {
        "patient_id": patient.id,
        "external_id": patient.external_id,
        "name": shown.name(patient),
        "phone": shown.phone(patient.clinic_id, patient.phone),
    }


def _flagged(
    row: InboundMessage, patient: Patient | None, clinic: Clinic, shown: Disclosure
) -> WorkItem:
    sender: dict[str, Any] = _patient_fields(patient, shown)
    if patient is None:  # a number no patient of the clinic has
        sender["phone"] = shown.phone(clinic.id, row.from_number)
    return WorkItem(
        **_common(WorkKind.FLAGGED_REPLY, row.id, clinic, row.received_at),
        **sender,
        text=shown.text(clinic.id, row.body),
        channel=row.channel,
        reason=row.flag_reason,
    )


def _rebook(row: Appointment, patient: Patient, clinic: Clinic, shown: Disclosure) -> WorkItem:
    at = row.rebook_requested_at or row.updated_at
    return WorkItem(
        **_common(WorkKind.REBOOK_REQUEST, row.id, clinic, at),
        **_patient_fields(patient, shown),
        starts_at=row.starts_at,
    )


def _cancellation(
    row: Appointment, patient: Patient, clinic: Clinic, shown: Disclosure
) -> WorkItem:
    at = row.cancelled_at or row.updated_at
    return WorkItem(
        **_common(WorkKind.CANCELLATION, row.id, clinic, at),
        **_patient_fields(patient, shown),
        starts_at=row.starts_at,
    )


def _opt_out(row: ConsentEvent, patient: Patient, clinic: Clinic, shown: Disclosure) -> WorkItem:
    return WorkItem(
        **_common(WorkKind.OPT_OUT, row.id, clinic, row.created_at),
        **_patient_fields(patient, shown),
        channel=row.channel,
        reason=row.source,
    )


def _failed(row: OutboundMessage, patient: Patient, clinic: Clinic, shown: Disclosure) -> WorkItem:
    return WorkItem(
        **_common(WorkKind.FAILED_MESSAGE, row.id, clinic, row.updated_at),
        **_patient_fields(patient, shown),
        text=shown.text(clinic.id, row.body),
        channel=row.channel,
        error_code=row.error_code,
        message_kind=row.kind,
        message_state=row.state,
    )


def _no_fallback() -> ColumnElement[bool]:
    copy = aliased(OutboundMessage)
    return ~exists(select(copy.id).where(copy.fallback_for_id == OutboundMessage.id))


def _slot_window(now: datetime) -> list[ColumnElement[bool]]:
    # A slot that has started cannot be refilled; one further off is not yet urgent.
    return [Appointment.starts_at > now, Appointment.starts_at <= now + CANCELLATION_WINDOW]


def _rows(query: Rows) -> Rows:
    return query


def _appointments() -> Rows:
    return (
        select(Appointment, Patient, Clinic)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Clinic, Clinic.id == Appointment.clinic_id)
    )


SOURCES: dict[WorkKind, Source] = {
    WorkKind.FLAGGED_REPLY: Source(
        WorkKind.FLAGGED_REPLY,
        InboundMessage,
        base=lambda: _rows(
            select(InboundMessage, Patient, Clinic)
            .join(Clinic, Clinic.id == InboundMessage.clinic_id)
            .outerjoin(Patient, Patient.id == InboundMessage.patient_id)
        ),
        identity=lambda: [InboundMessage.state == InboundState.FLAGGED],
        build=_flagged,
        order=lambda: [InboundMessage.received_at, InboundMessage.id],
    ),
    WorkKind.REBOOK_REQUEST: Source(
        WorkKind.REBOOK_REQUEST,
        Appointment,
        base=_appointments,
        identity=lambda: [
            Appointment.rebook_requested_at.is_not(None),
            Appointment.status == AppointmentStatus.BOOKED,
        ],
        build=_rebook,
        order=lambda: [Appointment.rebook_requested_at, Appointment.id],
    ),
    WorkKind.CANCELLATION: Source(
        WorkKind.CANCELLATION,
        Appointment,
        base=_appointments,
        identity=lambda: [Appointment.status == AppointmentStatus.CANCELLED_PATIENT],
        build=_cancellation,
        order=lambda: [Appointment.starts_at, Appointment.id],
        live=_slot_window,
    ),
    WorkKind.OPT_OUT: Source(
        WorkKind.OPT_OUT,
        ConsentEvent,
        base=lambda: _rows(
            select(ConsentEvent, Patient, Clinic)
            .join(Patient, Patient.id == ConsentEvent.patient_id)
            .join(Clinic, Clinic.id == ConsentEvent.clinic_id)
        ),
        identity=lambda: [
            ConsentEvent.action == ConsentAction.OPT_OUT,
            ~ConsentEvent.source.startswith(STAFF_SOURCE_PREFIX, autoescape=True),
        ],
        build=_opt_out,
        order=lambda: [ConsentEvent.created_at, ConsentEvent.id],
    ),
    WorkKind.FAILED_MESSAGE: Source(
        WorkKind.FAILED_MESSAGE,
        OutboundMessage,
        base=lambda: _rows(
            select(OutboundMessage, Patient, Clinic)
            .join(Patient, Patient.id == OutboundMessage.patient_id)
            .join(Clinic, Clinic.id == OutboundMessage.clinic_id)
        ),
        identity=lambda: [OutboundMessage.state.in_(_UNREACHED), _no_fallback()],
        build=_failed,
        order=lambda: [OutboundMessage.updated_at, OutboundMessage.id],
    ),
}


def _not_handled(source: Source) -> ColumnElement[bool]:
    return ~exists(
        select(HandledItem.id).where(
            HandledItem.kind == source.kind, HandledItem.record_id == source.model.id
        )
    )


def open_conditions(source: Source, now: datetime) -> list[ColumnElement[bool]]:
    return [*source.identity(), *source.live(now), _not_handled(source)]
