"""Cohorts of goals for the outcome tests, written as rows (the services that write them
one by one are tested in tests/goals/test_service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.clinics.models import Clinic
from app.extensions import db
from app.goals.models import Goal, GoalScore, ScoreSource
from app.patients.models import Patient

#: A goal's words in the cohorts: no page of outcomes may show them.
SECRET_GOAL = "Dance at Zebedee's wedding"


@dataclass(frozen=True)
class Spec:
    """Patients of one kind: how many, their birth year and language, and each one's
    goal's scores, oldest first."""

    count: int
    birth_year: int
    scores: Sequence[int]
    locale: str = "en"


def goal_cohort(clinic: Clinic, specs: Sequence[Spec], opened_at: datetime) -> list[int]:
    """One goal per patient as `specs` say, opened at `opened_at` and scored a fortnight
    apart. Commits; returns the patients' ids."""
    made = []
    number = db.session.query(Patient).count()
    for spec in specs:
        for _ in range(spec.count):
            number += 1
            patient = Patient(
                clinic_id=clinic.id,
                external_id=f"G{number}",
                phone=f"+4474009{number:05d}",
                locale=spec.locale,
                birth_year=spec.birth_year,
                channel_preference="sms",
                created_at=opened_at,
                updated_at=opened_at,
            )
            db.session.add(patient)
            db.session.flush()
            goal = Goal(
                clinic_id=clinic.id,
                patient_id=patient.id,
                text=SECRET_GOAL,
                text_locale="en",
                opened_at=opened_at,
            )
            db.session.add(goal)
            db.session.flush()
            for index, score in enumerate(spec.scores):
                db.session.add(
                    GoalScore(
                        goal_id=goal.id,
                        clinic_id=clinic.id,
                        score=score,
                        at=opened_at + timedelta(days=14 * index),
                        channel=None,
                        source=ScoreSource.STAFF,
                    )
                )
            made.append(patient.id)
    db.session.commit()
    return made


#: When the example cohort's goals were opened (its follow-ups come a fortnight later).
OPENED = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
#: Ten young patients followed up, every one up by 4; ten older ones followed up with no
#: change; twenty older ones with one score so far. Raked on age band to all 40 goals,
#: the young weigh 10 / 10 = 1 and the older 30 / 10 = 3: reliable improvement is
#: 10 / (10 + 30) = 25% weighted and 10 / 20 = 50% unweighted; the mean change is
#: 40 / 40 = +1.0 points weighted and +2.0 unweighted.
SPECS = [
    Spec(10, 1995, [2, 6], "cy"),
    Spec(10, 1955, [5, 5]),
    Spec(20, 1955, [4]),
]
