"""Reading goals: one patient's goals with their scores and whether they still reply, and
the rows the service's figures are computed from.

The caller has fetched the patient (or chosen the clinics) through the staff member's
scope; nothing here reads another clinic's rows unless asked for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from app.core.channels import Channel
from app.extensions import db
from app.goals.change import Change, Progress, progress
from app.goals.models import CloseReason, Goal, GoalRound, GoalScore, RoundState, ScoreSource
from app.goals.outcomes import Outcomes, facts_of, summarise_goals
from app.goals.service import MAX_OPEN_GOALS
from app.patients.models import Patient

#: Round states that say nothing about whether the patient replies: still asking, never
#: delivered, or erased.
_NOT_YET = frozenset({RoundState.OPEN, RoundState.UNDELIVERED, RoundState.ERASED})


@dataclass(frozen=True)
class ScoreLine:
    at: datetime
    score: int
    source: ScoreSource
    channel: Channel | None


@dataclass(frozen=True)
class GoalLine:
    """One goal with its scores, oldest first."""

    id: int
    text: str
    text_locale: str
    translation_en: str | None
    opened_at: datetime
    closed_at: datetime | None
    close_reason: CloseReason | None
    scores: list[ScoreLine]

    @property
    def progress(self) -> Progress:
        return progress([s.score for s in self.scores])

    @property
    def kind(self) -> Change:
        return self.progress.kind

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Replying:
    """Whether the patient answers the questions before appointments.

    `unanswered` counts the latest rounds in a row that ended at the appointment without
    a single score (0 when the latest one had one, or the patient answered it by skipping
    every goal); `since` is when the first of them was asked.
    """

    rounds: int
    unanswered: int
    since: datetime | None
    opted_out: bool

    @property
    def stopped(self) -> bool:
        """Stopped replying: the latest round (at least) went unanswered."""
        return self.unanswered > 0


@dataclass(frozen=True)
class PatientGoals:
    goals: list[GoalLine]
    replying: Replying

    @property
    def open(self) -> list[GoalLine]:
        return [g for g in self.goals if g.is_open]

    @property
    def closed(self) -> list[GoalLine]:
        return [g for g in self.goals if not g.is_open]

    @property
    def may_open(self) -> bool:
        return len(self.open) < MAX_OPEN_GOALS


def patient_goals(patient_id: int) -> PatientGoals:
    """The patient's goals (open ones first, each oldest first) and how they reply."""
    goals = list(
        db.session.scalars(
            select(Goal).where(Goal.patient_id == patient_id).order_by(Goal.opened_at, Goal.id)
        )
    )
    scores = _scores([g.id for g in goals])
    lines = [_line(g, scores.get(g.id, [])) for g in goals]
    lines.sort(key=lambda g: (not g.is_open, g.opened_at, g.id))
    return PatientGoals(lines, replying([patient_id]).get(patient_id, Replying(0, 0, None, False)))


def find_goal(patient_id: int, goal_id: int) -> GoalLine | None:
    """One goal of the patient with its scores; None if the patient has no such goal."""
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.patient_id != patient_id:
        return None
    return _line(goal, _scores([goal.id]).get(goal.id, []))


def _scores(goal_ids: Sequence[int]) -> dict[int, list[ScoreLine]]:
    found: dict[int, list[ScoreLine]] = {}
    if not goal_ids:
        return found
    rows = db.session.scalars(
        select(GoalScore)
        .where(GoalScore.goal_id.in_(list(goal_ids)))
        .order_by(GoalScore.at, GoalScore.id)
    )
    for row in rows:
        line = ScoreLine(row.at, row.score, row.source, row.channel)
        found.setdefault(row.goal_id, []).append(line)
    return found


def _line(goal: Goal, scores: list[ScoreLine]) -> GoalLine:
    return GoalLine(
        id=goal.id,
        text=goal.text,
        text_locale=goal.text_locale,
        translation_en=goal.translation_en,
        opened_at=goal.opened_at,
        closed_at=goal.closed_at,
        close_reason=goal.close_reason,
        scores=scores,
    )


