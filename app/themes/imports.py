"""Importing PALS contacts, complaints and compliments from a CSV file.

The rules of every import: each bad row is reported as `FILE:LINE: FIELD: reason` and
skipped, the good rows are written in one transaction (with `strict`, nothing is written
if any row is bad), and the same file imported twice adds nothing the second time. The
themes given in the file are recorded as the contact's confirmed codes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic
from app.clinics.queries import find_organisation
from app.core.clock import Clock
from app.core.errors import NotFound
from app.core.imports import ImportReport, RowError, chunks, csv_batch
from app.db import commit_import
from app.extensions import db
from app.themes.codebook import codebook, name_resolver
from app.themes.models import PalsContact
from app.themes.pals import PALS_COLUMNS, PalsRecord, validate_pals
from app.themes.service import pals_comment, set_codes


def import_pals_csv(
    path: Path,
    org_slug: str,
    *,
    strict: bool,
    clock: Clock,
    actor: Actor,
    source: str | None = None,
) -> ImportReport:
    """Import a PALS export into the organisation `org_slug`; commits (see the module).

    Raises NotFound for an unknown organisation and Invalid for a file that is not
    UTF-8 CSV.
    """
    organisation = find_organisation(org_slug)
    if organisation is None:
        raise NotFound(f"--org: no organisation {org_slug!r}")
    now = clock.now()
    batch = csv_batch(path, PALS_COLUMNS, source=source)
    resolve = name_resolver(codebook(organisation.id))

    def theme_id(name: str) -> int | None:
        theme = resolve(name)
        return theme.id if theme else None

    records, errors = validate_pals(
        batch.rows, source=batch.source, today=now.date(), theme_id=theme_id
    )
    clinics = {
        clinic.slug: clinic.id
        for clinic in db.session.scalars(
            select(Clinic).where(Clinic.organisation_id == organisation.id)
        )
    }
    placed = []
    for r in records:
        if r.clinic is not None and r.clinic not in clinics:
            reason = "no such clinic in this organisation"
            errors.append(RowError(batch.source, r.line, "clinic", reason))
        else:
            placed.append(r)
    report = ImportReport(
        "PALS contacts", errors=sorted(batch.errors + errors, key=lambda e: (e.line, e.field))
    )
    if strict and report.errors:
        report.imported = False
        return report
    known = set()
    for part in chunks([r.row_key for r in placed]):
        known |= set(
            db.session.scalars(
                select(PalsContact.row_key).where(
                    PalsContact.organisation_id == organisation.id,
                    PalsContact.row_key.in_(list(part)),
                )
            )
        )
    new: list[tuple[PalsRecord, PalsContact]] = []
    for r in placed:
        if r.row_key in known:
            report.unchanged += 1
            continue
        contact = PalsContact(
            organisation_id=organisation.id,
            clinic_id=clinics[r.clinic] if r.clinic else None,
            contact_date=r.contact_date,
            kind=r.kind,
            text=r.text,
            birth_year=r.birth_year,
            sex=r.sex,
            ethnic_category=r.ethnic_category,
            imd_quintile=r.imd_quintile,
            row_key=r.row_key,
            imported_at=now,
        )
        db.session.add(contact)
        new.append((r, contact))
    db.session.flush()
    for r, contact in new:
        if r.themes or r.text:
            comment = pals_comment(contact, now)
            db.session.add(comment)
            db.session.flush()
            if r.themes:
                set_codes(comment, r.themes)
                comment.confirmed_at = now  # coded by the organisation's PALS team
    report.created = len(new)
    record(
        AuditAction.IMPORT,
        actor,
        now,
        record_type="pals_contact",
        organisation_id=organisation.id,
        detail={"created": report.created, "bad_rows": report.bad_rows},
    )
    commit_import(db.session)
    return report
