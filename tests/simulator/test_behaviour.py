"""Simulated patients beyond the reminder menu: survey answers by text and keypad, calls,
and landline personas."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import replace

import numpy as np
import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from app.core import parsing
from app.core.locales import SUPPORTED_LOCALES
from app.messaging.compose import localise
from app.simulator import answers
from app.simulator.behaviour import OPT_OUT_REPLY, Behaviour
from app.simulator.comments import generate_comments, themed_locales
from app.simulator.numbers import LANDLINE_PREFIXES, draw_landlines
from app.simulator.phrasebook import COMMENTS, DIGITS
from app.simulator.population import Persona, generate_population, offers_menu
from app.surveys import flow, texts
from app.surveys.definitions import Question, parse_definition

SEED = 20260202
FFT = parse_definition(texts.FFT)
FFT_QUESTION = FFT.questions[0]
OPT_OUT_WORDS = ("stop", "cancel", "end", "quit", "unsubscribe", "revoke", "optout")


@pytest.fixture(scope="module")
def population() -> list[Persona]:
    return generate_population(6_000, SEED)


def _asked(locale: str, msgid: str = texts.FFT_QUESTION) -> str:
    """A survey text as the app sends it to a patient of `locale`."""
    invite = localise(texts.INVITE, (locale, "en"))[0] % {"clinic": "North Clinic"}
    return f"{invite} {localise(msgid, (locale, 'en'))[0]}"


def _labels(question: Question, locale: str) -> list[str]:
    def resolve_all(text: object) -> list[str]:
        english = getattr(text, "english", "")
        return list(dict.fromkeys([localise(english, (locale, "en"))[0], english]))

    return flow.option_labels(question, resolve_all)


def _expected(answer: int) -> str:
    return "dont_know" if answer == 6 else FFT_QUESTION.options[answer - 1].key


def test_fft_replies_say_the_true_answer_in_a_way_the_app_reads(
    population: list[Persona],
) -> None:
    behaviour = Behaviour(population, SEED)
    kinds: Counter[str] = Counter()
    for persona in population:
        reply = behaviour.reply_to(persona.phone, _asked(persona.locale))
        if reply is None or reply == OPT_OUT_REPLY:
            kinds["silent" if reply is None else "stop"] += 1
            continue
        labels = _labels(FFT_QUESTION, persona.locale)
        step = flow.interpret(FFT_QUESTION, reply, persona.locale, labels)
        if step.answer is None:
            kinds["not a number"] += 1
            assert reply in COMMENTS[persona.locale][0] + COMMENTS[persona.locale][1]
            continue
        kinds["answered"] += 1
        assert step.answer.rule_value == _expected(behaviour.true_fft_answer(persona.phone))
    answered = len(population) - kinds["silent"]
    mean_propensity = np.mean([p.response_propensity for p in population])
    assert abs(answered / len(population) - mean_propensity) < 0.03
    assert 0.03 < kinds["not a number"] / answered < 0.1
    assert 0.005 < kinds["stop"] / answered < 0.04


@pytest.mark.parametrize("locale", ["bn", "ar", "zh_Hans"])
def test_fft_answers_use_native_digits_and_labels_too(
    population: list[Persona], locale: str
) -> None:
    group = [p for p in population if p.locale == locale]
    behaviour = Behaviour(group, SEED)
    replies = [behaviour.reply_to(p.phone, _asked(locale)) for p in group for _ in range(4)]
    written = [r for r in replies if r]
    labels = {answers.label(locale, n) for n in range(1, 7)}
    assert any(ch in DIGITS[locale] for r in written for ch in r)
    assert any(r.strip(" .") in "123456" for r in written)
    assert any(r in labels for r in written)


def test_the_follow_up_gets_comments_more_often_from_the_displeased(
    population: list[Persona],
) -> None:
    behaviour = Behaviour(population, SEED)
    rates: dict[bool, list[bool]] = {True: [], False: []}
    for persona in population:
        reply = behaviour.reply_to(persona.phone, _asked(persona.locale, texts.FFT_FOLLOW_UP))
        displeased = behaviour.true_fft_answer(persona.phone) in (4, 5)
        rates[displeased].append(reply is not None)
        if reply is not None and persona.locale not in themed_locales():
            assert reply in COMMENTS[persona.locale][0] + COMMENTS[persona.locale][1]
    assert np.mean(rates[True]) > np.mean(rates[False]) + 0.15
    assert 0.3 < np.mean(rates[False]) < 0.5


def test_survey_replies_are_repeatable(population: list[Persona]) -> None:
    sample = population[:500]
    first, second = Behaviour(sample, SEED), Behaviour(sample, SEED)
    body = _asked("en")
    assert [first.reply_to(p.phone, body) for p in sample] == [
        second.reply_to(p.phone, body) for p in reversed(sample)
    ][::-1]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_asked("en"), "fft"),
        (_asked("cy"), "fft"),
        (_asked("ur"), "fft"),
        (_asked("pl", texts.FFT_FOLLOW_UP), "follow_up"),
        ("North Clinic: your appointment is on Monday. Reply 1 to confirm.", None),
        ("Thank you for your answers. North Clinic reads every one.", None),
    ],
)
def test_survey_question(body: str, expected: str | None) -> None:
    assert answers.survey_question(body) == expected


# -- the telephone -----------------------------------------------------------------------

FFT_PROMPT = f"{texts.FFT_QUESTION} Press 1 for Very good. Press 6 for Don't know."
REMINDER_PROMPT = (
    "This is North Clinic. Your appointment is on Tuesday 3 March at 14:00. Press 1 to "
    "confirm, 2 to cancel, or 3 to ask for a new time."
)


def test_who_picks_up(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    outcomes = {p.phone: behaviour.answer_call(p.phone) for p in population}
    counts = Counter(outcomes.values())
    keen = [p for p in population if p.response_propensity > 0.7]
    shy = [p for p in population if p.response_propensity < 0.3]
    picked_up = {
        name: np.mean([outcomes[p.phone] == "answered" for p in group])
        for name, group in (("keen", keen), ("shy", shy))
    }
    assert set(counts) == {"answered", "busy", "no-answer"}
    assert 0.2 < counts["busy"] / (counts["busy"] + counts["no-answer"]) < 0.4
    assert picked_up["keen"] > picked_up["shy"] + 0.15
    assert behaviour.answer_call("+447400000001") == "no-answer"


def test_keys_for_the_fft_are_the_true_answer(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    keys = {p.phone: behaviour.press(p.phone, FFT_PROMPT) for p in population}
    counts = Counter(
        "none" if k is None else "star" if k == "*" else "digit" for k in keys.values()
    )
    assert all(
        k == str(behaviour.true_fft_answer(phone))
        for phone, k in keys.items()
        if k not in (None, "*")
    )
    assert 0.02 < counts["none"] / len(population) < 0.1
    assert 0.01 < counts["star"] / len(population) < 0.08


def test_keys_for_the_reminder_menu(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    keys = Counter(behaviour.press(p.phone, REMINDER_PROMPT) for p in population)
    pressed = sum(n for k, n in keys.items() if k is not None)
    assert set(keys) == {None, "1", "2", "3"}
    assert 0.8 < keys["1"] / pressed < 0.92


@pytest.mark.parametrize(
    ("prompt", "allowed"),
    [
        ("Would you come again? Press 1 for yes, or 2 for no.", {"1", "2"}),
        ("Score us. Press a number from 1 to 5.", {"1", "5"}),
        ("Thank you. Goodbye.", set()),
    ],
)
def test_keys_for_other_prompts_are_ones_offered(
    population: list[Persona], prompt: str, allowed: set[str]
) -> None:
    behaviour = Behaviour(population[:300], SEED)
    keys = {behaviour.press(p.phone, prompt) for p in population[:300]}
    assert keys - {None} == allowed
    assert behaviour.press("+447400000001", prompt) is None


# -- landlines ---------------------------------------------------------------------------


def test_landline_personas_prefer_calls_and_are_otherwise_unchanged() -> None:
    plain = generate_population(4_000, 11)
    mixed = generate_population(4_000, 11, landline_share=0.05)
    landline = [p for p in mixed if p.channel == "voice"]
    assert 0.035 < len(landline) / len(mixed) < 0.065
    assert {p.channel for p in mixed} == {"sms", "voice"}
    assert len({p.phone for p in mixed}) == len(mixed)
    for before, after in zip(plain, mixed, strict=True):
        assert replace(after, phone=before.phone, channel="sms") == before
        if after.channel == "sms":
            assert after.phone == before.phone
    older = np.mean([2026 - p.birth_year for p in landline])
    assert older > np.mean([2026 - p.birth_year for p in mixed]) + 5


def test_landline_numbers_are_fixed_lines_that_texts_cannot_reach() -> None:
    numbers = draw_landlines(np.random.default_rng(1), 2_000)
    assert len(set(numbers)) == 2_000
    for number in numbers:
        parsed = phonenumbers.parse(number)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.number_type(parsed) == PhoneNumberType.FIXED_LINE
        assert number.startswith(LANDLINE_PREFIXES)


@pytest.mark.parametrize("share", [1.5, -0.1])
def test_bad_landline_shares_are_refused(share: float) -> None:
    with pytest.raises(ValueError, match="landline_share must be between 0 and 1"):
        generate_population(10, 1, landline_share=share)


def test_there_are_only_so_many_landlines() -> None:
    space = 1000 * len(LANDLINE_PREFIXES)
    assert len(draw_landlines(np.random.default_rng(2), space)) == space
    with pytest.raises(ValueError, match=f"the {space} synthetic landlines"):
        draw_landlines(np.random.default_rng(2), space + 1)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_comments_stay_free_text(locale: str) -> None:
    pleased, displeased = COMMENTS[locale]
    assert pleased
    assert displeased
    for comment in pleased + displeased:
        words = set(comment.lower().replace(",", " ").replace(".", " ").split())
        assert not any(unicodedata.category(ch) == "Nd" for ch in comment)
        assert not offers_menu(comment)
        assert not words & set(OPT_OUT_WORDS)
        assert parsing.parse_keyword(comment, locale) is None
        assert parsing.parse_number(comment, locale).intent is parsing.Intent.TEXT


@pytest.mark.parametrize("locale", themed_locales())
def test_themed_comments_stay_free_text(locale: str) -> None:
    for comment in generate_comments(300, seed=11, locales=[locale]):
        words = set(comment.text.lower().replace(",", " ").replace(".", " ").split())
        assert not words & set(OPT_OUT_WORDS), comment.text
        assert parsing.parse_keyword(comment.text, locale) is None, comment.text
        assert parsing.parse_number(comment.text, locale).intent is parsing.Intent.TEXT
