"""The demo's goals pathway: the clinicians set goals with their patients on the first
day, the patients come weekly and are asked for their scores before each visit, and
the summary compares the service's estimate with what the patients truly reached."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.audit.service import SYSTEM
from app.clinics.queries import get_clinic_by_slug
from app.core.clock import Clock
from app.extensions import db
from app.goals.models import Goal, GoalRound, GoalScore
from app.goals.outcomes import shown_improved
from app.goals.queries import service_outcomes
from app.goals.service import GoalInput, open_goal, set_pathway
from app.patients.models import Patient
from app.simulator import goals as simulated
from app.simulator.draws import keyed_rng
from app.simulator.population import Persona

#: Weekly appointments on the pathway, the first in the first week.
VISITS = 4


@dataclass(frozen=True)
class Visit:
    """One appointment on the goals pathway."""

    patient_external_id: str
    index: int
    starts_at: datetime


def visits(
    personas: Iterable[Persona],
    patients: dict[str, simulated.GoalPatient],
    seed: int,
    start: datetime,
) -> list[Visit]:
    """Each goals patient's weekly appointments: the first two to six days in (after
    the question's lead time), then every seven days at the same time."""
    found = []
    for persona in personas:
        if persona.phone not in patients:
            continue
        rng = keyed_rng(seed, "goal-visits", persona.external_id)
        first = start.replace(hour=0) + timedelta(
            days=rng.randint(3, 6), hours=9 + rng.randint(0, 15) * 0.5
        )
        found += [Visit(persona.external_id, n, first + timedelta(weeks=n)) for n in range(VISITS)]
    return found


def set_goals(
    personas: Iterable[Persona],
    patients: dict[str, simulated.GoalPatient],
    clinic_of: dict[str, str],
    seed: int,
    clock: Clock,
) -> None:
    """Make the pathway ask before each appointment, in both clinics, and record each
    goals patient's goals with the score they gave on the day. Commits."""
    for slug in sorted(set(clinic_of.values())):
        clinic = get_clinic_by_slug(slug)
        set_pathway(clinic.id, simulated.PATHWAY, simulated.ASK_HOURS_BEFORE, clock)
    for persona in personas:
        patient = patients.get(persona.phone)
        if patient is None:
            continue
        clinic = get_clinic_by_slug(clinic_of[persona.external_id])
        patient_id = db.session.scalar(
            select(Patient.id).where(
                Patient.clinic_id == clinic.id, Patient.external_id == persona.external_id
            )
        )
        assert patient_id is not None
        for index, goal in enumerate(patient.goals):
            score = simulated.score_on(seed, patient, index, 0)
            open_goal(patient_id, GoalInput(goal.text, "en", score=score), SYSTEM, clock)


def summarise_goals(
    patients: dict[str, simulated.GoalPatient],
    personas: Iterable[Persona],
    seed: int,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Goals opened and scores recorded, the service's estimate of the share of goals
    with a reliable improvement (weighted, with its interval), and the share the
    simulated patients truly reached (`true_improvement_share`)."""
    clinic_ids = list(db.session.scalars(select(Goal.clinic_id).distinct()))
    outcomes = service_outcomes(clinic_ids, start, end)
    figure = shown_improved(outcomes)
    return {
        "goals_tracked": db.session.scalar(select(func.count(Goal.id))) or 0,
        "goal_scores": db.session.scalar(select(func.count(GoalScore.id))) or 0,
        "goals_followed_up": outcomes.tally.followed_up,
        "goal_patients_stopped_replying": outcomes.stopped_replying,
        "reliable_improvement_share": _rounded(figure.estimate if figure else None),
        "reliable_improvement_ci": [_rounded(figure.low), _rounded(figure.high)]
        if figure
        else None,
        "reliable_improvement_weighted": outcomes.weighted,
        "true_reliable_improvement_share": _rounded(
            true_improvement_share(patients, _asked_days(start), personas, seed)
        ),
    }


def _asked_days(start: datetime) -> dict[str, list[int]]:
    """The days each patient was asked for their goals' scores (a round opened), by
    external id, in order."""
    days: dict[str, list[int]] = {}
    rows = db.session.execute(
        select(Patient.external_id, GoalRound.opened_at)
        .join(Patient, Patient.id == GoalRound.patient_id)
        .order_by(GoalRound.opened_at, GoalRound.id)
    )
    for external_id, opened_at in rows:
        days.setdefault(external_id, []).append(simulated.day_of(_utc(opened_at), start))
    return days


def true_improvement_share(
    patients: dict[str, simulated.GoalPatient],
    asked_days: dict[str, list[int]],
    personas: Iterable[Persona],
    seed: int,
) -> float | None:
    """The share of all goals set whose patient truly reached a reliable improvement:
    each goal's change from the day it was set to the last day its patient was asked
    (to the first, for a patient who answers one round only), as the patient would
    have answered then, whether they answered or not. A patient never asked counts
    from the day the goal was set, with no change."""
    reached = []
    for persona in personas:
        patient = patients.get(persona.phone)
        if patient is None:
            continue
        days = asked_days.get(persona.external_id) or [0]
        last = days[0] if patient.answers_rounds == 1 else days[-1]
        reached += [
            simulated.reliably_improved(seed, patient, index, 0, last)
            for index in range(len(patient.goals))
        ]
    return sum(reached) / len(reached) if reached else None


def _utc(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rounded(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)
