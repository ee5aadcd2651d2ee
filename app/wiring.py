"""What each feature plugs into the layers below it, once per process.

`create_app` calls `wire()`. Messaging, consent and appointments know no feature; here
the features are plugged in, so that every dependency between them is visible in one
place.

The order of precedence of replies (the one list): a stored reply is offered to
1. the opt-out, opt-in and help keywords (`replies`), then
2. an open survey question on the same channel (`surveys`), then
3. an open goal question on the same text channel (`goals`): a score from 0 to 10,
   unless a reminder went out after the question (its menu then owns the digits), then
4. the reminder menu: 1 confirm, 2 cancel, 3 ask for a new time (`replies`);
anything none of them takes is flagged for staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from app.appointments import events
from app.appointments.events import AppointmentEvent
from app.appointments.models import Appointment
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.events import forgetting as events_forgetting
from app.events import recording as events_recording
from app.experiments.assigning import assign_new_appointments
from app.experiments.wording import reminder_wording, reminder_wordings
from app.goals import calls as goal_calls
from app.goals import forgetting as goal_forgetting
from app.goals import rounds as goal_rounds
from app.goals import texts as goal_texts
from app.messaging import registry
from app.messaging.kinds import MessageKind
from app.messaging.registry import TemplateSet
from app.messaging.voice import CALL_TEXTS
from app.patients import consent, forgetting
from app.replies import reminders
from app.replies import service as replies
from app.replies.texts import REPLY_PLURALS, REPLY_TEXTS
from app.results import sources as results_sources
from app.scheduling import service as scheduling
from app.surveys import calls as survey_calls
from app.surveys import forgetting as survey_forgetting
from app.surveys import invitations, texts
from app.surveys import queries as survey_queries
from app.surveys import service as surveys
from app.themes import forgetting as themes_forgetting
from app.yousaid import forgetting as yousaid_forgetting


def wire() -> None:
    """Register every feature's composers, handlers and listeners. Idempotent."""
    _messages()
    _appointment_events()
    # What erasure and the retention purge reach above the patients' layer.
    forgetting.register_forgetter("surveys", survey_forgetting.FORGETTER)
    forgetting.register_forgetter("goals", goal_forgetting.FORGETTER)
    forgetting.register_forgetter("events", events_forgetting.FORGETTER)
    forgetting.register_forgetter("themes", themes_forgetting.FORGETTER)
    forgetting.register_forgetter("yousaid", yousaid_forgetting.FORGETTER)
    # Snapshots estimate every question of the surveys their cohort answered.
    results_sources.register_definitions(survey_queries.definitions_by_version)


def _messages() -> None:
    registry.register_templates("replies", TemplateSet(REPLY_TEXTS, REPLY_PLURALS))
    registry.register_templates("calls", TemplateSet(CALL_TEXTS))
    registry.register_templates("surveys", TemplateSet(texts.SURVEY_TEXTS, samples=texts.samples))
    registry.register_templates(
        "goals", TemplateSet(goal_texts.GOAL_TEXTS, samples=goal_texts.samples)
    )
    registry.register_composer(
        MessageKind.REMINDER,
        partial(reminders.compose_reminder, wording=reminder_wording),
        partial(reminders.prefetch_reminders, wordings=reminder_wordings),
    )
    registry.register_composer(
        MessageKind.SURVEY_INVITE, invitations.compose_invitation, invitations.prefetch_invitations
    )
    registry.register_composer(MessageKind.GOAL_QUESTION, goal_rounds.compose_question)
    registry.register_call_script(MessageKind.REMINDER, reminders.reminder_call)
    registry.register_call_script(MessageKind.SURVEY_INVITE, survey_calls.survey_call)
    registry.register_call_script(MessageKind.GOAL_QUESTION, goal_calls.goal_call)
    registry.set_reply_handlers(
        [
            replies.take_keyword,
            surveys.take_answer,
            goal_rounds.take_score,
            replies.take_menu_choice,
        ]
    )
    registry.on_superseded("surveys", invitations.close_superseded)
    registry.on_superseded("goals", goal_rounds.close_superseded)
    consent.on_opt_out("surveys", surveys.close_for_opt_out)
    consent.on_opt_out("goals", goal_rounds.close_for_opt_out)
    # The clinic's own systems hear of opt-outs and failed messages as events.
    consent.on_new_opt_out("events", events_recording.patient_opted_out)
    registry.on_failed("events", events_recording.message_failed)


def _appointment_events() -> None:
    events.on(AppointmentEvent.BOOKED, "reminders", scheduling.plan_reminders)
    events.on(AppointmentEvent.BOOKED, "experiments", _assign_arms)
    events.on(AppointmentEvent.BOOKED, "goals", goal_rounds.plan_questions)
    events.on(AppointmentEvent.MOVED, "reminders", scheduling.replan_reminders)
    events.on(AppointmentEvent.MOVED, "goals", goal_rounds.replan_questions)
    events.on(AppointmentEvent.PATHWAY_CHANGED, "goals", goal_rounds.follow_pathway)
    events.on(AppointmentEvent.CANCELLED, "reminders", scheduling.withdraw_reminders)
    events.on(AppointmentEvent.CANCELLED, "goals", goal_rounds.withdraw_questions)
    events.on(AppointmentEvent.ATTENDED, "reminders", scheduling.withdraw_reminders)
    events.on(AppointmentEvent.ATTENDED, "goals", goal_rounds.withdraw_questions)
    events.on(AppointmentEvent.ATTENDED, "surveys", _invite)
    events.on(AppointmentEvent.DNA, "reminders", scheduling.withdraw_reminders)
    events.on(AppointmentEvent.DNA, "goals", goal_rounds.withdraw_questions)
    events.on(AppointmentEvent.DNA, "surveys", _withdraw_invitations)


def _assign_arms(appointments: Sequence[Appointment], _clinic: Clinic, clock: Clock) -> None:
    assign_new_appointments([a.id for a in appointments], clock)


def _invite(appointments: Sequence[Appointment], _clinic: Clinic, clock: Clock) -> None:
    invitations.plan_invitations([a.id for a in appointments], clock)


def _withdraw_invitations(
    appointments: Sequence[Appointment], _clinic: Clinic, clock: Clock
) -> None:
    invitations.withdraw_invitations([a.id for a in appointments], clock.now())
