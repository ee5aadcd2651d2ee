"""JSON API v1: a clinic's patients as its own system knows them, with their consent.

`GET /api/v1/clinics/<slug>/patients/<external_id>` answers one patient by the PAS's
identifier: language, preferred channel and, for each channel, whether the patient may
be messaged on it (the consent ledger's latest word). `GET /api/v1/clinics/<slug>/patients`
lists them in pages. Neither returns a name or a number. Each read is in the audit log
with the token. Needs the `patients:read` scope.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import Field

from app.api.operations import ApiBlueprint, Call, Reply
from app.api.pagination import PageQuery, next_cursor
from app.api.schemas import ApiModel, ByExternalId
from app.audit.models import AuditAction
from app.audit.service import record
from app.clinics.tokens import Scope
from app.core.channels import Channel
from app.extensions import db
from app.patients.models import ConsentAction, Patient
from app.patients.queries import consent_in_force, patient_by_external_id, patients_after

bp = ApiBlueprint("patients_api")
CHANNELS: tuple[str, ...] = tuple(channel.value for channel in Channel)


class ConsentState(enum.StrEnum):
    OPTED_OUT = "opted_out"  # the patient asked for no more messages on this channel
    OPTED_IN = "opted_in"  # the patient asked to hear from the clinic again
    NOT_RECORDED = "not_recorded"  # no word either way: the clinic may message


class ChannelConsent(ApiModel):
    """Whether the clinic may message the patient on one channel."""

    channel: Channel = Field(description="The channel")
    state: ConsentState = Field(description="The consent ledger's latest word")
    may_message: bool = Field(description="False once the patient opted out")
    changed_at: datetime | None = Field(description="When the latest word was recorded")


class PatientOut(ApiModel):
    """A patient, by the clinic's own identifier."""

    external_id: str = Field(description="The PAS's identifier of the patient")
    locale: str = Field(description="Preferred language")
    channel: Channel = Field(description="The preferred channel")
    consent: list[ChannelConsent] = Field(description="One entry per channel")
    updated_at: datetime = Field(description="When the patient was last imported or changed")


class PatientPage(ApiModel):
    """A page of patients, by id."""

    items: list[PatientOut] = Field(description="The patients of this page")
    next_cursor: str | None = Field(description="The cursor of the next page; null at the end")


@bp.operation(
    "GET",
    "/clinics/<slug>/patients/<external_id>",
    scope=Scope.PATIENTS_READ,
    path=ByExternalId,
    responses={200: PatientOut, 404: None},
    summary="A patient and their consent per channel",
)
def show_patient(call: Call) -> Reply:
    """The patient the clinic's own system calls `external_id`."""
    external_id = call.path_as(ByExternalId).external_id
    patient = patient_by_external_id(call.clinic.id, external_id)
    if patient is None:
        return Reply.error(404, "the clinic has no patient with this external id")
    out = _described(call.clinic.id, [patient])
    _audit(call, [patient.id])
    return Reply(200, out[0])


@bp.operation(
    "GET",
    "/clinics/<slug>/patients",
    scope=Scope.PATIENTS_READ,
    query=PageQuery,
    responses={200: PatientPage},
    summary="The clinic's patients, a page at a time",
)
def list_patients(call: Call) -> Reply:
    """The clinic's patients in the order they were first imported."""
    page = call.query_as(PageQuery)
    found = patients_after(call.clinic.id, page.after_id(), page.limit + 1)
    shown = found[: page.limit]
    _audit(call, [patient.id for patient in shown])
    cursor = next_cursor([patient.id for patient in found], page.limit)
    return Reply(200, PatientPage(items=_described(call.clinic.id, shown), next_cursor=cursor))


def _described(clinic_id: int, patients: list[Patient]) -> list[PatientOut]:
    consent = consent_in_force(clinic_id, [patient.id for patient in patients], CHANNELS)
    return [
        PatientOut(
            external_id=patient.external_id,
            locale=patient.locale,
            channel=patient.channel_preference,
            consent=[_channel(channel, latest) for channel, latest in consent[patient.id].items()],
            updated_at=patient.updated_at,
        )
        for patient in patients
    ]


def _channel(channel: str, latest: tuple[ConsentAction, datetime] | None) -> ChannelConsent:
    if latest is None:
        return ChannelConsent(
            channel=Channel(channel),
            state=ConsentState.NOT_RECORDED,
            may_message=True,
            changed_at=None,
        )
    action, at = latest
    opted_out = action is ConsentAction.OPT_OUT
    return ChannelConsent(
        channel=Channel(channel),
        state=ConsentState.OPTED_OUT if opted_out else ConsentState.OPTED_IN,
        may_message=not opted_out,
        changed_at=at,
    )


def _audit(call: Call, patient_ids: list[int]) -> None:
    if not patient_ids:
        return
    record(
        AuditAction.VIEW_PATIENT,
        call.actor,
        call.clock.now(),
        record_type="patient",
        record_ids=patient_ids,
        clinic_id=call.clinic.id,
        organisation_id=call.clinic.organisation_id,
        detail={"via": "api"},
    )
    db.session.commit()
