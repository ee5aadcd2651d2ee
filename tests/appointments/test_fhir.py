"""Reading FHIR R4 Appointment bundles."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.appointments.fhir import (
    CANCELLATION_DATE_EXTENSION,
    CANCELLATION_REASON_SYSTEM,
    FhirAppointmentRecord,
    ImportedStatus,
    parse_appointment_bundle,
    parse_instant,
)
from app.appointments.models import AppointmentStatus
from app.core.imports import FieldValueError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "fhir"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def bundle_of(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }


def appointment(**fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": "appt-1",
        "status": "booked",
        "start": "2026-07-01T09:00:00Z",
        "participant": [{"actor": {"reference": "Patient/pat-1"}, "status": "accepted"}],
    }
    resource.update(fields)
    return {key: value for key, value in resource.items() if value is not None}


B = ImportedStatus


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, ("appt-1001", "pat-501", B.BOOKED, utc(2026, 7, 1, 9, 0), None, None)),
        (1, ("appt-1002", "pat-502", B.ATTENDED, utc(2026, 6, 2, 8, 30), None, None)),
        (
            2,
            (
                "appt-1003",
                "pat-503",
                B.DNA,
                datetime(2026, 6, 3, 13, 15, 0, 250000, UTC),
                None,
                None,
            ),
        ),
        # cancellationDate extension wins over meta.lastUpdated: 2 days 2 hours ahead.
        (
            3,
            (
                "appt-1004",
                "pat-504",
                B.CANCELLED_PATIENT,
                utc(2026, 7, 1, 10, 0),
                utc(2026, 6, 29, 8, 0),
                3000,
            ),
        ),
        (
            4,
            (
                "appt-1005",
                "pat-505",
                B.CANCELLED_CLINIC,
                utc(2026, 7, 2, 8, 0),
                utc(2026, 6, 30, 16, 0),
                2400,
            ),
        ),
        (5, ("appt-1006", "pat-506", B.CANCELLED_CLINIC, None, None, None)),
        (6, ("appt-1007", "pat-507", B.ATTENDED, utc(2026, 6, 4, 12, 0), None, None)),
        (8, ("appt-1009", "9990001234", B.ATTENDED, utc(2026, 6, 5, 13, 40), None, None)),
    ],
)
def test_searchset_records(index: int, expected: tuple[Any, ...]) -> None:
    result = parse_appointment_bundle(load("appointments_searchset.json"))
    by_index = {record.index: record for record in result.records}
    assert FhirAppointmentRecord(index, *expected) == by_index[index]


def test_searchset_skips_the_proposed_appointment_and_has_no_errors() -> None:
    result = parse_appointment_bundle(load("appointments_searchset.json"))
    assert result.errors == []
    assert [str(issue) for issue in result.skipped] == [
        "entry[7].resource.status: proposed, not yet booked"
    ]
    assert [record.index for record in result.records] == [0, 1, 2, 3, 4, 5, 6, 8]


def test_transaction_bundle_uses_business_identifiers() -> None:
    result = parse_appointment_bundle(load("appointments_transaction.json"))
    assert result.errors == []
    assert [(r.external_id, r.patient_external_id, r.status) for r in result.records] == [
        ("PAS-77001", "pat-601", B.BOOKED),
        ("PAS-77002", "pat-602", B.CANCELLED_PATIENT),
    ]
    assert result.records[1].cancel_lead_minutes == 42 * 60 + 30  # 13th 15:30 to 15th 10:00


def test_every_error_is_reported_with_its_place() -> None:
    result = parse_appointment_bundle(load("appointments_with_errors.json"))
    instant = "not a FHIR instant (date, time with seconds, and Z or an offset)"
    assert [str(issue) for issue in result.errors] == [
        f"entry[0].resource.start: {instant}",
        f"entry[1].resource.start: {instant}",
        "entry[2].resource.start: required for a noshow appointment",
        "entry[3].resource.resourceType: required",
        "entry[4].resource.participant: no Patient participant",
        "entry[5].resource.status: not an R4 appointment status",
        "entry[6].resource.id: required (or an identifier with a value)",
        "entry[6].resource.participant: more than one Patient participant",
        "entry[7].resource.id: duplicate (also entry[8])",
        "entry[8].resource.id: duplicate (also entry[7])",
        f"entry[9].resource.extension[0].valueDateTime: {instant}",
        "entry[10]: not a JSON object",
        "entry[11].resource: required",
    ]
    assert [record.external_id for record in result.records] == ["fine"]
    assert all(issue.index is not None for issue in result.errors)


@pytest.mark.parametrize(
    ("fhir_status", "expected"),
    [
        ("booked", B.BOOKED),
        ("arrived", B.ATTENDED),
        ("checked-in", B.ATTENDED),
        ("fulfilled", B.ATTENDED),
        ("noshow", B.DNA),
        ("cancelled", B.CANCELLED_CLINIC),
    ],
)
def test_status_mapping(fhir_status: str, expected: ImportedStatus) -> None:
    result = parse_appointment_bundle(bundle_of(appointment(status=fhir_status)))
    assert [record.status for record in result.records] == [expected]


@pytest.mark.parametrize("fhir_status", ["proposed", "pending", "waitlist"])
def test_statuses_that_are_not_bookings_are_skipped(fhir_status: str) -> None:
    result = parse_appointment_bundle(bundle_of(appointment(status=fhir_status, start=None)))
    assert result.records == []
    assert result.errors == []
    assert [issue.path for issue in result.skipped] == ["entry[0].resource.status"]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"start": None},
        {"start": "not a time", "participant": None},  # what was in error is not read
        {"id": None, "identifier": [{"value": "PAS-1"}]},
    ],
)
def test_an_entered_in_error_entry_is_read_by_its_id_alone(fields: dict[str, Any]) -> None:
    result = parse_appointment_bundle(bundle_of(appointment(status="entered-in-error", **fields)))
    assert (result.errors, result.skipped) == ([], [])
    (record,) = result.records
    expected_id = "PAS-1" if "identifier" in fields else "appt-1"
    assert record == FhirAppointmentRecord(
        0, expected_id, None, B.ENTERED_IN_ERROR, None, None, None
    )


def test_an_entered_in_error_entry_still_needs_an_id() -> None:
    result = parse_appointment_bundle(bundle_of(appointment(status="entered-in-error", id=None)))
    assert result.records == []
    assert [str(issue) for issue in result.errors] == [
        "entry[0].resource.id: required (or an identifier with a value)"
    ]


def test_the_r4_searchset_reads_its_appointments_and_leaves_the_included_resources() -> None:
    result = parse_appointment_bundle(load("r4_searchset_included.json"))
    assert result.errors == []
    assert [str(issue) for issue in result.skipped] == [
        "entry[2].resource.status: proposed, not yet booked"
    ]
    assert result.records == [
        FhirAppointmentRecord(
            0, "example", "example", B.BOOKED, utc(2013, 12, 10, 9, 0), None, None
        ),
        FhirAppointmentRecord(1, "2docs", "example", B.BOOKED, utc(2013, 12, 9, 9, 0), None, None),
    ]


def test_an_included_patient_does_not_change_whose_appointment_it_is() -> None:
    """Patient/example is the patient "example", never the MR number "12345" its
    included resource carries: the same search without _include gives the same answer."""
    bundle = load("r4_searchset_included.json")
    without = copy.deepcopy(bundle)
    without["entry"] = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert parse_appointment_bundle(bundle).records == parse_appointment_bundle(without).records


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Patient", "id": "pat-1"},
        {"resourceType": "Practitioner", "id": "example"},
        {"resourceType": "Location", "id": "1"},
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "warning", "code": "processing"}],
        },
    ],
)
def test_other_resources_are_neither_errors_nor_skipped(resource: dict[str, Any]) -> None:
    bundle = bundle_of(appointment(), resource)
    bundle["entry"][1]["search"] = {"mode": "outcome" if "issue" in resource else "include"}
    result = parse_appointment_bundle(bundle)
    assert (result.errors, result.skipped) == ([], [])
    assert [record.external_id for record in result.records] == ["appt-1"]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"id": "pat-1"}, "entry[0].resource.resourceType: required"),
        ({"resourceType": 7}, "entry[0].resource.resourceType: not a resource type"),
    ],
)
def test_a_resource_of_no_type_is_still_an_error(resource: Any, expected: str) -> None:
    assert [str(issue) for issue in parse_appointment_bundle(bundle_of(resource)).errors] == [
        expected
    ]


def _transaction(patient: dict[str, Any], reference: str) -> dict[str, Any]:
    """After the R4 bundle-transaction example: a Patient created in the same bundle under
    a urn:uuid, and an appointment that refers to it."""
    uuid = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
    booked = appointment(participant=[{"actor": {"reference": reference}, "status": "accepted"}])
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": uuid, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
            {"resource": booked, "request": {"method": "POST", "url": "Appointment"}},
        ],
    }


PATIENT_234234 = {
    "resourceType": "Patient",
    "identifier": [
        {"system": "http:/example.org/fhir/ids", "value": "234234"},
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990001234"},
    ],
    "name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
}


@pytest.mark.parametrize(
    ("patient", "reference", "expected"),
    [
        (PATIENT_234234, "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "234234"),
        (
            {**PATIENT_234234, "id": "pat-9"},
            "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
            "pat-9",
        ),
        (PATIENT_234234, "Patient/pat-3", "pat-3"),  # not a reference to the bundle's entry
    ],
)
def test_a_reference_to_a_patient_in_the_bundle_is_followed(
    patient: dict[str, Any], reference: str, expected: str
) -> None:
    result = parse_appointment_bundle(_transaction(patient, reference))
    assert result.errors == []
    assert [record.patient_external_id for record in result.records] == [expected]


def test_an_absolute_reference_to_an_included_patient_gives_its_id() -> None:
    bundle = load("r4_searchset_included.json")
    participant = bundle["entry"][0]["resource"]["participant"][0]
    participant["actor"]["reference"] = "https://example.com/base/Patient/example"
    assert parse_appointment_bundle(bundle).records[0].patient_external_id == "example"


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        ({"resourceType": "Patient", "name": [{"family": "Chalmers"}]}, "no usable id"),
        ({"resourceType": "Patient", "id": "bad id"}, "no usable id"),
        ({"resourceType": "Practitioner", "id": "example"}, "no Patient participant"),
    ],
)
def test_a_reference_to_the_bundle_that_names_no_patient_is_an_error(
    patient: dict[str, Any], expected: str
) -> None:
    result = parse_appointment_bundle(
        _transaction(patient, "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a")
    )
    assert result.records == []
    (issue,) = result.errors
    assert issue.index == 1
    assert expected in issue.reason


def test_statuses_have_the_values_of_the_appointment_model() -> None:
    assert {status.value for status in ImportedStatus} == {
        status.value for status in AppointmentStatus
    }


def _reason(system: str, code: Any) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (_reason(CANCELLATION_REASON_SYSTEM, "pat"), B.CANCELLED_PATIENT),
        (_reason(CANCELLATION_REASON_SYSTEM, "pat-crs"), B.CANCELLED_PATIENT),
        (_reason(CANCELLATION_REASON_SYSTEM, "pat-preg"), B.CANCELLED_PATIENT),
        (_reason(CANCELLATION_REASON_SYSTEM, "pat-dec"), B.CANCELLED_PATIENT),
        (_reason(CANCELLATION_REASON_SYSTEM, "prov"), B.CANCELLED_CLINIC),
        (_reason(CANCELLATION_REASON_SYSTEM, "maint"), B.CANCELLED_CLINIC),
        (_reason(CANCELLATION_REASON_SYSTEM, "oth-weath"), B.CANCELLED_CLINIC),
        (_reason("https://pas.example.org/reasons", "pat"), B.CANCELLED_CLINIC),
        (_reason(CANCELLATION_REASON_SYSTEM, ["pat"]), B.CANCELLED_CLINIC),
        ({"text": "rang to cancel"}, B.CANCELLED_CLINIC),
        (None, B.CANCELLED_CLINIC),
    ],
)
def test_who_cancelled(reason: Any, expected: ImportedStatus) -> None:
    resource = appointment(status="cancelled", cancelationReason=reason)
    result = parse_appointment_bundle(bundle_of(resource))
    assert [record.status for record in result.records] == [expected]


@pytest.mark.parametrize(
    ("extra", "cancelled_at", "lead"),
    [
        ({"meta": {"lastUpdated": "2026-06-30T09:00:00Z"}}, utc(2026, 6, 30, 9, 0), 1440),
        (
            {
                "meta": {"lastUpdated": "2026-06-30T09:00:00Z"},
                "extension": [
                    {"url": "https://example.org/other", "valueString": "x"},
                    {"url": CANCELLATION_DATE_EXTENSION, "valueDateTime": "2026-07-01T08:30:00Z"},
                ],
            },
            utc(2026, 7, 1, 8, 30),
            30,
        ),
        ({"meta": {"lastUpdated": "2026-07-01T09:10:30Z"}}, utc(2026, 7, 1, 9, 10, 30), -11),
        ({}, None, None),
    ],
)
def test_cancellation_time_and_lead(
    extra: dict[str, Any], cancelled_at: datetime | None, lead: int | None
) -> None:
    resource = appointment(status="cancelled", **extra)
    (record,) = parse_appointment_bundle(bundle_of(resource)).records
    assert (record.cancelled_at, record.cancel_lead_minutes) == (cancelled_at, lead)


@pytest.mark.parametrize(
    ("fields", "path", "reason"),
    [
        ({"id": "has space"}, "id", "not a FHIR id"),
        ({"id": None, "identifier": "PAS-1"}, "identifier", "not a list"),
        ({"id": None, "identifier": [{"value": "x" * 65}]}, "identifier[0].value", "longer than"),
        ({"status": None}, "status", "required"),
        ({"status": ["booked"]}, "status", "not an R4 appointment status"),
        ({"participant": []}, "participant", "required (a list naming the patient)"),
        (
            {"participant": [{"actor": {"reference": "Patient/bad id"}}]},
            "participant[0].actor.reference",
            "not a Patient/<id> reference",
        ),
        (
            {"participant": [{"actor": {"type": "Patient", "display": "someone"}}]},
            "participant[0].actor",
            "a Patient actor needs",
        ),
        ({"start": "2026-02-30T09:00:00Z"}, "start", "not a valid date and time"),
        ({"start": "2026-07-01T09:00:00+15:00"}, "start", "not a valid time zone offset"),
        ({"start": 1782896400}, "start", "not a FHIR instant"),
        (
            {"status": "cancelled", "cancelationReason": {"coding": "pat"}},
            "cancelationReason",
            "not a CodeableConcept",
        ),
        (
            {"status": "cancelled", "extension": [{"url": CANCELLATION_DATE_EXTENSION}]},
            "extension[0].valueDateTime",
            "required",
        ),
        (
            {"status": "cancelled", "meta": {"lastUpdated": "2026-06-30"}},
            "meta.lastUpdated",
            "not a FHIR instant",
        ),
    ],
)
def test_bad_fields(fields: dict[str, Any], path: str, reason: str) -> None:
    result = parse_appointment_bundle(bundle_of(appointment(**fields)))
    assert result.records == []
    assert len(result.errors) == 1
    (issue,) = result.errors
    assert issue.index == 0
    assert issue.path == f"entry[0].resource.{path}"
    assert issue.reason.startswith(reason)


def test_errors_never_repeat_the_values() -> None:
    resource = appointment(id="bad id 07400123456", start="+447400123456")
    result = parse_appointment_bundle(bundle_of(resource))
    assert result.errors
    assert not any("7400123456" in str(issue) for issue in result.errors)


@pytest.mark.parametrize(
    ("bundle", "expected"),
    [
        ([], "Bundle: not a JSON object"),
        ({"resourceType": "Patient"}, "resourceType: must be Bundle"),
        ({"resourceType": "Bundle", "entry": {}}, "entry: not a list"),
    ],
)
def test_bad_bundles(bundle: Any, expected: str) -> None:
    result = parse_appointment_bundle(bundle)
    assert [str(issue) for issue in result.errors] == [expected]
    assert result.records == []


def test_a_bundle_without_entries_is_empty() -> None:
    result = parse_appointment_bundle({"resourceType": "Bundle", "type": "searchset", "total": 0})
    assert (result.records, result.skipped, result.errors) == ([], [], [])


def test_parsing_leaves_the_bundle_unchanged() -> None:
    bundle = load("appointments_searchset.json")
    before = copy.deepcopy(bundle)
    parse_appointment_bundle(bundle)
    assert bundle == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01T10:00:00+01:00", utc(2026, 7, 1, 9, 0)),
        ("2026-07-01T10:00:00Z", utc(2026, 7, 1, 10, 0)),
        ("2026-07-01T10:00:00.1234567-05:30", datetime(2026, 7, 1, 15, 30, 0, 123456, UTC)),
        ("2026-12-31T23:59:59+14:00", utc(2026, 12, 31, 9, 59, 59)),
    ],
)
def test_instants(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-07-01",
        "2026-07-01T10:00Z",
        "2026-07-01T10:00:00",
        "2026-07-01T10:00:00+0100",
        "2026-13-01T10:00:00Z",
        "2026-07-01T24:00:00Z",
        "2026-07-01T10:00:60Z",
    ],
)
def test_not_instants(text: str) -> None:
    with pytest.raises(FieldValueError):
        parse_instant(text)
