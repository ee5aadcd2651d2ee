"""Patient-facing survey texts: the Friends and Family Test and the answering prompts.

Every string here is a gettext message id (extracted into `translations/`); survey
definitions written as plain English strings are looked up in the same catalogues.
The Friends and Family Test wording is NHS England's and must not be changed.
"""

from __future__ import annotations

from typing import Any

from app.messaging import compose


def _(message: str) -> str:
    """Marks a text for extraction; the English text is the gettext key."""
    return message


FFT_QUESTION = _("Overall, how was your experience of our service?")
FFT_VERY_GOOD = _("Very good")
FFT_GOOD = _("Good")
FFT_NEITHER = _("Neither good nor poor")
FFT_POOR = _("Poor")
FFT_VERY_POOR = _("Very poor")
FFT_DONT_KNOW = _("Don't know")
FFT_FOLLOW_UP = _("What was good, and what could we do better?")
FFT_TITLE = _("Friends and Family Test")

INVITE = _(
    "%(clinic)s: thank you for your visit. Please answer a few short questions about it. "
    "Reply STOP to opt out."
)
THANKS = _("Thank you for your answers. %(clinic)s reads every one.")
CHOOSE = _("Reply with a number: %(options)s.")
YES_NO = _("Reply YES or NO.")
SCALE = _("Reply with a number from %(min)d (%(low)s) to %(max)d (%(high)s).")
SCALE_PLAIN = _("Reply with a number from %(min)d to %(max)d.")
NUMBER = _("Reply with a number.")
FREE_TEXT = _("Reply in your own words, or SKIP.")
SKIP = _("Reply SKIP to skip this question.")
HINT = _("Sorry, we did not understand.")
HINT_REQUIRED = _("This question matters to us; reply SKIP again if you would rather not say.")
WEB_INVITE = _(
    "%(clinic)s: thank you for your visit. Please tell us how it went: %(link)s "
    "(open until %(date)s). Reply STOP to opt out."
)

#: Spoken prompts for the telephone (the TwiML <Say> text).
VOICE_CHOOSE = _("Press %(digit)d for %(label)s.")
VOICE_YES_NO = _("Press 1 for yes, or 2 for no.")
VOICE_SCALE = _("Press a number from %(min)d to %(max)d.")
VOICE_SKIP = _("Press star to skip this question.")
VOICE_FREE_TEXT = _("This question is best answered by text message; we will move on.")
VOICE_INTRO = _("Hello. This is %(clinic)s with a short survey about your recent visit.")

#: The Friends and Family Test: the built-in survey every clinic may send.
FFT: dict[str, Any] = {
    "slug": "fft",
    "title": FFT_TITLE,
    "questions": [
        {
            "id": "fft",
            "type": "single_choice",
            "text": FFT_QUESTION,
            "options": [
                {"key": "very_good", "label": FFT_VERY_GOOD},
                {"key": "good", "label": FFT_GOOD},
                {"key": "neither", "label": FFT_NEITHER},
                {"key": "poor", "label": FFT_POOR},
                {"key": "very_poor", "label": FFT_VERY_POOR},
                {"key": "dont_know", "label": FFT_DONT_KNOW},
            ],
        },
        {"id": "comment", "type": "free_text", "text": FFT_FOLLOW_UP, "optional": True},
    ],
}

#: Every survey text by the name clinics override it under.
SURVEY_TEXTS: dict[str, str] = {
    "fft_question": FFT_QUESTION,
    "fft_very_good": FFT_VERY_GOOD,
    "fft_good": FFT_GOOD,
    "fft_neither": FFT_NEITHER,
    "fft_poor": FFT_POOR,
    "fft_very_poor": FFT_VERY_POOR,
    "fft_dont_know": FFT_DONT_KNOW,
    "fft_follow_up": FFT_FOLLOW_UP,
    "fft_title": FFT_TITLE,
    "survey_invite": INVITE,
    "survey_thanks": THANKS,
    "prompt_choose": CHOOSE,
    "prompt_yes_no": YES_NO,
    "prompt_scale": SCALE,
    "prompt_scale_plain": SCALE_PLAIN,
    "prompt_number": NUMBER,
    "prompt_free_text": FREE_TEXT,
    "prompt_skip": SKIP,
    "survey_hint": HINT,
    "survey_hint_required": HINT_REQUIRED,
    "web_invite": WEB_INVITE,
    "voice_choose": VOICE_CHOOSE,
    "voice_yes_no": VOICE_YES_NO,
    "voice_scale": VOICE_SCALE,
    "voice_skip": VOICE_SKIP,
    "voice_free_text": VOICE_FREE_TEXT,
    "voice_intro": VOICE_INTRO,
}


def samples(locale: str, count: int = 1) -> dict[str, object]:
    """Sample values of the placeholders only survey texts use, in `locale` (the FFT's
    labels from the locale's catalogue), for the template checks."""
    translate = compose.translator((locale,))[0].gettext
    labels = [translate(option["label"]) for option in FFT["questions"][0]["options"]]
    return {
        "options": ", ".join(f"{number} {label}" for number, label in enumerate(labels, 1)),
        "min": 1,
        "max": 5,
        "low": translate(FFT_VERY_POOR),
        "high": translate(FFT_VERY_GOOD),
        "label": labels[0],
    }
