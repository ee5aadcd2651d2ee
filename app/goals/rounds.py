"""Rounds of goal questions: planned before each appointment of a pathway that uses
goals, opened when the first question is sent, and answered one goal at a time.

- Planning (appointment-event handlers, registered in `app.wiring`): a booked
  appointment of such a pathway gets one outbox row of kind `goal_question`, due the
  pathway's hours before it (moved out of quiet hours to the evening before, as a
  reminder is; sent at once if booked later than that) and expiring when the
  appointment starts. A move plans it again; a cancellation or an outcome withdraws it.
- Composing (the kind's composer): the round opens with the patient's open goals, oldest
  first. By text the message names the clinic and the date and asks the first goal's
  score; on the web channel it links to the goal form; for a call it is a record (the
  call asks). A patient with no open goal, or an appointment no longer booked, gets
  nothing (suppressed).
- Replies (`take_score`, a reply handler): a number from 0 to 10 in any digit script
  or in words scores the goal and asks the next; a skip or "don't know" moves on; any
  other reply is asked once more with a hint, and the second time moves on and leaves
  the reply for staff. STOP is taken before it reaches here. A reminder sent after the
  question owns the digits of its menu: the round then lets the reply go to the menu.

Nothing here commits except `expire_rounds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.channels import TEXT_CHANNELS, Channel
from app.core.clock import Clock
from app.core.parsing import Intent, parse_number
from app.extensions import db
from app.goals import texts
from app.goals.change import HIGHEST, LOWEST
from app.goals.links import goal_link
from app.goals.models import Goal, GoalRound, GoalScore, RoundState, ScoreSource
from app.goals.service import pathway_hours
from app.messaging.inbox import Conversation
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.outbox import plan_message, planned_rules, withdraw_open
from app.messaging.registry import ComposeContext, Draft, Outgoing, Withheld
from app.messaging.speaker import Speaker, speaker_for
from app.messaging.states import MessageState
from app.patients.consent import is_opted_out
from app.patients.models import Patient
from app.scheduling import rules

#: The outbox rule name of a goal question.
RULE = "goals"
#: How many times one goal's question is asked again after a reply not understood.
MAX_REASKS = 1
#: A question planned too late to leave this long before the appointment is not sent.
MIN_LEAD = timedelta(hours=1)


# -- planning ----------------------------------------------------------------------------


def plan_questions(appointments: Sequence[Appointment], clinic: Clinic, clock: Clock) -> None:
    """Booked or moved: plan the goal question of each appointment of a pathway that
    uses goals, for its current plan version (planning twice writes nothing new)."""
    hours = pathway_hours(clinic.id)
    if not hours:
        return
    for appointment in appointments:
        if appointment.pathway in hours and appointment.status is AppointmentStatus.BOOKED:
            _plan(appointment, clinic, hours[appointment.pathway], clock)


def replan_questions(appointments: Sequence[Appointment], clinic: Clinic, clock: Clock) -> None:
    """Moved: withdraw the question of the old time and plan the one of the new time."""
    withdraw_questions(appointments, clinic, clock)
    plan_questions(appointments, clinic, clock)


def follow_pathway(appointments: Sequence[Appointment], clinic: Clinic, clock: Clock) -> None:
    """A pathway changed (the time did not): plan the question of an appointment now on
    a pathway that uses goals, withdraw the unsent one of an appointment that left one."""
    hours = pathway_hours(clinic.id)
    for appointment in appointments:
        if appointment.pathway in hours:
            plan_questions([appointment], clinic, clock)
        else:
            withdraw_questions([appointment], clinic, clock)


def withdraw_questions(appointments: Sequence[Appointment], _clinic: Clinic, clock: Clock) -> None:
    """Cancelled, attended or missed: withdraw the questions not yet sent."""
    withdraw_open([a.id for a in appointments], [MessageKind.GOAL_QUESTION], clock.now())


def _plan(appointment: Appointment, clinic: Clinic, hours: int, clock: Clock) -> int | None:
    if RULE in planned_rules(appointment.id, MessageKind.GOAL_QUESTION, appointment.plan_version):
        return None
    patient = db.session.get(Patient, appointment.patient_id)
    assert patient is not None
    channel = Channel(patient.channel_preference or Channel.SMS)
    if is_opted_out(patient.id, clinic.id, channel):
        return None
    policy = rules.ReminderPolicy(
        rules=(rules.ReminderRule(timedelta(hours=hours), None, RULE),),
        quiet_hours=rules.QuietHours(clinic.quiet_start, clinic.quiet_end),
        expiry_margin=timedelta(0),
        min_lead=MIN_LEAD,
    )
    now = clock.now()
    planned = rules.plan_reminders(appointment.starts_at, ZoneInfo(clinic.timezone), now, policy)
    if not planned:
        return None
    message = plan_message(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=appointment.id,
        kind=MessageKind.GOAL_QUESTION,
        channel=channel,
        due_at=planned[0].due_at,
        expires_at=planned[0].expires_at,
        now=now,
        rule=RULE,
        plan_version=appointment.plan_version,
    )
    return message.id


# -- composing ---------------------------------------------------------------------------


def open_goals(patient_id: int) -> list[Goal]:
    """The patient's open goals, oldest first: the order they are asked in."""
    return list(
        db.session.scalars(
            select(Goal)
            .where(Goal.patient_id == patient_id, Goal.closed_at.is_(None))
            .order_by(Goal.opened_at, Goal.id)
        )
    )


