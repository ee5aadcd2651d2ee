"""A telephone call, step by step, as data: what to say and which keys to take.

Features build `VoiceStep`s (the reminder menu, a survey's questions); the voice
webhooks render them as TwiML (`app.messaging.channels.twilio_voice.render_twiml`),
turning each step's next action into the URL of a voice webhook, and answer Twilio
with them. Every step that takes keys is followed by a redirect to its own
action, so that with no key pressed Twilio carries on there without `Digits`.

`<Say language>` follows SAY_LANGUAGES. Twilio has no voice for Somali, so a patient
whose language has none hears the next language of their fallback chain that has one,
which is English at worst; the text spoken is in that same language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Project locale → the `<Say language>` code Twilio's text-to-speech speaks it with
#: (Amazon Polly or Google voices; the voice per language is chosen in the Twilio
#: console). Somali has no Twilio voice and is left out on purpose.
SAY_LANGUAGES: dict[str, str] = {
    "en": "en-GB",
    "cy": "cy-GB",
    "pl": "pl-PL",
    "ro": "ro-RO",
    "ur": "ur-IN",
    "pa": "pa-IN",
    "bn": "bn-IN",
    "gu": "gu-IN",
    "ar": "arb",
    "pt": "pt-PT",
    "lt": "lt-LT",
    "es": "es-ES",
    "zh_Hans": "cmn-CN",
}
#: Seconds Twilio waits for a key press.
GATHER_SECONDS = 6
#: How many times the menu or a question is asked again after no key or a wrong one.
MAX_REASKS = 1


def _(message: str) -> str:
    """Marks a text for extraction; the English text is the gettext key."""
    return message


NOT_HEARD = _("Sorry, we did not get that.")
GOODBYE = _("Thank you. Goodbye.")
#: The texts every call may say, by the name clinics override them under.
CALL_TEXTS: dict[str, str] = {"voice_not_heard": NOT_HEARD, "voice_goodbye": GOODBYE}


def voice_chain(chain: tuple[str, ...]) -> tuple[str, ...]:
    """`chain` without the locales Twilio cannot speak; English is always left."""
    return tuple(code for code in chain if code in SAY_LANGUAGES) or ("en",)


def say_language(locale: str) -> str:
    """The `<Say language>` for a locale (en-GB for one Twilio cannot speak)."""
    return SAY_LANGUAGES.get(locale, SAY_LANGUAGES["en"])


@dataclass(frozen=True)
class Gather:
    """Wait for `digits` keys while saying `prompts`, then post them to the voice webhook
    `step` ("menu", "answer") with the query `params`."""

    step: str
    params: tuple[tuple[str, str | int], ...]
    prompts: tuple[str, ...]
    digits: int = 1


@dataclass
class VoiceStep:
    """One TwiML response: lines to say, then keys to take or the end of the call."""

    language: str
    lines: list[str] = field(default_factory=list)
    gather: Gather | None = None
    hangup: bool = False

    def say(self, text: str) -> VoiceStep:
        self.lines.append(text)
        return self

    def ask(
        self, step: str, params: dict[str, str | int], prompts: list[str], digits: int = 1
    ) -> VoiceStep:
        self.gather = Gather(step, tuple(params.items()), tuple(prompts), max(digits, 1))
        return self

    def end(self) -> VoiceStep:
        self.hangup = True
        return self
