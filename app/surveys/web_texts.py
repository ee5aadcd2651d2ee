"""The survey web page's own words: labels, buttons, errors and the closed-link pages.

Every string is a gettext message id, extracted into `translations/` like the texts
in `app.surveys.texts`; the page looks each one up for the patient's language chain.
Question and option texts come from the survey definition, not from here.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a text for extraction; the English text is the gettext key."""
    return message


INTRO = _("Your answers help us improve our care. It takes about two minutes.")
OPTIONAL_NOTE = _("Questions marked optional can be left blank.")
OPTIONAL = _("optional")
DONT_KNOW = _("Don't know")
SKIP = _("Skip this question")
YES = _("Yes")
NO = _("No")
YOUR_ANSWER = _("Your answer")
SCALE_ENDS = _("%(min)d means %(low)s and %(max)d means %(high)s.")
NUMBER_RANGE = _("Enter a whole number from %(min)d to %(max)d.")
NUMBER_MIN = _("Enter a whole number of %(min)d or more.")
NUMBER_MAX = _("Enter a whole number up to %(max)d.")
NUMBER_ANY = _("Enter a whole number.")
SUBMIT = _("Send my answers")
FROM_CLINIC = _("A short survey from %(clinic)s.")

ERROR_SUMMARY = _("There is a problem")
ERROR_PREFIX = _("Error:")
QUESTION_NUMBER = _("Question %(number)d")
ERROR_CHOOSE = _("Choose one answer.")
ERROR_WRITE = _("Write your answer.")
ERROR_TOO_LONG = _("Your answer can be up to %(max)d characters long.")
ERROR_FORM_EXPIRED = _(
    "This page was open for a long time. Please check your answers and send them again."
)

THANKS_TITLE = _("Thank you")
THANKS_BODY = _("Your answers have been sent. You can close this page.")
ANSWERED_TITLE = _("Already answered")
ANSWERED_BODY = _("This survey has already been answered. Thank you for your time.")
CLOSED_TITLE = _("This survey has closed")
CLOSED_BODY = _("The link has expired, so answers can no longer be sent. Thank you for your time.")
NOT_FOUND_TITLE = _("Link not recognised")
NOT_FOUND_BODY = _(
    "We could not find this survey. Please check that you opened the whole link "
    "from your text message."
)
TOO_MANY_TITLE = _("Please wait")
TOO_MANY_BODY = _("There have been too many attempts. Please wait a minute and try again.")
FAILED_TITLE = _("Something went wrong")
FAILED_BODY = _("Sorry, we could not show this page. Please try again later.")

#: The page's words by name, as templates use them (`ui.submit`).
WEB_TEXTS: dict[str, str] = {
    "intro": INTRO,
    "optional_note": OPTIONAL_NOTE,
    "optional": OPTIONAL,
    "dont_know": DONT_KNOW,
    "skip": SKIP,
    "yes": YES,
    "no": NO,
    "your_answer": YOUR_ANSWER,
    "scale_ends": SCALE_ENDS,
    "number_range": NUMBER_RANGE,
    "number_min": NUMBER_MIN,
    "number_max": NUMBER_MAX,
    "number_any": NUMBER_ANY,
    "submit": SUBMIT,
    "from_clinic": FROM_CLINIC,
    "error_summary": ERROR_SUMMARY,
    "error_prefix": ERROR_PREFIX,
    "question_number": QUESTION_NUMBER,
    "error_choose": ERROR_CHOOSE,
    "error_write": ERROR_WRITE,
    "error_too_long": ERROR_TOO_LONG,
    "error_form_expired": ERROR_FORM_EXPIRED,
    "thanks_title": THANKS_TITLE,
    "thanks_body": THANKS_BODY,
    "answered_title": ANSWERED_TITLE,
    "answered_body": ANSWERED_BODY,
    "closed_title": CLOSED_TITLE,
    "closed_body": CLOSED_BODY,
    "not_found_title": NOT_FOUND_TITLE,
    "not_found_body": NOT_FOUND_BODY,
    "too_many_title": TOO_MANY_TITLE,
    "too_many_body": TOO_MANY_BODY,
    "failed_title": FAILED_TITLE,
    "failed_body": FAILED_BODY,
}
