"""Reading FHIR R4 Bundles of Appointment resources (pure: no database, no Flask).

`parse_appointment_bundle` turns a Bundle (the dict from its JSON) into plain records,
the entries it deliberately leaves out, and every problem found, each named by its
place in the bundle: ``entry[3].resource.start: not a FHIR instant``. An entry with any
error yields no record. Reasons never repeat the values they refer to.

Choices:

- External id: ``Appointment.id``; without one (a transaction bundle creating the
  appointment), the first ``identifier`` with a value.
- Patient: the one participant whose ``actor.reference`` is ``Patient/<id>`` (a
  ``/_history/<n>`` suffix is dropped), or whose ``actor.type`` is ``Patient`` and which
  carries ``actor.identifier.value``. None, or two different patients, is an error.
  A reference that names another entry of the bundle by its ``fullUrl`` (a
  ``urn:uuid:`` in a transaction, or an absolute URL) is followed to that entry: if it
  is a Patient, its id, or without one its first ``identifier`` with a value, as for an
  Appointment.
- A Patient resource carried in the bundle never changes whose appointment it is: the
  reference ``Patient/123`` means the patient whose external id is ``123`` whatever
  identifiers an included Patient/123 carries. The same search must give the same
  patients with or without ``_include``, and a Patient usually has several identifiers
  (NHS number, hospital numbers) with nothing to say which one the clinic used; a guess
  could send one patient's reminders to another.
- Other resources: a searchset's included Patient, Practitioner and Location
  (``search.mode: include``), an OperationOutcome, or any resource that is not an
  Appointment, is read only to follow references to it: it is neither imported, nor an
  error, nor listed in `skipped`. An entry without a resource, or a resource without a
  ``resourceType``, is still an error.
- Status: booked → booked (the outcome is pending); arrived, checked-in and fulfilled →
  attended; noshow → dna; cancelled → cancelled_patient when ``cancelationReason`` has a
  code from the HL7 appointment-cancellation-reason system that is ``pat`` or one of its
  children, otherwise cancelled_clinic (a missing reason included). entered-in-error →
  entered_in_error: the appointment never happened, and one already here is withdrawn;
  only its id is read, since the rest of it is what was in error. proposed, pending
  and waitlist are not yet booked: those entries are skipped and listed in `skipped`,
  not treated as errors.
- Start: a FHIR instant (seconds and a time zone required), kept in UTC. Required for
  every status except cancelled (as invariant app-3 of R4 requires) and
  entered-in-error.
- Cancellation time, for the lead time: the R5 ``cancellationDate`` carried in R4 by the
  cross-version extension, else ``meta.lastUpdated`` (the last change to a cancelled
  appointment is normally its cancellation). Either must be a full instant.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from app.core.imports import FieldValueError, identifier

CANCELLATION_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
#: ``pat`` and its children in the R4 code system: the patient cancelled.
PATIENT_CANCELLATION_CODES: frozenset[str] = frozenset(
    {
        "pat",
        "pat-crs",
        "pat-cpp",
        "pat-dec",
        "pat-fb",
        "pat-lt",
        "pat-mt",
        "pat-mv",
        "pat-preg",
        "pat-swl",
        "pat-ucp",
    }
)
CANCELLATION_DATE_EXTENSION = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
)

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))"
)
_MAX_OFFSET = timedelta(hours=14)


class ImportedStatus(enum.StrEnum):
    """What a FHIR status means here; the values are those of `AppointmentStatus`."""

    BOOKED = "booked"  # in the diary, outcome still pending
    ATTENDED = "attended"  # fulfilled, arrived or checked in
    DNA = "dna"  # noshow
    CANCELLED_PATIENT = "cancelled_patient"  # cancelled with a patient reason code
    CANCELLED_CLINIC = "cancelled_clinic"  # cancelled for any other or no reason
    ENTERED_IN_ERROR = "entered_in_error"  # entered-in-error: never happened


_STATUSES: Mapping[str, ImportedStatus] = {
    "booked": ImportedStatus.BOOKED,
    "arrived": ImportedStatus.ATTENDED,
    "checked-in": ImportedStatus.ATTENDED,
    "fulfilled": ImportedStatus.ATTENDED,
    "noshow": ImportedStatus.DNA,
}
_SKIPPED: Mapping[str, str] = {
    "proposed": "proposed, not yet booked",
    "pending": "pending, not yet booked",
    "waitlist": "on the waiting list, not booked",
}
#: Why an entered-in-error entry for an appointment never imported here is skipped.
ENTERED_IN_ERROR_SKIPPED = "entered in error"


@dataclass(frozen=True)
class FhirIssue:
    """A problem with (or a reason to skip) one entry; `index` is None for the bundle."""

    index: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class FhirAppointmentRecord:
    """A checked appointment; instants are aware UTC datetimes.

    `starts_at` is None only for a cancelled appointment without a start, and for an
    entered-in-error one, whose `patient_external_id` is None too (only its id is read).
    `cancel_lead_minutes` is the whole minutes from cancellation to start (negative if
    cancelled after the start), when both are known.
    """

    index: int
    external_id: str
    patient_external_id: str | None
    status: ImportedStatus
    starts_at: datetime | None
    cancelled_at: datetime | None
    cancel_lead_minutes: int | None


@dataclass(frozen=True)
class BundleParse:
    """The good records, the skipped entries and every error, in entry order."""

    records: list[FhirAppointmentRecord]
    skipped: list[FhirIssue]
    errors: list[FhirIssue]


class _Entry:
    """Collects the errors of one entry as its fields are read."""

    def __init__(
        self,
        index: int,
        resource: Mapping[str, object],
        local: Mapping[str, Mapping[str, object]],
    ) -> None:
        self.index = index
        self.resource = resource
        #: The bundle's other resources by their ``fullUrl``, to follow references.
        self.local = local
        self.errors: list[FhirIssue] = []

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(FhirIssue(self.index, f"entry[{self.index}].resource.{field}", reason))


def parse_instant(value: object) -> datetime:
    """A FHIR instant (``2026-07-01T09:30:00+01:00``, fraction optional) as UTC.

    Raises FieldValueError without repeating the value.
    """
    match = _INSTANT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise FieldValueError("not a FHIR instant (date, time with seconds, and Z or an offset)")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if match.group(8) != "Z":
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        offset = -offset if match.group(9) == "-" else offset
    if offset > _MAX_OFFSET or int(match.group(11) or 0) > 59:
        raise FieldValueError("not a valid time zone offset")
    try:
        local = datetime(year, month, day, hour, minute, second, micros, timezone(offset))
        return local.astimezone(UTC)
    except ValueError:
        raise FieldValueError("not a valid date and time") from None
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last instant
        raise FieldValueError("out of the range of dates") from None


def parse_appointment_bundle(bundle: object) -> BundleParse:
    """Read every entry of a FHIR R4 Bundle of Appointments; see the module notes."""
    if not isinstance(bundle, Mapping):
        return BundleParse([], [], [FhirIssue(None, "Bundle", "not a JSON object")])
    if bundle.get("resourceType") != "Bundle":
        return BundleParse([], [], [FhirIssue(None, "resourceType", "must be Bundle")])
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return BundleParse([], [], [FhirIssue(None, "entry", "not a list")])
    records: list[FhirAppointmentRecord] = []
    skipped: list[FhirIssue] = []
    errors: list[FhirIssue] = []
    local = _resources_by_full_url(entries)
    for index, entry in enumerate(entries):
        resource = _appointment_of(index, entry)
        if resource is None:
            continue
        if isinstance(resource, FhirIssue):
            errors.append(resource)
            continue
        status = resource.get("status")
        if isinstance(status, str) and status in _SKIPPED:
            skipped.append(FhirIssue(index, f"entry[{index}].resource.status", _SKIPPED[status]))
            continue
        reader = _Entry(index, resource, local)
        if status == "entered-in-error":
            record = _read_withdrawal(reader)
        else:
            record = _read_appointment(reader, status)
        errors += reader.errors
        if record is not None:
            records.append(record)
    duplicates = _duplicate_errors(records)
    refused = {issue.index for issue in duplicates}
    errors = sorted([*errors, *duplicates], key=lambda issue: issue.index or 0)
    return BundleParse([r for r in records if r.index not in refused], skipped, errors)


def _resources_by_full_url(entries: Sequence[object]) -> dict[str, Mapping[str, object]]:
    """Each entry's resource by the entry's ``fullUrl``, for references within the bundle."""
    found: dict[str, Mapping[str, object]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        full_url, resource = entry.get("fullUrl"), entry.get("resource")
        if isinstance(full_url, str) and isinstance(resource, Mapping):
            found.setdefault(full_url, resource)
    return found


def _appointment_of(index: int, entry: object) -> Mapping[str, object] | FhirIssue | None:
    """The entry's Appointment resource; None for another kind of resource (an included
    Patient, Practitioner or Location, an OperationOutcome), which is not imported; or
    the problem that stops the entry being read."""
    here = f"entry[{index}]"
    if not isinstance(entry, Mapping):
        return FhirIssue(index, here, "not a JSON object")
    resource = entry.get("resource")
    if not isinstance(resource, Mapping):
        reason = "required" if resource is None else "not a JSON object"
        return FhirIssue(index, f"{here}.resource", reason)
    kind = resource.get("resourceType")
    if kind == "Appointment":
        return resource
    if isinstance(kind, str) and _FHIR_ID.fullmatch(kind):
        return None
    reason = "required" if kind is None else "not a resource type"
    return FhirIssue(index, f"{here}.resource.resourceType", reason)


def _read_withdrawal(entry: _Entry) -> FhirAppointmentRecord | None:
    external_id = _external_id(entry)
    if external_id is None:
        return None
    status = ImportedStatus.ENTERED_IN_ERROR
    return FhirAppointmentRecord(entry.index, external_id, None, status, None, None, None)


def _read_appointment(entry: _Entry, status: object) -> FhirAppointmentRecord | None:
    external_id = _external_id(entry)
    patient = _patient(entry)
    fhir_status = _status(entry, status)
    starts_at = _instant(entry, "start", entry.resource.get("start"))
    if fhir_status is not None and entry.resource.get("start") is None and status != "cancelled":
        entry.fail("start", f"required for a {status} appointment")
    cancelled_at = None
    if fhir_status is not None and status == "cancelled":
        fhir_status = _cancelled_by(entry)
        cancelled_at = _cancelled_at(entry)
    if external_id is None or patient is None or fhir_status is None or entry.errors:
        return None
    lead = None
    if starts_at is not None and cancelled_at is not None:
        lead = int((starts_at - cancelled_at).total_seconds() // 60)
    return FhirAppointmentRecord(
        entry.index, external_id, patient, fhir_status, starts_at, cancelled_at, lead
    )


def _status(entry: _Entry, status: object) -> ImportedStatus | None:
    if status is None:
        entry.fail("status", "required")
        return None
    if status == "cancelled":
        return ImportedStatus.CANCELLED_CLINIC
    if not isinstance(status, str) or status not in _STATUSES:
        entry.fail("status", "not an R4 appointment status")
        return None
    return _STATUSES[status]


def _external_id(entry: _Entry) -> str | None:
    resource_id = entry.resource.get("id")
    if resource_id is not None:
        if isinstance(resource_id, str) and _FHIR_ID.fullmatch(resource_id):
            return resource_id
        entry.fail("id", "not a FHIR id (1 to 64 letters, digits, '-' or '.')")
        return None
    identifiers = entry.resource.get("identifier")
    if identifiers is not None and not isinstance(identifiers, list):
        entry.fail("identifier", "not a list")
        return None
    for position, item in enumerate(identifiers or []):
        value = item.get("value") if isinstance(item, Mapping) else None
        if value is not None:
            return _checked(entry, f"identifier[{position}].value", value)
    entry.fail("id", "required (or an identifier with a value)")
    return None


def _checked(entry: _Entry, field: str, value: object) -> str | None:
    try:
        return identifier(value)
    except FieldValueError as exc:
        entry.fail(field, str(exc))
        return None


def _patient(entry: _Entry) -> str | None:
    participants = entry.resource.get("participant")
    if not isinstance(participants, list) or not participants:
        entry.fail("participant", "required (a list naming the patient)")
        return None
    found: dict[str, int] = {}
    errors_before = len(entry.errors)
    for position, participant in enumerate(participants):
        actor = participant.get("actor") if isinstance(participant, Mapping) else None
        if isinstance(actor, Mapping):
            patient = _patient_of(entry, f"participant[{position}].actor", actor)
            if patient is not None:
                found.setdefault(patient, position)
    if len(found) > 1:
        entry.fail("participant", "more than one Patient participant")
    elif not found and len(entry.errors) == errors_before:
        entry.fail("participant", "no Patient participant")
    return next(iter(found)) if len(found) == 1 else None


def _patient_of(entry: _Entry, field: str, actor: Mapping[str, object]) -> str | None:
    reference = actor.get("reference")
    if isinstance(reference, str) and reference in entry.local:
        target = entry.local[reference]
        if target.get("resourceType") != "Patient":
            return None
        return _key_of(entry, f"{field}.reference", target)
    if isinstance(reference, str) and reference.startswith("Patient/"):
        patient_id = reference.removeprefix("Patient/").split("/_history/")[0]
        if _FHIR_ID.fullmatch(patient_id):
            return patient_id
        entry.fail(f"{field}.reference", "not a Patient/<id> reference")
        return None
    if actor.get("type") != "Patient":
        return None
    value = actor.get("identifier")
    if isinstance(value, Mapping) and value.get("value") is not None:
        return _checked(entry, f"{field}.identifier.value", value.get("value"))
    entry.fail(field, "a Patient actor needs a Patient/<id> reference or an identifier value")
    return None


def _key_of(entry: _Entry, field: str, resource: Mapping[str, object]) -> str | None:
    """The external id of a Patient in the bundle: its id, else its first identifier
    value. Problems are reported at the reference (`field`) that led to it."""
    resource_id = resource.get("id")
    if isinstance(resource_id, str) and _FHIR_ID.fullmatch(resource_id):
        return resource_id
    if resource_id is None:
        identifiers = resource.get("identifier")
        for item in identifiers if isinstance(identifiers, list) else []:
            value = item.get("value") if isinstance(item, Mapping) else None
            if value is not None:
                return _checked(entry, field, value)
    entry.fail(field, "the bundle's Patient has no usable id or identifier value")
    return None


def _instant(entry: _Entry, field: str, value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except FieldValueError as exc:
        entry.fail(field, str(exc))
        return None


def _cancelled_by(entry: _Entry) -> ImportedStatus:
    reason = entry.resource.get("cancelationReason")
    if reason is None:
        return ImportedStatus.CANCELLED_CLINIC
    codings = reason.get("coding", []) if isinstance(reason, Mapping) else None
    if not isinstance(codings, list):
        entry.fail("cancelationReason", "not a CodeableConcept with a coding list")
        return ImportedStatus.CANCELLED_CLINIC
    for coding in codings:
        if (
            isinstance(coding, Mapping)
            and coding.get("system") == CANCELLATION_REASON_SYSTEM
            and isinstance(coding.get("code"), str)
            and coding["code"] in PATIENT_CANCELLATION_CODES
        ):
            return ImportedStatus.CANCELLED_PATIENT
    return ImportedStatus.CANCELLED_CLINIC


def _cancelled_at(entry: _Entry) -> datetime | None:
    extensions = entry.resource.get("extension", [])
    for position, extension in enumerate(extensions if isinstance(extensions, list) else []):
        if isinstance(extension, Mapping) and extension.get("url") == CANCELLATION_DATE_EXTENSION:
            field = f"extension[{position}].valueDateTime"
            if extension.get("valueDateTime") is None:
                entry.fail(field, "required")
                return None
            return _instant(entry, field, extension["valueDateTime"])
    meta = entry.resource.get("meta")
    if isinstance(meta, Mapping):
        return _instant(entry, "meta.lastUpdated", meta.get("lastUpdated"))
    return None


def _duplicate_errors(records: Sequence[FhirAppointmentRecord]) -> list[FhirIssue]:
    """An error on every entry whose external id another entry also has."""
    indexes: dict[str, list[int]] = defaultdict(list)
    for record in records:
        indexes[record.external_id].append(record.index)
    issues = []
    for shared in indexes.values():
        for index in shared if len(shared) > 1 else ():
            others = ", ".join(f"entry[{other}]" for other in shared if other != index)
            issues.append(
                FhirIssue(index, f"entry[{index}].resource.id", f"duplicate (also {others})")
            )
    return issues
