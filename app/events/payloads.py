"""What a delivery sends, and what its answer means (pure).

- A webhook's body is the JSON ``{id, type, occurred_at, clinic, data}``, the same
  bytes on every attempt, so a signature can be checked against what was sent.
- The FHIR write-back edits the Appointment the clinic's server holds: a patient's
  cancellation sets ``status`` cancelled with the ``cancelationReason`` ``pat`` (the
  patient) from the HL7 appointment-cancellation-reason system, which WeSaid's own
  FHIR import reads back as a cancellation by the patient; a confirmation sets the
  patient participant's ``status`` to accepted.
- Retries back off exponentially: 30 s, 1 min, 2 min, ... up to 6 hours apart, for at
  most `MAX_ATTEMPTS` attempts (about a day and a half in all).
"""

from __future__ import annotations

import copy
import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.appointments.fhir import CANCELLATION_REASON_SYSTEM
from app.events.models import EventType

MAX_ATTEMPTS = 12
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=6)
#: Webhook answers that say "never again" (the receiver has gone for good).
GONE = frozenset({410})
#: The events the FHIR write-back carries to the clinic's server.
WRITTEN_BACK = frozenset(
    {EventType.APPOINTMENT_CONFIRMED, EventType.APPOINTMENT_CANCELLED_BY_PATIENT}
)


def instant(moment: datetime) -> str:
    """A UTC instant as ISO 8601 with a Z, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def event_body(
    public_id: str, type_: str, occurred_at: datetime, clinic: str, data: dict[str, Any]
) -> bytes:
    """The webhook body: compact JSON with sorted keys, so every attempt sends the same."""
    document = {
        "id": public_id,
        "type": type_,
        "occurred_at": instant(occurred_at),
        "clinic": clinic,
        "data": data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt (1 → 30 s, 2 → 1 min...)."""
    delay: timedelta = min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX)
    return delay


class Reason(enum.StrEnum):
    """Why an attempt did not deliver, as the delivery log shows it (with the status)."""

    REFUSED = "refused"  # the endpoint answered a status other than 2xx
    TIMEOUT = "timeout"  # no answer within the read timeout
    UNREACHABLE = "unreachable"  # no connection (refused, no such host, TLS failure)
    REQUEST_FAILED = "request_failed"  # the request could not be made at all
    SEARCH_FAILED = "search_failed"  # the FHIR search answered a status other than 200
    NOT_A_BUNDLE = "not_a_bundle"  # the FHIR search answered something else
    NO_MATCH = "no_match"  # no Appointment has the identifier (yet)
    SEVERAL_MATCHES = "several_matches"  # more than one Appointment has it
    NO_PATIENT = "no_patient"  # the Appointment has no patient participant
    UPDATE_FAILED = "update_failed"  # the conditional update answered another status
    REVOKED = "revoked"  # the subscription was revoked
    FHIR_OFF = "fhir_off"  # the clinic turned the write-back off
    UNKNOWN_APPOINTMENT = "unknown_appointment"  # the appointment is no longer held
    ADDRESS_REFUSED = "address_refused"  # the address is no longer allowed
    NO_ANSWER_RECORDED = "no_answer_recorded"  # the worker stopped during the attempt


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: the HTTP status (None: no answer) and our reason."""

    status: int | None
    error: Reason | None = None
    #: True if retrying cannot help (the receiver is gone, the data is wrong).
    permanent: bool = False
    #: True if the target no longer wants it (revoked, turned off): not a failure.
    cancelled: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


def webhook_answer(status: int) -> Answer:
    """A webhook's HTTP status: 2xx delivered, 410 gone for good, anything else retried."""
    if 200 <= status < 300:
        return Answer(status)
    return Answer(status, Reason.REFUSED, permanent=status in GONE)


class FhirRefusal(ValueError):
    """The Appointment found cannot take the change (no patient participant)."""


def cancelled_by_patient(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` (an Appointment) cancelled by the patient; the original is untouched."""
    changed = _without_meta(resource)
    changed["status"] = "cancelled"
    changed["cancelationReason"] = {
        "coding": [{"system": CANCELLATION_REASON_SYSTEM, "code": "pat", "display": "Patient"}]
    }
    return changed


def confirmed_by_patient(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` (an Appointment) with its patient participant's status accepted.

    Raises FhirRefusal when no participant is the patient (a ``Patient/…`` reference
    or an actor of type Patient)."""
    changed = _without_meta(resource)
    patients = [p for p in changed.get("participant") or [] if _is_patient(p)]
    if not patients:
        raise FhirRefusal("the Appointment has no patient participant")
    for participant in patients:
        participant["status"] = "accepted"
    return changed


def written_back(type_: EventType, resource: dict[str, Any]) -> dict[str, Any]:
    """The Appointment as the event leaves it."""
    if type_ is EventType.APPOINTMENT_CANCELLED_BY_PATIENT:
        return cancelled_by_patient(resource)
    if type_ is EventType.APPOINTMENT_CONFIRMED:
        return confirmed_by_patient(resource)
    raise ValueError(f"{type_.value} is not written back")


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    # The server keeps meta (version, last updated); sending it back would only clash.
    changed = copy.deepcopy(resource)
    changed.pop("meta", None)
    return changed


def _is_patient(participant: Any) -> bool:
    if not isinstance(participant, dict):
        return False
    actor = participant.get("actor")
    if not isinstance(actor, dict):
        return False
    reference = actor.get("reference")
    return (isinstance(reference, str) and reference.startswith("Patient/")) or actor.get(
        "type"
    ) == "Patient"


def version_of(resource: dict[str, Any]) -> str | None:
    """The resource's ``meta.versionId``, for If-Match; None if the server gave none."""
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return str(version) if isinstance(version, str | int) and str(version) else None


def matches(bundle: Any) -> list[dict[str, Any]]:
    """The Appointments of a searchset Bundle (included resources are left out).

    Raises ValueError for anything that is not a Bundle."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValueError("the search answer is not a Bundle")
    found: list[dict[str, Any]] = []
    for entry in bundle.get("entry") or []:
        if (
            not isinstance(entry, dict)
            or (entry.get("search") or {}).get("mode", "match") != "match"
        ):
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "Appointment":
            found.append(resource)
    return found
