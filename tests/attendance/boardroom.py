"""A trust's clinics with two years of outcomes, as a board would see them: one
improving after a change of process, one steady and within its target, one getting
worse, one steady without a target, and a new one with five months of data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.appointments.models import AppointmentStatus
from app.attendance.models import AttendanceTarget
from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.clock import Clock
from app.extensions import db
from app.patients.models import Patient
from tests.attendance.monthly import add_months, series
from tests.world import World

FIRST = date(2024, 3, 1)
#: (slug, name, DNA per month from FIRST, appointments a month, target DNA rate).
CLINICS = (
    (
        "north",
        "North Street Physiotherapy",
        [13, 12, 14, 12, 13, 15, 12, 14, 13, 12, 14, 13, 12, 14, 13, 14, 9, 8, 9, 7, 8, 9, 8, 7],
        120,
        0.09,
    ),
    (
        "river",
        "Riverside Diabetes Clinic",
        [7, 6, 8, 7, 6, 7, 8, 6, 7, 7, 6, 8, 7, 6, 7, 8, 6, 7, 7, 6, 8, 7, 6, 7],
        100,
        0.12,
    ),
    (
        "east",
        "Eastgate Children's Clinic",
        [9, 10, 9, 8, 10, 9, 10, 9, 8, 9, 10, 9, 9, 10, 11, 11, 12, 13, 14, 14, 15, 16, 17, 18],
        110,
        0.07,
    ),
    (
        "hill",
        "Hillview Dermatology",
        [
            21,
            18,
            24,
            19,
            22,
            20,
            23,
            17,
            21,
            22,
            19,
            24,
            20,
            18,
            23,
            21,
            22,
            19,
            20,
            24,
            18,
            21,
            22,
            20,
        ],
        150,
        None,
    ),
    ("king", "Kingsway Podiatry", [6, 5, 7, 6, 5], 60, None),
)
#: The demographics the patients of each clinic are shared out among.
PEOPLE = (
    {"birth_year": 1941, "sex": "F", "ethnic_category": "A", "imd_quintile": 1, "locale": "en"},
    {"birth_year": 1958, "sex": "M", "ethnic_category": "H", "imd_quintile": 2, "locale": "pa"},
    {"birth_year": 1972, "sex": "F", "ethnic_category": "N", "imd_quintile": 3, "locale": "so"},
    {"birth_year": 1986, "sex": "M", "ethnic_category": "M", "imd_quintile": 4, "locale": "pl"},
    {"birth_year": 2001, "sex": "F", "ethnic_category": "A", "imd_quintile": 5, "locale": "en"},
    {"birth_year": 1965, "sex": "M", "ethnic_category": "J", "imd_quintile": 1, "locale": "ur"},
    {"birth_year": 1990, "sex": "F", "ethnic_category": "B", "imd_quintile": 2, "locale": "en"},
)


CANCELLED_PATIENT = AppointmentStatus.CANCELLED_PATIENT
#: Hours of notice north's patients gave when they cancelled, in the last year.
NOTICE_HOURS = (120, 96, 80, 50, 30, 26, 20, 12, 6, 3, 2, 150, 75, 40)


def _cancellations(world: World, people: list[Patient]) -> None:
    for index, hours in enumerate(NOTICE_HOURS):
        starts_at = datetime(2025, 3 + index % 10, 2 + index, 10, tzinfo=UTC)
        patient = people[index % len(people)]
        world.add(
            patient,
            starts_at,
            CANCELLED_PATIENT,
            cancel_lead_minutes=hours * 60,
            updated_at=starts_at - timedelta(hours=hours),
        )


@dataclass(frozen=True)
class Boardroom:
    clinics: dict[str, Clinic]
    #: Each clinic's months: (attended, DNA).
    months: dict[str, dict[date, tuple[int, int]]]


def boardroom(world: World, clock: Clock) -> Boardroom:
    """The trust's clinics, their outcomes and targets (north's months from July 2025
    follow a change of process, not yet marked on its chart)."""
    clinics, months = {}, {}
    for index, (slug, name, dna, n, target) in enumerate(CLINICS):
        clinic = create_clinic(
            slug,
            name=name,
            timezone="Europe/London",
            sender=f"+44207183877{index}",
            org_slug="trust",
            clock=clock,
        )
        world.clinics[slug] = clinic
        people: list[Patient] = [
            world.patient(clinic, f"{slug}-{number}", **person)
            for number, person in enumerate(PEOPLE)
        ]
        first = FIRST if len(dna) == 24 else date(2025, 10, 1)
        months[slug] = series(first, dna, n)
        add_months(clinic, people, months[slug], clock, unreminded_every=4 + index)
        if slug == "north":
            _cancellations(world, people)
        if target is not None:
            db.session.add(
                AttendanceTarget(clinic_id=clinic.id, dna_rate=target, updated_at=clock.now())
            )
        clinics[slug] = clinic
    db.session.commit()
    return Boardroom(clinics, months)
