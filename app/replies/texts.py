"""Patient-facing texts of reminders and of the answers to replies.

Every string here is a gettext message id (extracted into `translations/`). A reminder
ends with its reply menu: 1 confirm, 2 cancel, 3 ask for a new time (`menu.py`); never
"reply CANCEL", which Twilio takes as an opt-out.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a text for extraction; the English text is the gettext key."""
    return message


def N_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 (gettext convention)
    """Marks a plural text for extraction."""
    return singular, plural


REMINDER = _(
    "%(clinic)s: your appointment is on %(date)s at %(time)s. "
    "Reply 1 to confirm, 2 to cancel or 3 to ask for a new time. Reply STOP to opt out."
)
CONFIRMED = _("Thank you. Your appointment on %(date)s at %(time)s is confirmed.")
CANCELLED = _("Your appointment on %(date)s at %(time)s is cancelled. Thank you for telling us.")
REBOOK = _(
    "Thank you. %(clinic)s will contact you to find a new time for your appointment on %(date)s."
)
OPT_OUT_ACK = _("You will get no more messages from %(clinic)s. Reply START to opt back in.")
OPT_IN_ACK = _("You will get messages from %(clinic)s again. Reply STOP to opt out.")
HELP = _(
    "%(clinic)s appointment messages. Reply 1 to confirm, 2 to cancel or 3 to ask for a new "
    "time. Reply STOP to opt out. For anything else please phone the clinic."
)
REASK = _(
    "Sorry, we did not understand. Reply 1 to confirm, 2 to cancel or 3 to ask for a new time."
)
WHICH_ONE = N_(
    "You have %(count)d appointment: %(list)s. Reply 1A to confirm it, 2A to cancel it or "
    "3A to ask for a new time.",
    "You have %(count)d appointments: %(list)s. Reply with a number and a letter: "
    "1A to confirm A, 2A to cancel A, 3A to ask for a new time for A.",
)

VOICE_REMINDER = _(
    "This is %(clinic)s. Your appointment is on %(date)s at %(time)s. Press 1 to confirm, "
    "2 to cancel, or 3 to ask for a new time."
)

#: Every text by the name clinics override it under.
REPLY_TEXTS: dict[str, str] = {
    "reminder": REMINDER,
    "confirmed": CONFIRMED,
    "cancelled": CANCELLED,
    "rebook": REBOOK,
    "opt_out_ack": OPT_OUT_ACK,
    "opt_in_ack": OPT_IN_ACK,
    "help": HELP,
    "reask": REASK,
    "voice_reminder": VOICE_REMINDER,
}
#: Texts with a singular and a plural form.
REPLY_PLURALS: dict[str, tuple[str, str]] = {"which_one": WHICH_ONE}
