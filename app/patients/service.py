"""Commands on patients: importing them from a CSV file or the JSON API, and the changes
staff make on a patient's behalf (how they are reached, an opt-out).

An import checks every row first, then writes the good rows in one transaction and
commits. Rows are matched to existing patients by the clinic's external id: a row equal
to what is stored is counted as unchanged and not written, so importing a file twice
changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import select

from app.audit import service as audit
from app.audit.models import AuditAction
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic, get_clinic_by_slug
from app.core import locales, phone
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.core.imports import (
    WRITE_CHUNK,
    ImportReport,
    Progress,
    RowBatch,
    RowError,
    RowProgress,
    chunks,
    csv_batch,
    json_batch,
)
from app.db import commit_import
from app.extensions import db
from app.patients.consent import ALL_CHANNELS, record_opt_out
from app.patients.importers import (
    PATIENT_COLUMNS,
    PATIENT_OPTIONAL_COLUMNS,
    PatientRecord,
    validate_patients,
)
from app.patients.models import Patient

__all__ = [
    "ChannelRefused",
    "ImportReport",
    "change_contact",
    "import_patient_rows",
    "import_patients_csv",
    "opt_out_for_patient",
    "staff_source",
]

#: The consent ledger's source of a change made by staff: `staff:<their user id>`.
STAFF_SOURCE_PREFIX = "staff:"

_DEMOGRAPHICS = ("phone", "locale", "birth_year", "sex", "ethnic_category", "imd_quintile")


def import_patients_csv(
    path: Path,
    clinic_slug: str,
    *,
    strict: bool,
    clock: Clock,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import patients from a CSV file into the clinic `clinic_slug`; commits.

    Columns: external_id, phone, locale, birth_year, sex, ethnic_category, imd_quintile.
    Errors name the file (as `source`, by default its path) and the physical line. With
    `strict`, nothing is written if any row is bad. `progress` is told the rows done as
    they are checked and written. Raises NotFound for an unknown clinic and Invalid for
    a file that is not UTF-8 CSV.
    """
    clinic = get_clinic_by_slug(clinic_slug)
    batch = csv_batch(path, PATIENT_COLUMNS, PATIENT_OPTIONAL_COLUMNS, source)
    return _import(clinic, batch, strict=strict, clock=clock, progress=progress)


def import_patient_rows(
    clinic_id: int,
    rows: Sequence[Mapping[str, object]],
    *,
    source: str,
    strict: bool,
    clock: Clock,
) -> ImportReport:
    """Import patients given as mappings (a JSON body); errors carry 0-based row indexes.

    Same rules and same commit as `import_patients_csv`; absent optional fields mean
    "not known".
    """
    clinic = get_clinic(clinic_id)
    return _import(clinic, json_batch(rows, source), strict=strict, clock=clock)


