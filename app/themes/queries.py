"""Reads for PALS beside the surveys: theme counts, and who contacts PALS or complains
against who uses the service.

`pals_theme_counts` counts the PALS contacts, complaints and compliments coded with each
theme (the codes that came with the import or were confirmed in the queue), to sit
beside the survey themes' weighted shares (app.themes.shares) on one page.

`who_contacts` compares, for one demographic variable (age band, sex, ethnic group or
deprivation quintile, grouped as the results store groups them), the share of each
level among the contacts against its share among the patients who had an appointment
in the same clinics and dates, each with a Wilson interval. Contacts are counted, not
weighted: PALS is not a sample. `ratio` above 1 means a group contacts PALS more than
its share of the service's patients. A level with fewer than 10 contacts keeps its
count but has no share (`suppressed`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select

from app.appointments.models import Appointment
from app.core.errors import Invalid
from app.core.intervals import wilson_interval
from app.extensions import db
from app.patients.models import Patient
from app.results import categories as cat
from app.results.questions import SUPPRESS_BELOW
from app.themes.models import PalsContact, Theme, ThemeCode, ThemeComment
from app.themes.pals import PalsKind

VARIABLES = ("age_band", "sex", "ethnic", "imd")


@dataclass(frozen=True)
class ThemeCount:
    theme_id: int
    name: str
    category: str
    kind: PalsKind
    contacts: int


@dataclass(frozen=True)
class Representation:
    """One level of a variable: contacts against the service's patients."""

    level: str
    contacts: int
    contact_share: float | None  # None when suppressed
    contact_low: float | None
    contact_high: float | None
    patients: int
    patient_share: float | None
    patient_low: float | None
    patient_high: float | None
    ratio: float | None  # contact share / patient share
    suppressed: bool


def _contacts_filter(
    organisation_id: int, first: date, last: date, clinic_ids: Collection[int] | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        PalsContact.organisation_id == organisation_id,
        PalsContact.contact_date >= first,
        PalsContact.contact_date <= last,
    ]
    if clinic_ids is not None:
        where.append(PalsContact.clinic_id.in_(list(clinic_ids)))
    return where


def pals_theme_counts(
    organisation_id: int, first: date, last: date, clinic_ids: Collection[int] | None = None
) -> list[ThemeCount]:
    """Contacts coded with each theme, by kind, most first (dates inclusive; None: every
    clinic and the organisation-wide contacts)."""
    rows = db.session.execute(
        select(Theme.id, Theme.name, Theme.category, PalsContact.kind, func.count())
        .join(ThemeCode, ThemeCode.theme_id == Theme.id)
        .join(ThemeComment, ThemeComment.id == ThemeCode.comment_id)
        .join(PalsContact, PalsContact.id == ThemeComment.pals_contact_id)
        .where(
            ThemeComment.confirmed_at.is_not(None),
            *_contacts_filter(organisation_id, first, last, clinic_ids),
        )
        .group_by(Theme.id, Theme.name, Theme.category, PalsContact.kind)
    ).all()
    counts = [ThemeCount(row[0], row[1], row[2], PalsKind(row[3]), int(row[4])) for row in rows]
    return sorted(counts, key=lambda c: (-c.contacts, c.name, c.kind.value))


def waiting_comments(organisation_id: int, clinic_ids: Collection[int] | None = None) -> int:
    """How many comments wait to be coded within `clinic_ids` (None: the whole
    organisation), those whose words were purged included."""
    query = select(func.count()).where(
        ThemeComment.organisation_id == organisation_id, ThemeComment.confirmed_at.is_(None)
    )
    if clinic_ids is not None:
        query = query.where(ThemeComment.clinic_id.in_(list(clinic_ids)))
    return int(db.session.scalar(query) or 0)


def _level(
    variable: str,
    birth_year: int | None,
    sex: str | None,
    ethnic: str | None,
    imd: int | None,
    year: int,
) -> str:
    if variable == "age_band":
        return cat.age_band(birth_year, year)
    if variable == "sex":
        return cat.sex(sex)
    if variable == "ethnic":
        return cat.ethnic_group(ethnic)
    return cat.imd(imd)


def who_contacts(
    organisation_id: int,
    clinic_ids: Collection[int],
    first: date,
    last: date,
    variable: str,
    kinds: Collection[PalsKind] = (PalsKind.PALS, PalsKind.COMPLAINT),
) -> list[Representation]:
    """Who contacted PALS or complained (`kinds`) in these clinics between `first` and
    `last`, by `variable`, against the patients with an appointment there then."""
    if variable not in VARIABLES:
        raise Invalid(f"variable: must be one of {', '.join(VARIABLES)}")
    contacts = db.session.execute(
        select(
            PalsContact.birth_year,
            PalsContact.sex,
            PalsContact.ethnic_category,
            PalsContact.imd_quintile,
            PalsContact.contact_date,
        ).where(
            PalsContact.kind.in_(list(kinds)),
            *_contacts_filter(organisation_id, first, last, clinic_ids),
        )
    ).all()
    by_contacts = Counter(_level(variable, b, s, e, i, d.year) for b, s, e, i, d in contacts)
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    patients = db.session.execute(
        select(
            Patient.birth_year, Patient.sex, Patient.ethnic_category, Patient.imd_quintile
        ).where(
            Patient.id.in_(
                select(Appointment.patient_id).where(
                    Appointment.clinic_id.in_(list(clinic_ids)),
                    Appointment.starts_at >= start,
                    Appointment.starts_at < end,
                )
            )
        )
    ).all()
    by_patients = Counter(_level(variable, b, s, e, i, last.year) for b, s, e, i in patients)
    return _compare(variable, by_contacts, by_patients)


def _compare(variable: str, contacts: Counter[str], patients: Counter[str]) -> list[Representation]:
    total_contacts, total_patients = sum(contacts.values()), sum(patients.values())
    rows = []
    for level in cat.LEVELS[variable]:
        c, p = contacts.get(level, 0), patients.get(level, 0)
        if not c and not p:
            continue
        patient = wilson_interval(p, total_patients) if total_patients else None
        patient_share = p / total_patients if total_patients else None
        if c < SUPPRESS_BELOW or not total_contacts:
            rows.append(
                Representation(
                    level,
                    c,
                    None,
                    None,
                    None,
                    p,
                    patient_share,
                    patient[0] if patient else None,
                    patient[1] if patient else None,
                    None,
                    True,
                )
            )
            continue
        contact = wilson_interval(c, total_contacts)
        share = c / total_contacts
        rows.append(
            Representation(
                level,
                c,
                share,
                contact[0],
                contact[1],
                p,
                patient_share,
                patient[0] if patient else None,
                patient[1] if patient else None,
                share / patient_share if patient_share else None,
                False,
            )
        )
    return rows
