"""What the demo's month is made of: its dates, trust, clinics, experiment and
WhatsApp templates, the patients' appointments and their names in the workspace."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.demo.goals import Visit
from app.simulator import goals as simulated_goals
from app.simulator.population import Persona

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday; the clocks go forward on 29 March
DAYS = 28
#: Where the clock stands while `--serve` keeps the app running: the morning after the
#: demo's month (March) ends, so that the month's board report can be made.
SERVED_AT = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
ACCOUNT_SID = "AC" + "d" * 32
#: The demo's organisation (a trust): its slug and the name pages and reports show.
ORGANISATION = "demo-trust"
ORGANISATION_NAME = "WeSaid Demo Trust"
CLINICS = (
    ("north", "North Street Clinic", "+442071838750"),
    ("south", "South Road Clinic", "+441614960123"),
)
#: Patients with a landline only: they are called (key presses for replies).
LANDLINE_SHARE = 0.03
#: Mobile users who prefer WhatsApp, and the web form for surveys.
APP_SHARES = (0.08, 0.08)
#: The clinics' approved WhatsApp templates (Content SIDs) for use outside the 24-hour
#: window, and their text as WhatsApp would hold it.
WHATSAPP_TEMPLATES = {
    "reminder": "HX" + "7e" * 16,
    "survey_invite": "HX" + "5f" * 16,
}
#: A two-arm reminder-wording experiment over the month: B states what a missed
#: appointment costs. The simulator gives that wording a true effect (see Behaviour).
EXPERIMENT: dict[str, Any] = {
    "slug": "cost-wording",
    "title": "Stating the cost of a missed appointment",
    "clinics": [slug for slug, _name, _sender in CLINICS],
    "seed": "demo-cost-wording",
    "starts_at": START.isoformat(),
    "baseline": 0.111,
    "min_difference": 0.027,
    "looks": 3,
    "arms": [
        {"name": "standard", "weight": 1},
        {
            "name": "cost",
            "weight": 1,
            "reminder": {
                "en": (
                    "%(clinic)s: your appointment is on %(date)s at %(time)s. A missed "
                    "appointment costs the NHS £160. Reply 1 to confirm, 2 to cancel or 3 to "
                    "ask for a new time. Reply STOP to opt out."
                )
            },
        },
    ],
}
TEMPLATE_TEXTS = {
    WHATSAPP_TEMPLATES["reminder"]: (
        "{{1}}: your appointment is on {{2}} at {{3}}. Reply 1 to confirm, 2 to cancel or 3 "
        "to ask for a new time. Reply STOP to opt out."
    ),
    WHATSAPP_TEMPLATES["survey_invite"]: (
        "{{1}}: thank you for your visit. Overall, how was your experience of our service? "
        "Reply with a number: 1 Very good, 2 Good, 3 Neither good nor poor, 4 Poor, "
        "5 Very poor, 6 Don't know."
    ),
}


@dataclass
class Booking:
    clinic: str
    external_id: str
    patient_external_id: str
    starts_at: datetime
    booked_at: datetime
    #: The pathway, when not the clinic's usual one.
    pathway: str = ""


def clinic_of(personas: list[Persona]) -> dict[str, str]:
    """Each patient's clinic (by external id): the two clinics take turns."""
    return {p.external_id: CLINICS[index % 2][0] for index, p in enumerate(personas)}


def bookings(
    personas: list[Persona], rng: random.Random, goal_visits: list[Visit]
) -> list[Booking]:
    """One appointment per patient (some two), over four weeks, mostly booked ahead;
    the patients of the goals pathway come weekly instead, booked from the start."""
    bookings: list[Booking] = []
    clinic_of_patient = clinic_of(personas)
    on_pathway = {visit.patient_external_id for visit in goal_visits}
    for index, persona in enumerate(personas):
        clinic = CLINICS[index % 2][0]
        for n in range(1 if rng.random() > 0.15 else 2):
            day = rng.randint(1, DAYS - 1)
            slot = timedelta(hours=9 + rng.randint(0, 15) * 0.5)
            starts_at = START.replace(hour=0) + timedelta(days=day) + slot
            lead = (
                timedelta(hours=rng.choice([6, 12, 20]))
                if rng.random() < 0.12
                else timedelta(days=30)
            )
            booked_at = max(START, (starts_at - lead).replace(minute=0))
            if persona.external_id not in on_pathway:
                bookings.append(
                    Booking(clinic, f"A{index:06d}-{n}", persona.external_id, starts_at, booked_at)
                )
    bookings += [
        Booking(
            clinic_of_patient[visit.patient_external_id],
            f"G{visit.patient_external_id}-{visit.index}",
            visit.patient_external_id,
            visit.starts_at,
            START,
            pathway=simulated_goals.PATHWAY,
        )
        for visit in goal_visits
    ]
    return bookings


#: Names for the demo's patients, so the workspace reads as it would in a clinic. Drawn
#: from the external id, not the population's random stream: the month runs the same.
GIVEN_NAMES = (
    "Amara", "Ben", "Chen", "Dafydd", "Eilidh", "Farah", "Gareth", "Hana", "Imran", "Joanna",
    "Kemi", "Lukas", "Maryam", "Niamh", "Oluwaseun", "Priya", "Rhys", "Sofia", "Tomasz", "Yusuf",
)  # fmt: skip
FAMILY_NAMES = (
    "Abdi", "Begum", "Campbell", "Davies", "Evans", "Fernandes", "Green", "Hughes", "Igwe",
    "Jones", "Kowalski", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Rahman", "Silva",
    "Thomas", "Williams",
)  # fmt: skip


def _demo_name(external_id: str) -> tuple[str, str]:
    digest = hashlib.sha256(external_id.encode()).digest()
    return GIVEN_NAMES[digest[0] % len(GIVEN_NAMES)], FAMILY_NAMES[digest[1] % len(FAMILY_NAMES)]


def patient_row(p: Persona) -> dict[str, Any]:
    given, family = _demo_name(p.external_id)
    return {
        "given_name": given,
        "family_name": family,
        "external_id": p.external_id,
        "phone": p.phone,
        "channel": p.channel,
        "locale": p.locale,
        "birth_year": p.birth_year,
        "sex": p.sex,
        "ethnic_category": p.ethnic_category,
        "imd_quintile": p.imd_quintile,
    }