def _import(
    clinic: Clinic,
    batch: RowBatch,
    *,
    strict: bool,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportReport:
    now, source = clock.now(), batch.source
    done = RowProgress(batch.size, progress)
    done.advance(0)
    regions = frozenset(clinic.allowed_regions)
    records, row_errors = validate_patients(
        batch.rows, source=source, allowed_regions=regions, this_year=now.year
    )
    existing = _existing_by_external_id(clinic.id, [r.external_id for r in records])
    clashes = _phone_clashes(clinic.id, records, source)
    report = ImportReport(
        "patients", errors=sorted(batch.errors + row_errors + clashes, key=_order)
    )
    if strict and report.errors:
        report.imported = False
        return report
    bad = {error.line for error in clashes}
    good = [record for record in records if record.line not in bad]
    done.leave(len(good))
    for part in chunks(good, WRITE_CHUNK):
        for record in part:
            _apply(clinic.id, record, existing.get(record.external_id), report, clock)
        done.advance(len(part))
    commit_import(db.session)
    return report


def _order(error: RowError) -> tuple[int, str]:
    return error.line, error.field


def _apply(
    clinic_id: int,
    record: PatientRecord,
    patient: Patient | None,
    report: ImportReport,
    clock: Clock,
) -> None:
    if patient is None:
        db.session.add(_new_patient(clinic_id, record, clock))
        report.created += 1
    elif _differs(patient, record):
        for name in _DEMOGRAPHICS:
            setattr(patient, name, getattr(record, name))
        if record.channel_preference is not None:
            patient.channel_preference = record.channel_preference
        if record.names_given:
            patient.given_name, patient.family_name = record.given_name, record.family_name
        patient.updated_at = clock.now()
        report.updated += 1
    else:
        report.unchanged += 1


def _new_patient(clinic_id: int, record: PatientRecord, clock: Clock) -> Patient:
    now = clock.now()
    return Patient(
        clinic_id=clinic_id,
        external_id=record.external_id,
        channel_preference=record.channel_preference or Channel.SMS,
        given_name=record.given_name,
        family_name=record.family_name,
        created_at=now,
        updated_at=now,
        **{name: getattr(record, name) for name in _DEMOGRAPHICS},
    )


def _differs(patient: Patient, record: PatientRecord) -> bool:
    if record.channel_preference not in (None, patient.channel_preference):
        return True
    names = (record.given_name, record.family_name)
    if record.names_given and names != (patient.given_name, patient.family_name):
        return True
    return any(getattr(patient, name) != getattr(record, name) for name in _DEMOGRAPHICS)


def find_patients_by_external_id(clinic_id: int, external_ids: Sequence[str]) -> list[Patient]:
    """The clinic's patients with these external ids (any not found are left out)."""
    found: list[Patient] = []
    for part in chunks(sorted(set(external_ids))):
        found += db.session.scalars(
            select(Patient).where(Patient.clinic_id == clinic_id, Patient.external_id.in_(part))
        )
    return found


def _existing_by_external_id(clinic_id: int, external_ids: Sequence[str]) -> dict[str, Patient]:
    return {p.external_id: p for p in find_patients_by_external_id(clinic_id, external_ids)}


def _phone_clashes(clinic_id: int, records: Sequence[PatientRecord], source: str) -> list[RowError]:
    """Rows whose number already belongs to another patient of the clinic.

    Replies find their patient by the number they come from, so one number must not
    stand for two patients of one clinic.
    """
    owners: dict[str, set[str]] = {}
    for part in chunks(sorted({r.phone for r in records})):
        pairs = db.session.execute(
            select(Patient.phone, Patient.external_id).where(
                Patient.clinic_id == clinic_id, Patient.phone.in_(part)
            )
        )
        for number, external_id in pairs:
            owners.setdefault(number, set()).add(external_id)
    return [
        RowError(source, r.line, "phone", "already used by another patient of this clinic")
        for r in records
        if owners.get(r.phone, set()) - {r.external_id}
    ]


class ChannelRefused(Invalid):
    """The patient's number cannot take the channel asked for (a landline cannot take
    texts); `reason_code` is the phone policy's (`app.core.phone.PhoneRejected`)."""

    def __init__(self, channel: Channel, reason_code: str) -> None:
        super().__init__(f"the patient's number cannot take {channel.value}: {reason_code}")
        self.channel = channel
        self.reason_code = reason_code


def staff_source(user_id: int) -> str:
    """How the consent ledger names a change made by the staff member `user_id`."""
    return f"{STAFF_SOURCE_PREFIX}{user_id}"


def _get_patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def _number_for(channel: Channel) -> Channel:
    # A web link travels by SMS, so it needs a number that takes texts.
    return channel if channel in phone.CHANNELS else Channel.SMS


def change_contact(
    patient_id: int, *, channel: Channel, locale: str, actor: Actor, clock: Clock
) -> list[str]:
    """Change how the patient is reached: their channel and their language. Returns the
    fields changed ("channel", "locale"); nothing changed is nothing recorded.

    Refuses (Invalid) a language WeSaid does not speak, and (ChannelRefused) a channel
    the patient's number cannot take under the phone policy: a landline takes calls only.
    NotFound for no such patient. The change is in the audit log (CHANGE_PATIENT, with
    the fields and the new values, which are codes). Commits.
    """
    if not locales.is_supported(locale):
        raise Invalid(f"{locale!r} is not a language WeSaid speaks")
    patient = _get_patient(patient_id)
    clinic = get_clinic(patient.clinic_id)
    if channel is not patient.channel_preference:
        try:
            phone.normalise(
                patient.phone,
                _number_for(channel),
                allowed_regions=frozenset(clinic.allowed_regions),
            )
        except phone.PhoneRejected as refused:
            raise ChannelRefused(channel, refused.reason_code) from None
    changed = [
        name
        for name, now, then in (
            ("channel", channel, patient.channel_preference),
            ("locale", locale, patient.locale),
        )
        if now != then
    ]
    if not changed:
        return []
    patient.channel_preference, patient.locale = channel, locale
    patient.updated_at = clock.now()
    audit.record(
        AuditAction.CHANGE_PATIENT,
        actor,
        clock.now(),
        record_type="patient",
        record_ids=[patient.id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"fields": ",".join(changed), "channel": channel.value, "locale": locale},
    )
    db.session.commit()
    return changed


def opt_out_for_patient(patient_id: int, *, actor: Actor, clock: Clock) -> bool:
    """Opt the patient out of every message of their clinic, on their behalf, exactly as
    a STOP reply does: the consent ledger records it (source `staff:<user id>`), the
    opt-out listeners close what is open (a survey), and every message still pending is
    suppressed when it falls due. Returns False if they were opted out already.

    Refuses (Invalid) an actor who is not a staff member; NotFound for no such patient.
    In the audit log as OPT_OUT_FOR_PATIENT either way. Commits.
    """
    if actor.user_id is None:
        raise Invalid("an opt-out on a patient's behalf needs a staff member")
    patient = _get_patient(patient_id)
    clinic = get_clinic(patient.clinic_id)
    now = clock.now()
    changed = record_opt_out(patient.id, clinic.id, ALL_CHANNELS, staff_source(actor.user_id), now)
    audit.record(
        AuditAction.OPT_OUT_FOR_PATIENT,
        actor,
        now,
        record_type="patient",
        record_ids=[patient.id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail={"changed": changed},
    )
    db.session.commit()
    return changed
