"""How a survey speaks to a patient: its own texts, prompts and questions.

A survey definition's texts are either plain English (translated by the catalogues, and
reworded by a clinic like any template) or written per locale. Every channel (text,
telephone, web form) picks a text the same way: the first locale of the patient's chain
the definition has, else the catalogue's translation of the English.
"""

from __future__ import annotations

from app.core.sms import normalise_invisible
from app.messaging.speaker import Speaker
from app.surveys import flow, texts
from app.surveys.definitions import Question, Text

_PROMPTS = (
    texts.CHOOSE,
    texts.YES_NO,
    texts.SCALE,
    texts.SCALE_PLAIN,
    texts.NUMBER,
    texts.FREE_TEXT,
    texts.SKIP,
)


def text_of(speaker: Speaker, value: Text) -> tuple[str, str]:
    """A definition text in the first language of the speaker's chain that has it, and
    that language."""
    for code in speaker.chain:
        if code in value.by_locale and not (code == "en" and value.translatable):
            return value.by_locale[code], code
    if value.translatable:
        text, locale = speaker.localise(value.english)
        # A catalogue without this message gives the English text back.
        return text, "en" if text == value.english else locale
    return value.english, "en" if "en" in value.by_locale else next(iter(value.by_locale))


def text(speaker: Speaker, value: Text) -> str:
    """The words of `text_of`."""
    return text_of(speaker, value)[0]


def all_texts(speaker: Speaker, value: Text) -> list[str]:
    """The text in the patient's language, then in English (for reading replies)."""
    return list(dict.fromkeys([text(speaker, value), value.english]))


def prompts(speaker: Speaker) -> flow.Prompts:
    """How to answer each kind of question, in the patient's language."""
    return flow.Prompts(*(speaker.localise(prompt)[0] for prompt in _PROMPTS))


def question_text(speaker: Speaker, question: Question) -> str:
    """A question as a text message: the question and how to answer it."""
    rendered = flow.render_question(question, lambda value: text(speaker, value), prompts(speaker))
    return normalise_invisible(rendered)
