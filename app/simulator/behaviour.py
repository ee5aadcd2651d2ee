"""How simulated patients answer: texts, survey questions and telephone calls.

`Behaviour` answers the way the personas of `population` would: a reminder offering a
numbered menu gets a digit, an opt-out, a short sentence or silence; the Friends and
Family Test question gets the persona's honest answer (a number in their own script, or
the label in their language), now and then free text; its follow-up sometimes gets a
comment; anything else gets silence. On the telephone they answer or not (busy, no
answer) and press keys for the reminder menu or the survey. Every draw is keyed by a
hash of the seed and the event: the patient, the text they were sent (or the prompt they
heard) and how many times they were sent that text before. A rerun therefore gives the
same answers whatever order messages to different patients, or different messages to
one patient, arrive in.
"""

from __future__ import annotations

import random
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from app.simulator import answers, goals
from app.simulator.draws import Occurrences, fingerprint, keyed_rng
from app.simulator.phrasebook import DIGITS, PHRASEBOOK

if TYPE_CHECKING:  # population imports this module to export Behaviour
    from app.simulator.population import Persona

OPT_OUT_REPLY = "STOP"

# Odds ratio on the DNA odds for a patient who confirmed: confirmers rarely miss.
CONFIRMED_ODDS_RATIO = 0.5
#: A reminder stating what a missed appointment costs lowers the odds of not attending
#: (Hallsworth et al. 2015 found an odds ratio of about 0.74).
COST_MESSAGE_ODDS_RATIO = 0.7

# What a persona who answers a menu does, with its share of answers.
_REPLY_KINDS: tuple[tuple[str, float], ...] = (
    ("1", 0.80),  # confirm
    ("2", 0.07),  # cancel
    ("3", 0.06),  # ask to rebook
    ("stop", 0.015),
    ("text", 0.055),
)

# How a persona answers the FFT question by text, with its share of answers.
_SURVEY_REPLY_KINDS: tuple[tuple[str, float], ...] = (
    ("digit", 0.75),
    ("label", 0.17),
    ("text", 0.06),  # a comment instead of a number; the app asks again
    ("stop", 0.02),
)
#: P(a comment on the follow-up question), and how much more for the displeased.
FOLLOW_UP_RATE = 0.4
FOLLOW_UP_DISPLEASED = 0.25
#: P(picking up a call) = ANSWER_BASE + ANSWER_SLOPE × response propensity; the same for
#: pressing a key after the reminder is read. Of the calls not answered, BUSY_SHARE are busy.
ANSWER_BASE = 0.5
ANSWER_SLOPE = 0.45
BUSY_SHARE = 0.3
#: On the telephone survey: P(no key at all), P(star to skip).
NO_KEY_RATE = 0.06
STAR_RATE = 0.04
# The reminder menu's keys, in the shares the text replies have among digits.
_MENU_KEYS: tuple[tuple[str, float], ...] = (("1", 0.80), ("2", 0.07), ("3", 0.06))

# How a digit is typed: mostly bare, sometimes with a full stop or stray spaces.
_DIGIT_LAYOUTS = (("{}", 0.7), ("{}.", 0.1), (" {} ", 0.1), ("{} ", 0.1))

# A menu option is a lone 1, 2 or 3: not part of a time (1:30), date (1/3), decimal or word.
_MENU_OPTION = re.compile(r"(?<![\w:/.,])([123])(?![\w:/]|[.,]\d)")

_FFT_DONT_KNOW = 6
_FFT_DONT_KNOW_RATE = 0.02
# Cut points on satisfaction for Very poor (5), Poor (4), Neither (3), Good (2);
# above the last is Very good (1).
_FFT_CUTS: tuple[tuple[float, int], ...] = ((-2.4, 5), (-2.0, 4), (-1.55, 3), (-0.45, 2))


def offers_menu(body: str) -> bool:
    """Say whether `body` offers the numbered reply menu: lone 1, 2 and 3 in any script."""
    ascii_body = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in body)
    return {"1", "2", "3"} <= set(_MENU_OPTION.findall(ascii_body))


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    values = [value for value, _ in table]
    return rng.choices(values, weights=[weight for _, weight in table])[0]