def replying(patient_ids: Sequence[int]) -> dict[int, Replying]:
    """How each patient with rounds of questions replies (one read for all of them)."""
    if not patient_ids:
        return {}
    rounds = db.session.execute(
        select(GoalRound.id, GoalRound.patient_id, GoalRound.state, GoalRound.opened_at)
        .where(GoalRound.patient_id.in_(list(patient_ids)))
        .order_by(GoalRound.patient_id, GoalRound.opened_at.desc(), GoalRound.id.desc())
    ).all()
    answered = set(
        db.session.scalars(
            select(GoalScore.round_id).where(GoalScore.round_id.in_([r.id for r in rounds]))
        )
    )
    found: dict[int, Replying] = {}
    for patient_id in {r.patient_id for r in rounds}:
        finished = [
            _Round(r.id, r.state, r.opened_at)
            for r in rounds
            if r.patient_id == patient_id and r.state not in _NOT_YET
        ]
        found[patient_id] = _replying(finished, answered)
    return found


class _Round(NamedTuple):
    id: int
    state: RoundState
    opened_at: datetime


def _replying(finished: Sequence[_Round], answered: set[int | None]) -> Replying:
    """From the patient's finished rounds, newest first."""
    unanswered, since = 0, None
    for row in finished:
        if row.id in answered or row.state is not RoundState.EXPIRED:
            break
        unanswered += 1
        since = row.opened_at
    opted_out = bool(finished) and finished[0].state is RoundState.OPTED_OUT
    return Replying(len(finished), unanswered, since, opted_out)


@dataclass(frozen=True)
class GoalRow:
    """One goal as the service's figures read it: no words, the patient's groups."""

    goal_id: int
    patient_id: int
    clinic_id: int
    opened_at: datetime
    scores: tuple[int, ...]
    birth_year: int | None
    sex: str | None
    ethnic_category: str | None
    imd_quintile: int | None
    locale: str


def goal_rows(clinic_ids: Sequence[int], first: datetime, last: datetime) -> list[GoalRow]:
    """Every goal of these clinics opened in [first, last), with its scores given before
    `last` in order and its patient's weighting categories (two reads, however many
    goals), so that a past period reads the same whenever it is asked for."""
    if not clinic_ids:
        return []
    rows = db.session.execute(
        select(Goal.id, Goal.patient_id, Goal.clinic_id, Goal.opened_at, Patient)
        .join(Patient, Patient.id == Goal.patient_id)
        .where(
            Goal.clinic_id.in_(list(clinic_ids)),
            Goal.opened_at >= first,
            Goal.opened_at < last,
        )
        .order_by(Goal.id)
    ).all()
    ids = [row[0] for row in rows]
    scores: dict[int, list[int]] = {}
    if ids:
        for goal_id, score in db.session.execute(
            select(GoalScore.goal_id, GoalScore.score)
            .where(GoalScore.goal_id.in_(ids), GoalScore.at < last)
            .order_by(GoalScore.at, GoalScore.id)
        ):
            scores.setdefault(goal_id, []).append(score)
    return [
        GoalRow(
            goal_id=goal_id,
            patient_id=patient_id,
            clinic_id=clinic_id,
            opened_at=opened_at,
            scores=tuple(scores.get(goal_id, [])),
            birth_year=patient.birth_year,
            sex=patient.sex,
            ethnic_category=patient.ethnic_category,
            imd_quintile=patient.imd_quintile,
            locale=patient.locale,
        )
        for goal_id, patient_id, clinic_id, opened_at, patient in rows
    ]


def service_outcomes(clinic_ids: Sequence[int], first: datetime, last: datetime) -> Outcomes:
    """The goal outcomes of these clinics' goals opened in [first, last), weighted to
    them all, with how many of their patients stopped replying."""
    rows = goal_rows(clinic_ids, first, last)
    facts = [
        facts_of(
            r.goal_id,
            r.patient_id,
            r.scores,
            year=r.opened_at.year,
            birth_year=r.birth_year,
            sex=r.sex,
            ethnic_category=r.ethnic_category,
            imd_quintile=r.imd_quintile,
            locale=r.locale,
        )
        for r in rows
    ]
    replies = replying(sorted({r.patient_id for r in rows}))
    return summarise_goals(facts, sum(1 for found in replies.values() if found.stopped))
