"""JSON API v1: a clinic's appointments as its own system knows them, with their
reminders and what the patient answered.

`GET /api/v1/clinics/<slug>/appointments/<external_id>` answers one appointment by the
PAS's identifier: its status, whether the patient confirmed, cancelled or asked to
rebook by reply, and each reminder's channel and delivery state (never its text).
`GET /api/v1/clinics/<slug>/appointments` lists them in pages. Each read is in the audit
log with the token. Needs the `appointments:read` scope.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.operations import ApiBlueprint, Call, Reply
from app.api.pagination import PageQuery, next_cursor
from app.api.schemas import ApiModel, ByExternalId
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.queries import (
    appointment_by_external_id,
    appointments_after,
    patient_external_ids,
    reminders_of,
)
from app.audit.models import AuditAction
from app.audit.service import record
from app.clinics.tokens import Scope
from app.core.channels import Channel
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState

bp = ApiBlueprint("appointments_api")


class Reminder(ApiModel):
    """One reminder of the appointment."""

    rule: str = Field(description="The reminder rule, e.g. `7d` or `1d` before")
    channel: Channel = Field(description="How it goes, or went")
    state: MessageState = Field(description="Where it is: pending, sent, delivered, ...")
    due_at: datetime = Field(description="When it is, or was, due to go")
    accepted_at: datetime | None = Field(description="When the provider took it")
    delivered_at: datetime | None = Field(description="When the handset received it")
    error_code: int | None = Field(description="The provider's error code, if it failed")


class Answered(ApiModel):
    """What the patient said by reply."""

    confirmed_at: datetime | None = Field(description="When the patient confirmed")
    rebook_requested_at: datetime | None = Field(description="When they asked to rebook")
    cancelled_at: datetime | None = Field(description="When it was cancelled")


class AppointmentOut(ApiModel):
    """An appointment, by the clinic's own identifier."""

    external_id: str = Field(description="The PAS's identifier of the appointment")
    patient_external_id: str = Field(description="The PAS's identifier of the patient")
    starts_at: datetime = Field(description="When it starts")
    pathway: str | None = Field(description="The pathway, if the import gave one")
    status: AppointmentStatus = Field(description="booked, attended, dna, cancelled_...")
    patient_answer: Answered = Field(description="Confirmation, cancellation, rebooking")
    reminders: list[Reminder] = Field(description="Its reminders, by due time")
    updated_at: datetime = Field(description="When it last changed")


class AppointmentPage(ApiModel):
    """A page of appointments, by id."""

    items: list[AppointmentOut] = Field(description="The appointments of this page")
    next_cursor: str | None = Field(description="The cursor of the next page; null at the end")


@bp.operation(
    "GET",
    "/clinics/<slug>/appointments/<external_id>",
    scope=Scope.APPOINTMENTS_READ,
    path=ByExternalId,
    responses={200: AppointmentOut, 404: None},
    summary="An appointment, its reminders and the patient's answer",
)
def show_appointment(call: Call) -> Reply:
    """The appointment the clinic's own system calls `external_id`."""
    external_id = call.path_as(ByExternalId).external_id
    found = appointment_by_external_id(call.clinic.id, external_id)
    if found is None:
        return Reply.error(404, "the clinic has no appointment with this external id")
    _audit(call, [found.id])
    return Reply(200, _described([found])[0])


@bp.operation(
    "GET",
    "/clinics/<slug>/appointments",
    scope=Scope.APPOINTMENTS_READ,
    query=PageQuery,
    responses={200: AppointmentPage},
    summary="The clinic's appointments, a page at a time",
)
def list_appointments(call: Call) -> Reply:
    """The clinic's appointments in the order they were first imported."""
    page = call.query_as(PageQuery)
    found = appointments_after(call.clinic.id, page.after_id(), page.limit + 1)
    shown = found[: page.limit]
    _audit(call, [appointment.id for appointment in shown])
    cursor = next_cursor([appointment.id for appointment in found], page.limit)
    return Reply(200, AppointmentPage(items=_described(shown), next_cursor=cursor))


def _described(appointments: list[Appointment]) -> list[AppointmentOut]:
    reminders = reminders_of([appointment.id for appointment in appointments])
    patients = patient_external_ids([appointment.patient_id for appointment in appointments])
    return [
        AppointmentOut(
            external_id=appointment.external_id,
            patient_external_id=patients[appointment.patient_id],
            starts_at=appointment.starts_at,
            pathway=appointment.pathway,
            status=appointment.status,
            patient_answer=Answered(
                confirmed_at=appointment.confirmed_at,
                rebook_requested_at=appointment.rebook_requested_at,
                cancelled_at=appointment.cancelled_at,
            ),
            reminders=[_reminder(row) for row in reminders[appointment.id]],
            updated_at=appointment.updated_at,
        )
        for appointment in appointments
    ]


def _reminder(row: OutboundMessage) -> Reminder:
    return Reminder(
        rule=row.rule,
        channel=row.channel,
        state=row.state,
        due_at=row.due_at,
        accepted_at=row.accepted_at,
        delivered_at=row.delivered_at,
        error_code=row.error_code,
    )


def _audit(call: Call, appointment_ids: list[int]) -> None:
    if not appointment_ids:
        return
    record(
        AuditAction.VIEW_APPOINTMENTS,
        call.actor,
        call.clock.now(),
        record_type="appointment",
        record_ids=appointment_ids,
        clinic_id=call.clinic.id,
        organisation_id=call.clinic.organisation_id,
        detail={"via": "api"},
    )
    db.session.commit()
