"""The public "you said, we did" page's own words, and its poster's.

Every string is a gettext message id of the `messages` domain, extracted into
`translations/` like the survey form's (`app.surveys.web_texts`); the page looks each one
up in the visitor's language. Names of clinics, themes and what staff wrote are shown as
they were written.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a text for extraction; the English text is the gettext key."""
    return message


PAGE_TITLE = _("What patients told us and what we did")
LANGUAGE = _("Language")
NOT_ENOUGH = _("Not enough responses yet")
NO_RESULTS = _("We have no survey results to show yet.")

FFT_HEADING = _("How was your experience of our service?")
FFT_POSITIVE = _("%(percent)s said good or very good")
FFT_INTERVAL = _("We are 95%% sure the true figure is between %(low)s and %(high)s.")
FFT_WEIGHTED = _(
    "Weighted so that the figure stands for everyone we asked, not only the people who answered."
)
MONTH_OF = _("Results for %(month)s")
TREND_HEADING = _("Month by month")
MONTH = _("Month")
POSITIVE = _("Good or very good")

ASKED_HEADING = _("Who we asked and who answered")
ASKED = _("Asked")
ANSWERED = _("Answered")
ALL_CHANNELS = _("All ways")
CHANNEL = _("How we asked")
CHANNEL_SMS = _("Text message")
CHANNEL_WHATSAPP = _("WhatsApp")
CHANNEL_VOICE = _("Phone call")
CHANNEL_WEB = _("Web form")

HEARD_HEADING = _("Who we heard from")
HEARD_INTRO = _(
    "Each group's share of the people we asked, and of the people who answered. Where "
    "the shares differ, some groups are heard less than others."
)
GROUP = _("Group")
SHARE_ASKED = _("Share of those asked")
SHARE_HEARD = _("Share of those who answered")
BY_AGE = _("By age")
BY_ETHNIC = _("By ethnic group")
BY_LANGUAGE = _("By language")
UNKNOWN = _("Not known")
ETHNIC_WHITE = _("White")
ETHNIC_MIXED = _("Mixed or multiple ethnic groups")
ETHNIC_ASIAN = _("Asian or Asian British")
ETHNIC_BLACK = _("Black or Black British")
ETHNIC_OTHER = _("Another ethnic group")

THEMES_HEADING = _("What people wrote about most")
THEME_SHARE = _("%(percent)s of people who answered")
QUOTE_NOTE = _("Quotes are shown with personal details removed.")

ENTRIES_HEADING = _("You said, we did")
NO_ENTRIES = _("Nothing to show yet.")
YOU_SAID = _("You said")
WE_DID = _("We did")
STATUS_PLANNED = _("Planned")
STATUS_IN_PROGRESS = _("In progress")
STATUS_DONE = _("Done")
STARTED_ON = _("Started %(date)s")
DONE_ON = _("Done %(date)s")
THEMES = _("Themes")

CLINICS_HEADING = _("Our services")
OPEN_DATA = _("Download these figures (open data)")
POSTER = _("Poster to print")
MISSING_TITLE = _("Page not found")
MISSING_BODY = _("Check the address of the page.")
POSTER_ASK = _("Tell us about your visit: answer our short survey when we text you.")

#: The page's words by name, as its template uses them (`ui.not_enough`).
PAGE_TEXTS: dict[str, str] = {
    name.lower(): value for name, value in dict(globals()).items() if name.isupper()
}