def compose_question(message: Outgoing, context: ComposeContext) -> Draft:
    """The goal question of `message`, composed as it goes: the kind's composer.

    Opens the round (closing an older one of the patient still open). Withholds
    (suppressed) the message when the patient has no open goal or the appointment is no
    longer booked. A retry of a message whose round is open already sends the same body.
    """
    now = context.now
    row = db.session.get(OutboundMessage, message.message_id)
    assert row is not None
    found = db.session.scalar(select(GoalRound).where(GoalRound.message_id == row.id))
    if found is not None:
        return Draft(row.body or "", found.locale)
    appointment = db.session.get(Appointment, row.appointment_id or 0)
    goals = open_goals(message.patient_id)
    if appointment is None or appointment.status is not AppointmentStatus.BOOKED or not goals:
        raise Withheld(MessageState.SUPPRESSED)
    clinic = db.session.get(Clinic, message.clinic_id)
    patient = db.session.get(Patient, message.patient_id)
    assert clinic is not None
    assert patient is not None
    speaker = speaker_for(patient, clinic)
    _close_open_rounds(patient.id, clinic.id, now)
    opened = GoalRound(
        clinic_id=clinic.id,
        patient_id=patient.id,
        appointment_id=appointment.id,
        message_id=row.id,
        channel=row.channel,
        locale=speaker.locale,
        state=RoundState.OPEN,
        current_goal_id=goals[0].id,
        asked_at=now,
        reasks=0,
        opened_at=now,
        expires_at=appointment.starts_at,
    )
    db.session.add(opened)
    db.session.flush()
    date_text, _ = speaker.when(appointment.starts_at, speaker.locale)
    values: dict[str, Any] = {"clinic": clinic.name, "date": date_text}
    if row.channel == Channel.WEB:
        link = goal_link(context.public_base_url, opened.id, context.secret_key, context.clock)
        body = speaker.say(texts.WEB_INVITE, link=link, **values)
    elif row.channel == Channel.VOICE:
        body = speaker.say(texts.VOICE_INTRO, **values)
    else:
        body = f"{speaker.say(texts.INTRO, **values)} {question_text(speaker, goals[0])}"
    return Draft(body, speaker.locale, {"2": date_text})


def question_text(speaker: Speaker, goal: Goal) -> str:
    """One goal's question by text: the goal as the patient said it, and how to answer."""
    return speaker.say(texts.QUESTION, goal=goal_words(goal, speaker.locale))


def goal_words(goal: Goal, locale: str) -> str:
    """The goal as the patient said it; in English, its translation, when the message
    is in English and the goal was written in another language (a voice that cannot
    speak the goal's language speaks English)."""
    if goal.text_locale != locale and locale == "en" and goal.translation_en:
        return goal.translation_en
    return goal.text


def _close_open_rounds(patient_id: int, clinic_id: int, now: datetime) -> None:
    """A new round replaces the patient's older one: it ends as expired."""
    db.session.execute(
        update(GoalRound)
        .where(
            GoalRound.patient_id == patient_id,
            GoalRound.clinic_id == clinic_id,
            GoalRound.state == RoundState.OPEN,
        )
        .values(state=RoundState.EXPIRED, closed_at=now, current_goal_id=None)
        .execution_options(synchronize_session=False)
    )


# -- answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What one answer did: the goal asked next (None at the end of the round)."""

    next_goal: Goal | None
    scored: bool


def open_round_for(
    patient_ids: Sequence[int], clinic_id: int, channel: str, now: datetime
) -> GoalRound | None:
    """The patient's open, unexpired round on `channel` with this clinic, locked."""
    return db.session.scalar(
        select(GoalRound)
        .where(
            GoalRound.patient_id.in_(list(patient_ids)),
            GoalRound.clinic_id == clinic_id,
            GoalRound.channel == channel,
            GoalRound.state == RoundState.OPEN,
            GoalRound.expires_at > now,
            GoalRound.current_goal_id.is_not(None),
        )
        .order_by(GoalRound.opened_at.desc())
        .limit(1)
        .with_for_update()
    )


