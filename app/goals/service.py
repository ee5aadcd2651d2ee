"""Goal commands: open a goal in the patient's words, close it, record a score with the
patient, and say which pathways use goals. Every change is in the audit log (ids and
counts only, never the goal's words). Functions here commit.

A patient has at most three open goals. A goal is written in the patient's language or
in English; one written in another language carries the clinician's English
translation, so that every colleague can read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from app.audit.models import AuditAction
from app.audit.service import SYSTEM, Actor, record
from app.clinics.models import Clinic
from app.core import locales
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.core.inputs import storable_text
from app.extensions import db
from app.goals.change import check_score
from app.goals.models import CloseReason, Goal, GoalPathway, GoalScore, ScoreSource
from app.patients.models import Patient

#: A patient works on at most this many goals at a time.
MAX_OPEN_GOALS = 3
#: The longest goal, and the longest translation, in characters.
MAX_GOAL_LENGTH = 300
#: How long before an appointment a pathway may ask (four weeks), in hours.
MAX_ASK_HOURS = 28 * 24
_PATHWAY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class GoalInput:
    """A goal as a clinician writes it."""

    text: str
    #: The language `text` is in.
    locale: str
    #: The English translation, for a goal not written in English.
    translation_en: str = ""
    #: Where the patient is now, 0 to 10, if they said.
    score: int | None = None


def open_goal(patient_id: int, goal: GoalInput, actor: Actor, clock: Clock) -> Goal:
    """Open a goal for the patient. Commits.

    Raises NotFound for an unknown patient, and Invalid (naming the field) for an empty
    or too long goal, an unsupported language, a missing translation, a score outside
    0-10, or a fourth open goal.
    """
    patient = db.session.get(Patient, patient_id, with_for_update=True)
    if patient is None:
        raise NotFound("patient not found")
    text, translation = _checked(goal)
    if count_open(patient.id) >= MAX_OPEN_GOALS:
        raise Invalid(f"text: a patient has at most {MAX_OPEN_GOALS} open goals; close one first")
    now = clock.now()
    row = Goal(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        text=text,
        text_locale=goal.locale,
        translation_en=translation,
        opened_by_user_id=actor.user_id,
        opened_by_token_id=actor.token_id,
        opened_at=now,
    )
    db.session.add(row)
    db.session.flush()
    if goal.score is not None:
        db.session.add(_staff_score(row, goal.score, now))
    _audit(row, actor, now, "opened", scored=goal.score is not None)
    db.session.commit()
    return row


def _checked(goal: GoalInput) -> tuple[str, str | None]:
    text = " ".join(storable_text(goal.text).split())
    translation = " ".join(storable_text(goal.translation_en).split()) or None
    if not text:
        raise Invalid("text: write the goal in the patient's words")
    if len(text) > MAX_GOAL_LENGTH:
        raise Invalid(f"text: a goal can be up to {MAX_GOAL_LENGTH} characters long")
    if not locales.is_supported(goal.locale):
        raise Invalid("locale: choose a language from the list")
    if goal.locale != locales.DEFAULT_LOCALE and translation is None:
        raise Invalid("translation_en: write the goal in English too")
    if translation is not None and len(translation) > MAX_GOAL_LENGTH:
        raise Invalid(f"translation_en: a translation can be up to {MAX_GOAL_LENGTH} characters")
    if goal.score is not None:
        try:
            check_score(goal.score)
        except ValueError:
            raise Invalid("score: a score is a whole number from 0 to 10") from None
    return text, translation if goal.locale != locales.DEFAULT_LOCALE else None


def count_open(patient_id: int) -> int:
    """How many goals the patient is working on."""
    found = db.session.scalar(
        select(func.count(Goal.id)).where(Goal.patient_id == patient_id, Goal.closed_at.is_(None))
    )
    return int(found or 0)


def close_goal(goal_id: int, reason: CloseReason, actor: Actor, clock: Clock) -> bool:
    """Close a goal (reached, changed or dropped); its scores are kept. Commits. False
    when it was closed already. Raises NotFound for an unknown goal."""
    goal = db.session.get(Goal, goal_id, with_for_update=True)
    if goal is None:
        raise NotFound("goal not found")
    if goal.closed_at is not None:
        db.session.rollback()
        return False
    now = clock.now()
    goal.closed_at, goal.close_reason, goal.closed_by_user_id = now, reason, actor.user_id
    _audit(goal, actor, now, "closed", reason=reason.value)
    db.session.commit()
    return True


def record_score(goal_id: int, score: int, actor: Actor, clock: Clock) -> GoalScore:
    """Record a score the patient gave the clinician for an open goal. Commits. Raises
    NotFound for an unknown goal and Invalid for a closed goal or a score outside 0-10."""
    goal = db.session.get(Goal, goal_id)
    if goal is None:
        raise NotFound("goal not found")
    if goal.closed_at is not None:
        raise Invalid("goal: this goal is closed")
    try:
        check_score(score)
    except ValueError:
        raise Invalid("score: a score is a whole number from 0 to 10") from None
    now = clock.now()
    row = _staff_score(goal, score, now)
    db.session.add(row)
    _audit(goal, actor, now, "scored")
    db.session.commit()
    return row


def _staff_score(goal: Goal, score: int, now: datetime) -> GoalScore:
    return GoalScore(
        goal_id=goal.id,
        clinic_id=goal.clinic_id,
        score=score,
        at=now,
        channel=None,
        source=ScoreSource.STAFF,
        round_id=None,
    )


def _audit(goal: Goal, actor: Actor, now: datetime, change: str, **detail: str | bool) -> None:
    clinic = db.session.get(Clinic, goal.clinic_id)
    record(
        AuditAction.CHANGE_GOALS,
        actor,
        now,
        record_type="goal",
        record_ids=[goal.id],
        clinic_id=goal.clinic_id,
        organisation_id=clinic.organisation_id if clinic else None,
        detail={"change": change, "patient_id": goal.patient_id, **detail},
    )


# -- pathways that use goals -------------------------------------------------------------


def set_pathway(
    clinic_id: int, pathway: str, ask_hours_before: int, clock: Clock, actor: Actor = SYSTEM
) -> GoalPathway:
    """Ask the patients of `pathway` for their goals' scores `ask_hours_before` hours
    before each appointment (a second call changes the hours). Commits; in the audit
    log. Raises Invalid for a pathway that is not lower-case letters, digits and dashes,
    or hours outside 1 to four weeks."""
    name = pathway.strip()
    if not _PATHWAY.fullmatch(name):
        raise Invalid("pathway: use lower-case letters, digits and dashes")
    if isinstance(ask_hours_before, bool) or not 1 <= ask_hours_before <= MAX_ASK_HOURS:
        raise Invalid(f"ask_hours_before: a whole number of hours from 1 to {MAX_ASK_HOURS}")
    found = db.session.scalar(
        select(GoalPathway).where(GoalPathway.clinic_id == clinic_id, GoalPathway.pathway == name)
    )
    if found is None:
        found = GoalPathway(clinic_id=clinic_id, pathway=name, created_at=clock.now())
        db.session.add(found)
    found.ask_hours_before = ask_hours_before
    _audit_pathway(clinic_id, actor, clock.now(), name, ask_hours_before)
    db.session.commit()
    return found


def remove_pathway(clinic_id: int, pathway: str, clock: Clock, actor: Actor = SYSTEM) -> bool:
    """Stop asking the patients of `pathway` (questions already planned still go).
    Commits; in the audit log. False when the pathway did not use goals."""
    result = db.session.execute(
        delete(GoalPathway).where(
            GoalPathway.clinic_id == clinic_id, GoalPathway.pathway == pathway
        )
    )
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        _audit_pathway(clinic_id, actor, clock.now(), pathway, None)
    db.session.commit()
    return removed


def _audit_pathway(
    clinic_id: int, actor: Actor, now: datetime, pathway: str, hours: int | None
) -> None:
    clinic = db.session.get(Clinic, clinic_id)
    record(
        AuditAction.EDIT_SETTINGS,
        actor,
        now,
        record_type="clinic",
        record_ids=[clinic_id],
        clinic_id=clinic_id,
        organisation_id=clinic.organisation_id if clinic else None,
        detail={"goal_pathway": pathway, "ask_hours_before": "" if hours is None else str(hours)},
    )


def pathway_hours(clinic_id: int) -> dict[str, int]:
    """The clinic's pathways that use goals → hours before an appointment to ask."""
    rows = db.session.execute(
        select(GoalPathway.pathway, GoalPathway.ask_hours_before).where(
            GoalPathway.clinic_id == clinic_id
        )
    )
    return {str(pathway): int(hours) for pathway, hours in rows}
