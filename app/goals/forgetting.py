"""What goals forget: a patient's words on erasure.

Erasure blanks every goal's words and their translation and ends the patient's open
round (state `erased`). The goals and their scores stay, without words: the service's
figures count them, and no one can tell whose they were once the patient is erased.
The retention purge leaves goals alone: a goal is part of the care record while the
patient is cared for, not a message. Registered as a `Forgetter` in `app.wiring`;
nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from app.extensions import db
from app.goals.models import Goal, GoalRound, RoundState
from app.patients.forgetting import Forgetter

#: What an erased goal reads.
ERASED_TEXT = ""


def count_patient(patient_id: int, clinic_id: int) -> dict[str, int]:
    """Goals in the patient's words, and open rounds of questions."""
    worded = db.session.scalar(
        select(func.count(Goal.id)).where(
            Goal.patient_id == patient_id, Goal.clinic_id == clinic_id, Goal.text != ERASED_TEXT
        )
    )
    rounds = db.session.scalar(
        select(func.count(GoalRound.id)).where(
            GoalRound.patient_id == patient_id,
            GoalRound.clinic_id == clinic_id,
            GoalRound.state == RoundState.OPEN,
        )
    )
    return {"goals_in_own_words": int(worded or 0), "goal_rounds_open": int(rounds or 0)}


def erase_patient(patient_id: int, clinic_id: int, now: datetime) -> dict[str, int]:
    """Blank the patient's goals and end their open round. Does not commit."""
    counts = count_patient(patient_id, clinic_id)
    db.session.execute(
        update(Goal)
        .where(Goal.patient_id == patient_id, Goal.clinic_id == clinic_id)
        .values(text=ERASED_TEXT, translation_en=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(GoalRound)
        .where(
            GoalRound.patient_id == patient_id,
            GoalRound.clinic_id == clinic_id,
            GoalRound.state == RoundState.OPEN,
        )
        .values(state=RoundState.ERASED, closed_at=now, current_goal_id=None)
        .execution_options(synchronize_session=False)
    )
    return counts


def purge_clinics(_clinic_ids: Sequence[int], _cutoff: datetime) -> Mapping[str, int]:
    """Nothing: goals are kept with the care record, not purged with old messages."""
    return {}


FORGETTER = Forgetter(count=count_patient, erase=erase_patient, purge=purge_clinics)
