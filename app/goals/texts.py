"""Patient-facing texts of goal questions: by text, by telephone and on the goal form.

Every string here is a gettext message id (extracted into `translations/`). A goal
question is a message of its own, never part of a reminder: the reminder's menu owns
the digits 1 to 3, and a score runs from 0 to 10. The goal itself is put in as the
patient said it (`%(goal)s`), in the language it was written in.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a text for extraction; the English text is the gettext key."""
    return message


INTRO = _(
    "%(clinic)s: before your appointment on %(date)s, a question about your goals. "
    "Reply STOP to opt out."
)
QUESTION = _("How close are you to: %(goal)s? Reply 0 (not at all) to 10 (reached).")
REASK = _("Sorry, we did not understand. Please reply with one number from 0 to 10.")
THANKS = _("Thank you. %(clinic)s will look at your goals with you at your appointment.")
WEB_INVITE = _(
    "%(clinic)s: before your appointment on %(date)s, please tell us how close you are to "
    "your goals: %(link)s Reply STOP to opt out."
)

#: Spoken on the telephone (the TwiML <Say> text).
VOICE_INTRO = _(
    "Hello. This is %(clinic)s with a question about your goals before your appointment "
    "on %(date)s."
)
VOICE_QUESTION = _("How close are you to: %(goal)s?")
VOICE_KEYS = _("Press a number from 0 for not at all to 9, or press star for 10, reached.")

#: Every text by the name clinics override it under.
GOAL_TEXTS: dict[str, str] = {
    "goal_intro": INTRO,
    "goal_question": QUESTION,
    "goal_reask": REASK,
    "goal_thanks": THANKS,
    "goal_web_invite": WEB_INVITE,
    "goal_voice_intro": VOICE_INTRO,
    "goal_voice_question": VOICE_QUESTION,
    "goal_voice_keys": VOICE_KEYS,
}

#: The goal form's own words (the form's buttons and error summary are the survey
#: form's); the legend of each goal is VOICE_QUESTION.
WEB_TITLE = _("Your goals")
WEB_INTRO = _(
    "Before your appointment on %(date)s, tell us how close you are to each of your goals."
)
NOT_AT_ALL = _("not at all")
REACHED = _("reached")
WEB_CHOOSE = _("Choose a number from 0 to 10.")
WEB_THANKS = _("Your scores have been sent. You can close this page.")
WEB_ANSWERED = _("Your scores have already been sent. Thank you.")
WEB_CLOSED_TITLE = _("This link has closed")
WEB_CLOSED = _(
    "Scores can no longer be sent: your appointment has started, or the link has expired."
)
WEB_NOT_FOUND = _(
    "We could not find this page. Please check that you opened the whole link from your "
    "text message."
)

#: The form's words by name, as its template uses them (`goal_ui.title`).
GOAL_WEB_TEXTS: dict[str, str] = {
    "title": WEB_TITLE,
    "intro": WEB_INTRO,
    "not_at_all": NOT_AT_ALL,
    "reached": REACHED,
    "choose": WEB_CHOOSE,
    "thanks": WEB_THANKS,
    "answered": WEB_ANSWERED,
    "closed_title": WEB_CLOSED_TITLE,
    "closed": WEB_CLOSED,
    "not_found": WEB_NOT_FOUND,
}

#: What the template checks put in for a goal: as long as a goal usually is.
SAMPLE_GOAL = "Walk to the shops on my own"


def samples(locale: str, count: int = 1) -> dict[str, object]:
    """Sample values of the placeholders only goal texts use, for the template checks: a
    goal of a usual length (the patient's own words, left as they wrote them)."""
    return {"goal": SAMPLE_GOAL}
