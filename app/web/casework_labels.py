"""The words staff read on the worklist and patient timelines: each code the database
stores (a state, a kind, a channel, a provider error) in plain English, and times and
languages as people say them.

Templates get these as functions (`label`, `when`, `language_name`, `error_text`) from
the pages that render them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale, UnknownLocaleError
from flask_babel import LazyString, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.casework.models import WorkKind
from app.core.phone import UK_COUNTRY_CODE

Labels = Mapping[str, LazyString]

#: Each kind of worklist item: its heading, and what it asks of staff.
WORK_KINDS: Labels = {
    WorkKind.FLAGGED_REPLY: _l("Replies not understood"),
    WorkKind.REBOOK_REQUEST: _l("Rebook requests"),
    WorkKind.CANCELLATION: _l("Cancelled slots to refill"),
    WorkKind.OPT_OUT: _l("New opt-outs"),
    WorkKind.FAILED_MESSAGE: _l("Messages that did not reach the patient"),
}
WORK_KIND_HINTS: Labels = {
    WorkKind.FLAGGED_REPLY: _l("Read the reply and contact the patient if they need something."),
    WorkKind.REBOOK_REQUEST: _l("Offer the patient a new time and move the booking."),
    WorkKind.CANCELLATION: _l("The patient cancelled an appointment in the next 72 hours."),
    WorkKind.OPT_OUT: _l("The patient gets no more messages from the clinic."),
    WorkKind.FAILED_MESSAGE: _l("Check the patient's number or how they prefer to be reached."),
}
#: One item of each kind, as a card's heading.
WORK_KIND_ITEM: Labels = {
    WorkKind.FLAGGED_REPLY: _l("Reply not understood"),
    WorkKind.REBOOK_REQUEST: _l("Asked for a new time"),
    WorkKind.CANCELLATION: _l("Slot to refill"),
    WorkKind.OPT_OUT: _l("Opted out"),
    WorkKind.FAILED_MESSAGE: _l("Message not delivered"),
}
FLAG_REASONS: Labels = {
    "not_understood": _l("Not understood"),
    "unknown_sender": _l("From a number no patient of the clinic has"),
    "no_pending_appointment": _l("Answered a reminder, but has no booked appointment"),
    "unknown_clinic": _l("Sent to a number no clinic has"),
}
CONSENT_SOURCES: Labels = {
    "reply": _l("The patient replied STOP"),
    "provider": _l("The phone network reported the number unsubscribed"),
    "import": _l("Imported from the clinic's records"),
    "staff": _l("A member of staff, for the patient"),
}
CONSENT_ACTIONS: Labels = {"opt_out": _l("Opted out"), "opt_in": _l("Opted back in")}
CHANNELS: Labels = {
    "sms": _l("Text message (SMS)"),
    "whatsapp": _l("WhatsApp"),
    "voice": _l("Telephone call"),
    "web": _l("Web form (link sent by text)"),
    "all": _l("All messages"),
}
#: A channel in a sentence: "received on 2 March, by text message".
CHANNELS_BY: Labels = {
    "sms": _l("by text message"),
    "whatsapp": _l("on WhatsApp"),
    "voice": _l("by telephone call"),
    "web": _l("by web link"),
}
MESSAGE_STATES: Labels = {
    "pending": _l("Planned"),
    "claimed": _l("Queued"),
    "sending": _l("Sending"),
    "accepted": _l("Accepted"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Failed"),
    "expired": _l("Dropped: too late to help"),
    "cancelled": _l("Withdrawn"),
    "suppressed": _l("Not sent: opted out"),
    "unknown": _l("Being checked"),
    "received": _l("Received"),
    "processed": _l("Understood"),
    "flagged": _l("For staff to read"),
}
#: Tag colours of the design system, by state.
STATE_COLOURS: Mapping[str, str] = {
    "pending": "grey",
    "claimed": "grey",
    "sending": "blue",
    "accepted": "blue",
    "sent": "blue",
    "delivered": "green",
    "undelivered": "red",
    "failed": "red",
    "expired": "orange",
    "cancelled": "grey",
    "suppressed": "orange",
    "unknown": "yellow",
    "received": "blue",
    "processed": "green",
    "flagged": "orange",
}
MESSAGE_KINDS: Labels = {
    "reminder": _l("Reminder"),
    "confirmed": _l("Reply: confirmed"),
    "cancelled": _l("Reply: cancelled"),
    "rebook": _l("Reply: new time asked for"),
    "which_one": _l("Which appointment?"),
    "opt_out_ack": _l("Opt-out confirmed"),
    "opt_in_ack": _l("Opt-in confirmed"),
    "help": _l("Help text"),
    "survey_invite": _l("Survey invitation"),
    "survey_question": _l("Survey question"),
    "survey_thanks": _l("Survey thanks"),
    "goal_question": _l("Goal question"),
    "goal_thanks": _l("Goal scores thanks"),
}
#: What a patient's reply was understood as.
INTENTS: Labels = {
    "opt_out": _l("Stop messages"),
    "opt_in": _l("Start messages again"),
    "help": _l("Help"),
    "confirm": _l("Confirmed"),
    "cancel": _l("Cancelled"),
    "rebook": _l("Asked for a new time"),
    "number": _l("A number"),
    "yes": _l("Yes"),
    "no": _l("No"),
    "skip": _l("Skipped"),
    "dont_know": _l("Don't know"),
    "text": _l("Words"),
    "goal_score": _l("A goal's score"),
    "goal_reask": _l("Not a score: asked again"),
    "goal_skip": _l("Goal skipped"),
}
APPOINTMENT_STATUSES: Labels = {
    "booked": _l("Booked"),
    "attended": _l("Attended"),
    "dna": _l("Did not attend"),
    "cancelled_patient": _l("Cancelled by the patient"),
    "cancelled_clinic": _l("Cancelled by the clinic"),
    "entered_in_error": _l("Entered in error"),
}
SESSION_STATES: Labels = {
    "open": _l("Waiting for an answer"),
    "completed": _l("Completed"),
    "expired": _l("Ended without all answers"),
    "opted_out": _l("Stopped: opted out"),
    "undelivered": _l("Invitation not delivered"),
    "erased": _l("Erased"),
}
ANSWER_STATUSES: Labels = {
    "answered": _l("Answered"),
    "skipped": _l("Skipped"),
    "dont_know": _l("Don't know"),
    "unparsed": _l("Not understood"),
}
#: Twilio's error codes that staff meet, in plain words.
ERROR_CODES: Mapping[int, LazyString] = {
    21211: _l("The number is not a valid phone number."),
    21214: _l("The number cannot be reached."),
    21217: _l("The number does not look valid."),
    21408: _l("Messages to this country are not switched on."),
    21610: _l("The patient unsubscribed at their network by replying STOP."),
    21612: _l("The network cannot carry messages to this number."),
    21614: _l("The number is not a mobile, so it cannot get texts."),
    30003: _l("The phone is switched off or has no signal."),
    30004: _l("The message was blocked. The number may be barred from texts."),
    30005: _l("The network does not know the number. It may no longer be in use."),
    30006: _l("The number is a landline, or its network cannot take texts."),
    30007: _l("The network filtered the message as possible spam."),
    30008: _l("The network could not deliver it and did not say why."),
    63003: _l("The number is not on WhatsApp."),
    63016: _l("WhatsApp allows free text only within 24 hours of the patient's last message."),
}
#: What the phone policy's refusals mean for a change of channel.
CHANNEL_REFUSALS: Labels = {
    "landline": _l("The patient's number is a landline, so it can only take telephone calls."),
    "not_uk": _l("The patient's number is not a UK number this clinic can message."),
    "invalid": _l("The patient's number is not valid for this channel."),
}


def label(table: Labels, code: object) -> str:
    """The words for `code` in `table`, or the code itself when it has none."""
    if code is None:
        return ""
    found = table.get(str(code))
    return str(found) if found is not None else str(code)


def error_text(code: int | None, channel: str | None = None) -> str:
    """A provider error in plain words; a call with no code was not answered."""
    if code is None:
        if channel == "voice":
            return str(_("The call was not answered, or the line was busy."))
        return str(_("The network gave no reason."))
    found = ERROR_CODES.get(code)
    if found is not None:
        return str(_("%(reason)s (error %(code)s)", reason=found, code=code))
    return str(_("The network gave error %(code)s.", code=code))


def when(instant: datetime | None, timezone: str, long: bool = False) -> str:
    """`instant` in the clinic's time zone, in the staff member's language: "2 March 2026
    at 09:00", or with `long` "Monday 2 March 2026 at 09:00"; "" for None."""
    if instant is None:
        return ""
    local = instant.astimezone(ZoneInfo(timezone))
    pattern = "EEEE d MMMM y" if long else "d MMMM y"
    return str(
        _(
            "%(date)s at %(time)s",
            date=format_datetime(local, pattern, rebase=False),
            time=format_datetime(local, "HH:mm", rebase=False),
        )
    )


def day(instant: datetime, timezone: str) -> str:
    """The day of `instant` in the clinic's time zone: "Monday 2 March 2026"."""
    local = instant.astimezone(ZoneInfo(timezone))
    return str(format_datetime(local, "EEEE d MMMM y", rebase=False))


def language_name(code: str) -> str:
    """A locale code as its name in the staff member's language, with its own name after
    it ("Polish (polski)"); the code itself if Babel does not know it."""
    try:
        language = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return code
    here = str(get_locale() or "en")
    name = language.get_display_name(here) or code
    own = language.get_display_name(language) or ""
    if not own or own.lower() == name.lower():
        return name
    return f"{name} – {own}" if "(" in name else f"{name} ({own})"


def phone_text(number: str | None) -> str:
    """An E.164 number as people write it: "07400 100001" for a UK number, "+1 ..."
    (international) for any other; "" for None."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == UK_COUNTRY_CODE
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(parsed, style))
