"""Goal questions on the telephone: one goal per step, one key each, star for 10.

The call placed for a goal question says who is calling, then asks each open goal in
turn (`goal_call`, the kind's call script): 0 to 9 on the keypad, or star for 10
(reached). No key, or a key that means nothing, asks once more; the second time the
goal is left unscored and the call moves on. A round that has ended gets a goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.appointments.models import Appointment
from app.clinics.models import Clinic
from app.extensions import db
from app.goals import rounds, texts
from app.goals.change import HIGHEST
from app.goals.models import Goal, GoalRound, RoundState, ScoreSource
from app.messaging import calls
from app.messaging.models import OutboundMessage
from app.messaging.speaker import Speaker
from app.messaging.voice import MAX_REASKS, VoiceStep

#: The voice webhook step that takes a goal's key.
GOAL_STEP = "goal"
#: The key that gives the top of the scale: one key cannot type 10.
TOP_KEY = "*"


@dataclass(frozen=True)
class _Call:
    round: GoalRound
    speaker: Speaker
    clinic: Clinic


def key_score(keys: str) -> int | None:
    """The score one key gives: 0 to 9, or star for 10; None for anything else."""
    if keys == TOP_KEY:
        return HIGHEST
    if len(keys) == 1 and keys.isdigit():
        return int(keys)
    return None


def goal_call(message: OutboundMessage, speaker: Speaker, now: datetime) -> VoiceStep | None:
    """The first step of a goal question's call: who is calling and about which
    appointment, then the current goal. None when the round has ended."""
    found = db.session.scalar(
        select(GoalRound).where(GoalRound.message_id == message.id).with_for_update()
    )
    call = _live(found, now)
    if call is None:
        return None
    appointment = db.session.get(Appointment, call.round.appointment_id or 0)
    step = calls.step_for(speaker)
    if appointment is not None:
        date_text, _ = speaker.when(appointment.starts_at, speaker.locale)
        step.say(speaker.say(texts.VOICE_INTRO, clinic=call.clinic.name, date=date_text))
    return _ask(step, call, reasks=0)


def press_goal_key(round_id: int, goal_id: int, keys: str, reasks: int, now: datetime) -> VoiceStep:
    """The key pressed for one goal (none: the call waited in vain). Commits."""
    found = db.session.get(GoalRound, round_id, with_for_update=True)
    call = _live(found, now)
    if call is None:
        return calls.goodbye()
    step = calls.step_for(call.speaker)
    if call.round.current_goal_id != goal_id:  # a repeated or late request
        return _ask(step, call, reasks=0)
    goal = db.session.get(Goal, goal_id)
    assert goal is not None
    score = key_score(keys.strip())
    if score is None and reasks < MAX_REASKS:
        step.say(calls.not_heard(call.speaker))
        return _ask(step, call, reasks + 1)
    turn = rounds.answer(call.round, goal, score, ScoreSource.KEYPAD, now)
    db.session.commit()
    if turn.next_goal is None:
        return step.say(call.speaker.say(texts.THANKS, clinic=call.clinic.name)).end()
    return _ask(step, call, reasks=0)


def _live(found: GoalRound | None, now: datetime) -> _Call | None:
    """The round if it is open, unexpired and waiting for a goal's score."""
    if found is None or found.state is not RoundState.OPEN or found.current_goal_id is None:
        return None
    if found.expires_at <= now:
        return None
    speaker = calls.call_speaker(found.patient_id, found.clinic_id)
    clinic = db.session.get(Clinic, found.clinic_id)
    if speaker is None or clinic is None:
        return None
    return _Call(found, speaker, clinic)


def _ask(step: VoiceStep, call: _Call, reasks: int) -> VoiceStep:
    goal = db.session.get(Goal, call.round.current_goal_id or 0)
    assert goal is not None
    speaker = call.speaker
    prompts = [
        speaker.say(texts.VOICE_QUESTION, goal=rounds.goal_words(goal, speaker.locale)),
        speaker.say(texts.VOICE_KEYS),
    ]
    params: dict[str, str | int] = {"r": call.round.id, "g": goal.id, "t": reasks}
    return step.ask(GOAL_STEP, params, prompts, digits=1)
