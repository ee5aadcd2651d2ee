"""The goal form behind a link: the round it belongs to, and one submission of scores.

A link opens a `GoalVisit` (the round, its clinic, its open goals and how to speak to
the patient) or says why it cannot (`Closed`). A submission scores every open goal at
once, or says which goals still need a number; a submission that lost a race with
another for the same link comes back as the state the link is in now.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.clinics.models import Clinic
from app.core.parsing import to_ascii_digits
from app.extensions import db
from app.goals import rounds
from app.goals.change import HIGHEST, LOWEST
from app.goals.models import Goal, GoalRound, RoundState, ScoreSource
from app.messaging.speaker import Speaker, speaker_for
from app.patients.models import Patient


class Closed(enum.StrEnum):
    """Why a link shows a page instead of the form."""

    NOT_FOUND = "not_found"  # no such round (or a link we did not sign)
    ANSWERED = "answered"  # the scores were sent already
    CLOSED = "closed"  # the appointment started, the patient opted out, or it is over


@dataclass(frozen=True)
class GoalVisit:
    """The round behind a link, with the goals it asks about (oldest first)."""

    round: GoalRound
    clinic: Clinic
    speaker: Speaker
    goals: list[Goal]

    def field(self, goal: Goal) -> str:
        """The form field of a goal's score."""
        return f"goal_{goal.id}"


def find_visit(round_id: int) -> GoalVisit | None:
    """The round `round_id`, open or not; None if there is none."""
    found = db.session.get(GoalRound, round_id)
    if found is None:
        return None
    clinic = db.session.get(Clinic, found.clinic_id)
    patient = db.session.get(Patient, found.patient_id)
    if clinic is None or patient is None:
        return None
    return GoalVisit(found, clinic, speaker_for(patient, clinic), rounds.open_goals(patient.id))


def closed_reason(visit: GoalVisit, now: datetime) -> Closed | None:
    """Why the round takes no more scores; None while it is open."""
    if visit.round.state is RoundState.COMPLETED:
        return Closed.ANSWERED
    if visit.round.state is not RoundState.OPEN or visit.round.expires_at <= now:
        return Closed.CLOSED
    if not visit.goals:
        return Closed.CLOSED
    return None


def read_scores(visit: GoalVisit, values: Mapping[str, str]) -> tuple[dict[int, int], list[int]]:
    """The score given for each goal, and the goals (ids) without a score from 0 to 10."""
    scores: dict[int, int] = {}
    missing: list[int] = []
    for goal in visit.goals:
        raw = to_ascii_digits(str(values.get(visit.field(goal), "")).strip())
        if raw.isascii() and raw.isdigit() and len(raw) <= 2 and LOWEST <= int(raw) <= HIGHEST:
            scores[goal.id] = int(raw)
        else:
            missing.append(goal.id)
    return scores, missing


@dataclass(frozen=True)
class Refused:
    """A submission not stored: the visit as it is now (None: gone), and why it is
    closed, or the goals still without a score."""

    visit: GoalVisit | None
    closed: Closed | None = None
    missing: list[int] = dataclasses.field(default_factory=list)


def submit_scores(round_id: int, values: Mapping[str, str], now: datetime) -> int | Refused:
    """Score every open goal of the round at once and complete it. Commits. Returns how
    many scores were stored, or why none were."""
    found = db.session.get(GoalRound, round_id, with_for_update=True)
    visit = find_visit(round_id) if found is not None else None
    if visit is None:
        db.session.rollback()
        return Refused(None, Closed.NOT_FOUND)
    closed = closed_reason(visit, now)
    if closed is not None:
        db.session.rollback()
        return Refused(visit, closed)
    scores, missing = read_scores(visit, values)
    if missing:
        db.session.rollback()
        return Refused(visit, missing=missing)
    for goal in visit.goals:
        visit.round.current_goal_id = goal.id
        rounds.answer(visit.round, goal, scores[goal.id], ScoreSource.WEB_FORM, now)
    visit.round.state, visit.round.current_goal_id = RoundState.COMPLETED, None
    visit.round.closed_at = now
    db.session.commit()
    return len(scores)