class Behaviour:
    """How the personas answer messages. Deterministic for a given seed and message history;
    safe across threads as long as one patient's messages are answered one at a time."""

    def __init__(
        self,
        personas: Sequence[Persona],
        seed: int,
        *,
        goals_since: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Index `personas` by phone. Refuses two personas sharing a number (ValueError).

        With `goals_since` (the day the goals pathway's patients set their goals) and a
        `clock`, the patients of `goals.goal_patients` answer goal questions."""
        self._by_phone = {persona.phone: persona for persona in personas}
        if len(self._by_phone) != len(personas):
            raise ValueError("two personas share a phone number")
        self._seed = seed
        self._opted_out: set[str] = set()
        self._occurrences = Occurrences()
        self._lock = threading.Lock()
        self._calls_seen: dict[str, int] = {}
        self._goals_since = goals_since
        self._clock = clock
        on_pathway = goals_since is not None and clock is not None
        self._goal_patients = goals.goal_patients(list(personas), seed) if on_pathway else {}
        #: Days on which each goal patient answered, and the goal asked again after a
        #: reply that was not a number.
        self._goal_days: dict[str, set[int]] = {}
        self._goal_reasked: dict[str, int] = {}

    def find(self, phone: str) -> Persona | None:
        """The persona with this E.164 number, or None if nobody in the population has it."""
        return self._by_phone.get(phone)

    def get_persona(self, phone: str) -> Persona:
        """The persona with this number; raises KeyError if there is none."""
        persona = self.find(phone)
        if persona is None:
            raise KeyError("no persona has that number")
        return persona

    def reply_to(self, phone: str, body: str) -> str | None:
        """The persona's reply to `body`, or None for silence.

        The Friends and Family Test question and its follow-up are answered as
        `survey_reply` says. Otherwise only a message offering the 1/2/3 menu gets a
        reply, and only with the persona's response propensity: a menu digit (in the
        persona's own script at their native_digit_rate), "STOP", or a short sentence in
        their language. A persona who has sent STOP never replies again, and an unknown
        number never replies. The n-th time a phone is sent the same text it always gets
        the same answer for the same seed, whatever else it was sent in between.
        """
        persona = self.find(phone)
        if persona is None or phone in self._opted_out:
            return None
        goal_patient = self._goal_patients.get(phone)
        if goal_patient is not None:
            index = goals.asked_goal(goal_patient, body)
            again = False
            if index is None and not offers_menu(body):
                index = self._goal_reasked.pop(phone, None)
                again = index is not None
            if index is not None:
                return self.goal_reply(persona, goal_patient, index, body, again=again)
        question = answers.survey_question(body)
        if question is not None:
            return self.survey_reply(persona, question, body)
        if not offers_menu(body):
            return None
        rng = self._event_rng("reply", phone, body)
        if rng.random() >= persona.response_propensity:
            return None
        kind = _pick(rng, _REPLY_KINDS)
        if kind == "stop":
            self._opted_out.add(phone)
            return OPT_OUT_REPLY
        if kind == "text":
            return rng.choice(PHRASEBOOK[persona.locale])
        return _write_digit(rng, persona, kind)

    def survey_reply(self, persona: Persona, question: str, body: str = "") -> str | None:
        """A text answer to the FFT question ("fft") or its follow-up ("follow_up"),
        asked in `body` (the draws are keyed by it, or by the question if it is empty).

        The question is answered with the persona's response propensity: their true
        answer as a number (in their own script at their native_digit_rate) or as the
        label in their language, now and then a comment instead, rarely STOP. The
        follow-up gets a comment in their language more often from the displeased.
        """
        rng = self._event_rng("survey", persona.phone, body or question)
        answer = self.true_fft_answer(persona.phone)
        if question == "follow_up":
            rate = FOLLOW_UP_RATE + (FOLLOW_UP_DISPLEASED if answer in (4, 5) else 0.0)
            return answers.free_text(rng, persona.locale, answer) if rng.random() < rate else None
        if rng.random() >= persona.response_propensity:
            return None
        kind = _pick(rng, _SURVEY_REPLY_KINDS)
        if kind == "stop":
            self._opted_out.add(persona.phone)
            return OPT_OUT_REPLY
        if kind == "label":
            return answers.label(persona.locale, answer)
        if kind == "text":
            return answers.comment(rng, persona.locale, answer)
        return _write_digit(rng, persona, str(answer))

    def goal_reply(
        self,
        persona: Persona,
        patient: goals.GoalPatient,
        index: int,
        body: str,
        *,
        again: bool = False,
    ) -> str | None:
        """The score the patient gives goal `index` today (now and then a sentence
        instead, answered with the score when asked again), or None once they have
        stopped replying."""
        assert self._clock is not None
        assert self._goals_since is not None
        day = goals.day_of(self._clock(), self._goals_since)
        with self._lock:
            days = self._goal_days.setdefault(persona.phone, set())
            rounds = patient.answers_rounds
            if rounds is not None and day not in days and len(days) >= rounds:
                return None
            days.add(day)
        rng = self._event_rng("goal", persona.phone, body)
        if not again and rng.random() < goals.NOT_A_NUMBER_RATE:
            self._goal_reasked[persona.phone] = index
            return rng.choice(PHRASEBOOK[persona.locale])
        score = goals.score_on(self._seed, patient, index, day)
        return goals.write_score(persona, score, rng.random() < persona.native_digit_rate)

    def answer_call(self, phone: str) -> str:
        """ "answered", "busy" or "no-answer"; the more responsive pick up more often and
        nobody answers for an unknown number. The n-th call to a phone always ends the
        same way (a phone takes one call at a time, so calls to it come in order)."""
        persona = self.find(phone)
        if persona is None:
            return "no-answer"
        with self._lock:
            seen = self._calls_seen.get(phone, 0)
            self._calls_seen[phone] = seen + 1
        rng = keyed_rng(self._seed, "call", phone, str(seen))
        if rng.random() < ANSWER_BASE + ANSWER_SLOPE * persona.response_propensity:
            return "answered"
        return "busy" if rng.random() < BUSY_SHARE else "no-answer"

    def press(self, phone: str, prompt: str) -> str | None:
        """The key the persona presses after hearing `prompt`, or None for none.

        The FFT question gets their true answer (now and then star to skip, or no key);
        the reminder menu 1, 2 or 3 in the shares replies have, if they press at all;
        any other prompt one of the keys it offers, most of the time. The n-th time a
        phone hears the same prompt it presses the same key for the same seed.
        """
        persona = self.find(phone)
        if persona is None:
            return None
        rng = self._event_rng("press", phone, prompt)
        if answers.survey_question(prompt) == "fft":
            draw = rng.random()
            if draw < NO_KEY_RATE:
                return None
            return "*" if draw < NO_KEY_RATE + STAR_RATE else str(self.true_fft_answer(phone))
        if offers_menu(prompt):
            pressing = ANSWER_BASE + ANSWER_SLOPE * persona.response_propensity
            return _pick(rng, _MENU_KEYS) if rng.random() < pressing else None
        keys = answers.offered_keys(prompt)
        return rng.choice(keys) if keys and rng.random() < 1 - NO_KEY_RATE else None

    def _event_rng(self, event: str, phone: str, text: str) -> random.Random:
        """The generator of the n-th `event` for `phone` about `text` (what it was sent)."""
        content = fingerprint(text)
        seen = self._occurrences.next(event, phone, content)
        return keyed_rng(self._seed, event, phone, content, seen)

    def has_opted_out(self, phone: str) -> bool:
        """Whether this persona has sent STOP."""
        return phone in self._opted_out

    def attends(
        self,
        phone: str,
        reminded: bool,
        confirmed: bool,
        rng_key: str,
        *,
        told_the_cost: bool = False,
    ) -> bool:
        """Whether the persona turns up to the appointment identified by `rng_key`.

        The DNA odds start from base_dna_probability, are multiplied by reminder_effect
        when a reminder was delivered, by COST_MESSAGE_ODDS_RATIO when that reminder said
        what a missed appointment costs (the wording experiment's true effect), and by
        CONFIRMED_ODDS_RATIO when the patient confirmed. The random draw depends only on
        (seed, phone, rng_key), so a reminder can only turn a miss into an attendance,
        never the reverse. Raises KeyError for an unknown number.
        """
        persona = self.get_persona(phone)
        odds = persona.base_dna_probability / (1 - persona.base_dna_probability)
        if reminded:
            odds *= persona.reminder_effect
            if told_the_cost:
                odds *= COST_MESSAGE_ODDS_RATIO
        if confirmed:
            odds *= CONFIRMED_ODDS_RATIO
        draw = keyed_rng(self._seed, "attend", phone, rng_key).random()
        return draw >= odds / (1 + odds)

    def true_fft_answer(self, phone: str) -> int:
        """The persona's honest Friends and Family Test answer, 1 (Very good) to 6 (Don't know).

        Fixed for a given seed and persona. Raises KeyError for an unknown number.
        """
        persona = self.get_persona(phone)
        if keyed_rng(self._seed, "fft", phone).random() < _FFT_DONT_KNOW_RATE:
            return _FFT_DONT_KNOW
        for cut, answer in _FFT_CUTS:
            if persona.satisfaction < cut:
                return answer
        return 1


def _write_digit(rng: random.Random, persona: Persona, digit: str) -> str:
    native = DIGITS.get(persona.locale)
    if native is not None and rng.random() < persona.native_digit_rate:
        digit = native[int(digit)]
    return _pick(rng, _DIGIT_LAYOUTS).format(digit)
