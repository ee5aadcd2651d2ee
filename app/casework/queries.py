"""Reads for casework: the worklist of the clinics a staff member may see, one worklist
item, and the search for a patient.

Every read takes the staff member's `StaffScope`, which alone decides whose rows are
read; what personal data comes back is the scope's `Disclosure` (`app.casework.items`).
The open worklist lists what needs a person, oldest first (cancelled slots soonest
first); an item leaves it once marked handled (`HandledItem`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from app.casework.items import (
    SOURCES,
    Disclosure,
    Handling,
    Rows,
    Source,
    WorkItem,
    open_conditions,
)
from app.casework.models import HandledItem, WorkKind
from app.casework.search import SearchTerms, like_prefix
from app.clinics.models import Clinic, StaffUser
from app.clinics.roles import Permission
from app.clinics.scope import StaffScope
from app.extensions import db
from app.patients.models import Patient

#: Items listed per kind on one page (the counts cover them all).
SHOWN_PER_KIND = 100
#: Patients listed for one search.
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class ClinicCounts:
    clinic_id: int
    name: str
    counts: dict[WorkKind, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Worklist:
    """The items of one view of the worklist, and the open counts of every clinic."""

    handled: bool
    kinds: tuple[WorkKind, ...]
    items: dict[WorkKind, list[WorkItem]]
    #: Items matching the view's filters, per kind (open view only; the handled view
    #: lists the latest SHOWN_PER_KIND of each kind).
    matching: dict[WorkKind, int]
    clinics: list[ClinicCounts]
    totals: dict[WorkKind, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def disclosed(self) -> dict[int, list[int]]:
        """The patients whose personal data the view shows, by organisation."""
        found: dict[int, set[int]] = {}
        for item in self.all_items():
            if item.patient_id is not None and item.shows_personal_data:
                found.setdefault(item.organisation_id, set()).add(item.patient_id)
        return {org: sorted(ids) for org, ids in found.items()}

    def unknown_numbers(self) -> dict[int, int]:
        """How many numbers of unknown senders the view shows, by organisation."""
        found: dict[int, int] = {}
        for item in self.all_items():
            if item.patient_id is None and item.phone is not None:
                found[item.organisation_id] = found.get(item.organisation_id, 0) + 1
        return found

    def all_items(self) -> Iterable[WorkItem]:
        for kind in self.kinds:
            yield from self.items.get(kind, [])


def open_counts(scope: StaffScope, now: datetime) -> dict[int, dict[WorkKind, int]]:
    """Open items per clinic and kind, in the clinics where the viewer sees the worklist."""
    counts: dict[int, dict[WorkKind, int]] = {}
    for kind, source in SOURCES.items():
        query = (
            select(source.model.clinic_id, func.count(source.model.id))
            .where(*open_conditions(source, now))
            .group_by(source.model.clinic_id)
        )
        query = scope.restrict(query, source.model.clinic_id, Permission.VIEW_WORKLIST)
        for clinic_id, count in db.session.execute(query):
            counts.setdefault(clinic_id, {})[kind] = count
    return counts


def worklist(
    scope: StaffScope,
    now: datetime,
    *,
    handled: bool = False,
    kind: WorkKind | None = None,
    clinic_id: int | None = None,
) -> Worklist:
    """The worklist as the viewer may see it: open items (or, with `handled`, the latest
    handled ones), of one kind and one clinic if asked, and the open counts of each of
    their clinics."""
    shown = Disclosure.of(scope)
    kinds = (kind,) if kind is not None else tuple(WorkKind)
    counts = open_counts(scope, now)
    clinics = [
        ClinicCounts(c.id, c.name, {k: counts.get(c.id, {}).get(k, 0) for k in WorkKind})
        for c in scope.clinics(Permission.VIEW_WORKLIST)
    ]
    items = {k: _items(scope, SOURCES[k], shown, now, handled, clinic_id) for k in kinds}
    matching = {
        k: sum(c.counts[k] for c in clinics if clinic_id in (None, c.clinic_id)) for k in kinds
    }
    totals = {k: sum(c.counts[k] for c in clinics) for k in WorkKind}
    return Worklist(handled, kinds, items, matching, clinics, totals)


def _items(
    scope: StaffScope,
    source: Source,
    shown: Disclosure,
    now: datetime,
    handled: bool,
    clinic_id: int | None,
) -> list[WorkItem]:
    query = scope.restrict(source.base(), source.model.clinic_id, Permission.VIEW_WORKLIST)
    if clinic_id is not None:
        query = query.where(source.model.clinic_id == clinic_id)
    if not handled:
        query = query.where(*open_conditions(source, now)).order_by(*source.order())
        rows = db.session.execute(query.limit(SHOWN_PER_KIND))
        return [source.build(record, patient, clinic, shown) for record, patient, clinic in rows]
    query = (
        query.join(
            HandledItem,
            and_(HandledItem.kind == source.kind, HandledItem.record_id == source.model.id),
        )
        .join(StaffUser, StaffUser.id == HandledItem.handled_by_user_id)
        .add_columns(HandledItem, StaffUser)
        .order_by(HandledItem.handled_at.desc(), HandledItem.id.desc())
    )
    found = []
    for record, patient, clinic, done, user in db.session.execute(query.limit(SHOWN_PER_KIND)):
        item = source.build(record, patient, clinic, shown)
        handling = Handling(user.display_name, done.handled_at, done.note)
        found.append(replace(item, handling=handling))
    return found


def find_item(
    scope: StaffScope, kind: WorkKind, record_id: int, permission: Permission
) -> WorkItem | None:
    """The item of `kind` about `record_id`, if it is one (handled or not) in a clinic
    where the viewer may do `permission`; None otherwise."""
    source = SOURCES[kind]
    query = source.base().where(source.model.id == record_id, *source.identity())
    query = scope.restrict(query, source.model.clinic_id, permission)
    row = db.session.execute(query).first()
    if row is None:
        return None
    record, patient, clinic = row
    return source.build(record, patient, clinic, Disclosure.of(scope))


def find_handling(kind: WorkKind, record_id: int) -> Handling | None:
    """Who handled the item, if anyone has."""
    row = db.session.execute(
        select(HandledItem, StaffUser)
        .join(StaffUser, StaffUser.id == HandledItem.handled_by_user_id)
        .where(HandledItem.kind == kind, HandledItem.record_id == record_id)
    ).first()
    if row is None:
        return None
    done, user = row
    return Handling(user.display_name, done.handled_at, done.note)


@dataclass(frozen=True)
class PatientRow:
    """One patient found by a search, with what the viewer may see of them."""

    id: int
    clinic_id: int
    clinic_name: str
    organisation_id: int
    external_id: str
    name: str | None
    phone: str | None
    locale: str
    channel: str


@dataclass(frozen=True)
class PatientSearch:
    patients: list[PatientRow]
    #: More patients matched than are listed.
    more: bool


def find_patients(scope: StaffScope, terms: SearchTerms) -> PatientSearch:
    """Patients of the viewer's clinics whose external id is the term, whose number is
    the term read as a phone number, or whose names start with each of its words.

    Names are searched only where the viewer may see names, numbers only where they may
    see numbers: a search never confirms what the page could not show.
    """
    shown = Disclosure.of(scope)
    matches: list[ColumnElement[bool]] = [
        func.lower(Patient.external_id) == terms.external_id.lower()
    ]
    if terms.phone is not None and shown.phones:
        matches.append(and_(Patient.phone == terms.phone, Patient.clinic_id.in_(shown.phones)))
    if terms.words and shown.names:
        matches.append(and_(Patient.clinic_id.in_(shown.names), *_name_matches(terms.words)))
    query: Rows = (
        select(Patient, Clinic)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(or_(*matches))
        .order_by(Patient.family_name, Patient.given_name, Patient.external_id, Patient.id)
    )
    query = scope.restrict(query, Patient.__table__.c.clinic_id, Permission.VIEW_PATIENTS)
    rows: list[Any] = list(db.session.execute(query.limit(SEARCH_LIMIT + 1)))
    patients = [
        PatientRow(
            id=patient.id,
            clinic_id=clinic.id,
            clinic_name=clinic.name,
            organisation_id=clinic.organisation_id,
            external_id=patient.external_id,
            name=shown.name(patient),
            phone=shown.phone(clinic.id, patient.phone),
            locale=patient.locale,
            channel=patient.channel_preference,
        )
        for patient, clinic in rows[:SEARCH_LIMIT]
    ]
    return PatientSearch(patients, more=len(rows) > SEARCH_LIMIT)


def _name_matches(words: Iterable[str]) -> list[ColumnElement[bool]]:
    """Each word starts the given or the family name (or a part of it), any case."""
    conditions = []
    names = (func.lower(Patient.given_name), func.lower(Patient.family_name))
    for word in words:
        patterns = like_prefix(word)
        conditions.append(or_(*(n.like(p, escape="\\") for n in names for p in patterns)))
    return conditions


def search_regions(scope: StaffScope) -> frozenset[str]:
    """Regions (beyond the UK) whose numbers a search may read: any the viewer's clinics
    allow."""
    regions: set[str] = set()
    for clinic in scope.clinics(Permission.VIEW_PATIENTS):
        regions |= set(clinic.allowed_regions or [])
    return frozenset(regions)