def take_score(conversation: Conversation) -> bool:
    """A reply handler: an open goal question on the reply's text channel takes the
    reply as its score (or asks once more, or moves on). True if one did."""
    if conversation.channel not in TEXT_CHANNELS:
        return False
    found = open_round_for(
        conversation.patient_ids, conversation.clinic.id, conversation.channel, conversation.now
    )
    if found is None or _reminded_since(found):
        return False
    goal = db.session.get(Goal, found.current_goal_id or 0)
    assert goal is not None
    parsed = parse_number(conversation.body, found.locale, LOWEST, HIGHEST, words=True)
    speaker = conversation.speaker
    now = conversation.now
    if parsed.intent is Intent.NUMBER and parsed.number is not None:
        conversation.inbound.intent = "goal_score"
        turn = answer(found, goal, parsed.number, ScoreSource.REPLY, now)
    elif parsed.intent in (Intent.SKIP, Intent.DONT_KNOW):
        conversation.inbound.intent = "goal_skip"
        turn = answer(found, goal, None, ScoreSource.REPLY, now)
    elif found.reasks < MAX_REASKS:
        conversation.inbound.intent = "goal_reask"
        found.reasks += 1
        found.asked_at = now
        text = f"{speaker.say(texts.REASK)} {question_text(speaker, goal)}"
        kind = MessageKind.GOAL_QUESTION
        conversation.answer_text(kind, text, found.locale, found.appointment_id)
        return True
    else:
        conversation.flag("not_understood")
        turn = answer(found, goal, None, ScoreSource.REPLY, now)
    _say_next(conversation, found, turn)
    return True


def _say_next(conversation: Conversation, found: GoalRound, turn: Turn) -> None:
    speaker, clinic = conversation.speaker, conversation.clinic
    if turn.next_goal is None:
        text, kind = speaker.say(texts.THANKS, clinic=clinic.name), MessageKind.GOAL_THANKS
    else:
        text, kind = question_text(speaker, turn.next_goal), MessageKind.GOAL_QUESTION
    conversation.answer_text(kind, text, found.locale, found.appointment_id)


def _reminded_since(found: GoalRound) -> bool:
    """Whether a reminder went to the patient after the current question: its menu's
    digits are then the reminder's, not a score."""
    sent_at = func.coalesce(OutboundMessage.accepted_at, OutboundMessage.sending_at)
    later = db.session.scalar(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.patient_id == found.patient_id,
            OutboundMessage.kind == MessageKind.REMINDER,
            sent_at > found.asked_at,
        )
        .limit(1)
    )
    return later is not None


def answer(
    found: GoalRound, goal: Goal, score: int | None, source: ScoreSource, now: datetime
) -> Turn:
    """Record `score` for `goal` in the round (None: skipped) and move the round on to
    the next open goal, or complete it. Does not commit."""
    scored = score is not None and _record(found, goal, score, source, now)
    following = next_goal(found, goal)
    found.reasks = 0
    found.asked_at = now
    if following is None:
        found.state, found.current_goal_id, found.closed_at = RoundState.COMPLETED, None, now
    else:
        found.current_goal_id = following.id
    return Turn(following, scored)


def _record(found: GoalRound, goal: Goal, score: int, source: ScoreSource, now: datetime) -> bool:
    """Store the score once per goal and round; False when it was there already."""
    exists = db.session.scalar(
        select(GoalScore.id).where(GoalScore.goal_id == goal.id, GoalScore.round_id == found.id)
    )
    if exists is not None:
        return False
    db.session.add(
        GoalScore(
            goal_id=goal.id,
            clinic_id=goal.clinic_id,
            score=score,
            at=now,
            channel=found.channel,
            source=source,
            round_id=found.id,
        )
    )
    db.session.flush()
    return True


def next_goal(found: GoalRound, after: Goal) -> Goal | None:
    """The open goal asked after `after` in this round (goals go oldest first)."""
    for goal in open_goals(found.patient_id):
        if (goal.opened_at, goal.id) > (after.opened_at, after.id):
            return goal
    return None


# -- ends of rounds ----------------------------------------------------------------------


def close_for_opt_out(patient_id: int, clinic_id: int, now: datetime) -> None:
    """An opt-out ends the patient's open round with the clinic (an opt-out listener:
    `app.patients.consent.on_opt_out`). Does not commit."""
    _end(
        [GoalRound.patient_id == patient_id, GoalRound.clinic_id == clinic_id],
        RoundState.OPTED_OUT,
        now,
    )


def close_superseded(message: OutboundMessage, now: datetime) -> None:
    """A question that never reached the patient is sent again on another channel: the
    round it opened ends as undelivered, so the copy opens its own (a superseded
    listener: `app.messaging.registry.on_superseded`)."""
    if message.kind != MessageKind.GOAL_QUESTION:
        return
    _end([GoalRound.message_id == message.id], RoundState.UNDELIVERED, now)


def expire_rounds(now: datetime) -> int:
    """End every open round whose appointment has started; scores so far are kept.
    Commits; returns how many ended."""
    ended = _end([GoalRound.expires_at <= now], RoundState.EXPIRED, now)
    db.session.commit()
    return ended


def _end(where: list[Any], state: RoundState, now: datetime) -> int:
    result = db.session.execute(
        update(GoalRound)
        .where(GoalRound.state == RoundState.OPEN, *where)
        .values(state=state, closed_at=now, current_goal_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
