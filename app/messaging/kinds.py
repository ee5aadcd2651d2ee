"""The kinds of message WeSaid sends. Each feature composes its own kinds; messaging
only routes them (see `app.messaging.registry`)."""

from __future__ import annotations

import enum


class MessageKind(enum.StrEnum):
    REMINDER = "reminder"  # an appointment reminder with the reply menu (1, 2, 3)
    CONFIRMED = "confirmed"  # the answer to a patient who confirmed
    CANCELLED = "cancelled"  # the answer to a patient who cancelled
    REBOOK = "rebook"  # the answer to a patient who asked for a new time
    WHICH_ONE = "which_one"  # asks which of several appointments a bare digit meant
    OPT_OUT_ACK = "opt_out_ack"  # confirms an opt-out (the one message sent after it)
    OPT_IN_ACK = "opt_in_ack"  # confirms an opt-in
    HELP = "help"  # the answer to HELP or INFO
    SURVEY_INVITE = "survey_invite"  # opens a survey conversation after a visit
    SURVEY_QUESTION = "survey_question"  # the next survey question, or a re-ask
    SURVEY_THANKS = "survey_thanks"  # closes a survey conversation
    GOAL_QUESTION = "goal_question"  # asks for one goal's score (or links to the goal form)
    GOAL_THANKS = "goal_thanks"  # closes a round of goal questions


#: Kinds that may reach a patient who has opted out (the one confirmation of it).
SENT_DESPITE_OPT_OUT = frozenset({MessageKind.OPT_OUT_ACK})
