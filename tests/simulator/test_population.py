"""Tests for app/simulator/population.py: the simulated patients and how they answer."""

from __future__ import annotations

import time
import unicodedata
from collections import Counter
from collections.abc import Callable

import numpy as np
import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from app.core.locales import SUPPORTED_LOCALES
from app.simulator.population import (
    DIGITS,
    MOBILE_BLOCKS,
    OPT_OUT_REPLY,
    PHRASEBOOK,
    Behaviour,
    Persona,
    generate_population,
    offers_menu,
)

SEED = 20260101
START_YEAR = 2026
MENU = "Reminder: clinic on 3 March at 10:30. Reply 1 to confirm, 2 to cancel, 3 to rebook."
ETHNIC_CODES = frozenset("ABCDEFGHJKLMNPRSZ")
OPT_OUT_WORDS = ("stop", "cancel", "end", "quit", "unsubscribe", "revoke", "optout")


@pytest.fixture(scope="module")
def population() -> list[Persona]:
    return generate_population(20_000, SEED, START_YEAR)


def _age(persona: Persona) -> int:
    return START_YEAR - persona.birth_year


def _mean(values: list[Persona], field: Callable[[Persona], float]) -> float:
    return float(np.mean([field(p) for p in values]))


def _is_uk_mobile(e164: str) -> bool:
    number = phonenumbers.parse(e164, None)
    return (
        number.country_code == 44
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) == PhoneNumberType.MOBILE
    )


def test_same_seed_gives_same_population() -> None:
    assert generate_population(500, 7) == generate_population(500, 7)


@pytest.mark.parametrize(("seed_a", "seed_b"), [(7, 8), (0, 1), (123, 321)])
def test_different_seeds_give_different_populations(seed_a: int, seed_b: int) -> None:
    first, second = generate_population(200, seed_a), generate_population(200, seed_b)
    assert [p.phone for p in first] != [p.phone for p in second]
    assert [p.locale for p in first] != [p.locale for p in second]


@pytest.mark.parametrize(
    ("n", "expected"), [(0, []), (1, ["P000001"]), (3, ["P000001", "P000002", "P000003"])]
)
def test_external_ids_count_from_one(n: int, expected: list[str]) -> None:
    assert [p.external_id for p in generate_population(n, 1)] == expected


def test_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        generate_population(-1, 1)


def test_phones_are_unique(population: list[Persona]) -> None:
    assert len({p.phone for p in population}) == len(population)


def test_phones_are_valid_uk_mobiles() -> None:
    personas = generate_population(3_000, 99)
    assert all(_is_uk_mobile(p.phone) for p in personas)
    assert not any(p.phone.startswith("+447700") for p in personas)


@pytest.mark.parametrize("suffix", ["000000", "123456", "999999"])
def test_every_block_is_a_gb_mobile_range(suffix: str) -> None:
    bad = [block for block in MOBILE_BLOCKS if not _is_uk_mobile(f"+44{block}{suffix}")]
    assert bad == []
    regions = {
        phonenumbers.region_code_for_number(phonenumbers.parse(f"+44{b}{suffix}"))
        for b in MOBILE_BLOCKS
    }
    assert regions == {"GB"}


def test_generating_twenty_thousand_is_fast() -> None:
    started = time.perf_counter()
    generate_population(20_000, 5)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("field", "allowed"),
    [
        ("locale", frozenset(SUPPORTED_LOCALES)),
        ("sex", frozenset({"F", "M", "X"})),
        ("ethnic_category", ETHNIC_CODES),
        ("imd_quintile", frozenset({1, 2, 3, 4, 5})),
    ],
)
def test_categories_stay_in_their_sets(
    population: list[Persona], field: str, allowed: frozenset[object]
) -> None:
    assert {getattr(p, field) for p in population} <= allowed


def test_every_locale_appears(population: list[Persona]) -> None:
    assert {p.locale for p in population} == set(SUPPORTED_LOCALES)


def test_ages_run_from_sixteen_to_ninety_five(population: list[Persona]) -> None:
    ages = [_age(p) for p in population]
    assert min(ages) == 16
    assert max(ages) == 95


@pytest.mark.parametrize(
    "field",
    ["response_propensity", "base_dna_probability", "reminder_effect", "native_digit_rate"],
)
def test_probabilities_lie_in_the_unit_interval(population: list[Persona], field: str) -> None:
    values = np.array([getattr(p, field) for p in population])
    assert values.min() >= 0.0
    assert values.max() <= 1.0


@pytest.mark.parametrize(
    ("locale", "low", "high"),
    [("en", 0.72, 0.78), ("cy", 0.04, 0.06), ("pl", 0.03, 0.05), ("ur", 0.018, 0.032)],
)
def test_locale_mix(population: list[Persona], locale: str, low: float, high: float) -> None:
    share = sum(p.locale == locale for p in population) / len(population)
    assert low <= share <= high


def test_sex_x_is_rare(population: list[Persona]) -> None:
    counts = Counter(p.sex for p in population)
    assert 0 < counts["X"] < 0.01 * len(population)
    assert counts["F"] > counts["M"]


@pytest.mark.parametrize(
    ("locale", "codes", "min_share"),
    [
        ("en", "A", 0.7),
        ("cy", "A", 0.9),
        ("pl", "C", 0.8),
        ("ro", "C", 0.8),
        ("lt", "C", 0.8),
        ("ur", "J", 0.75),
        ("pa", "HJL", 0.9),
        ("bn", "K", 0.8),
        ("gu", "H", 0.8),
        ("ar", "S", 0.7),
        ("so", "N", 0.8),
        ("zh_Hans", "R", 0.85),
    ],
)
def test_ethnicity_follows_language(
    population: list[Persona], locale: str, codes: str, min_share: float
) -> None:
    group = [p for p in population if p.locale == locale]
    share = sum(p.ethnic_category in codes for p in group) / len(group)
    assert share >= min_share


Predicate = Callable[[Persona], bool]

GROUP_CONTRASTS: list[tuple[str, Predicate, Predicate, float]] = [
    # name, group that should reply more, group that should reply less, minimum gap
    ("age", lambda p: _age(p) >= 65, lambda p: _age(p) < 30, 0.2),
    ("deprivation", lambda p: p.imd_quintile == 5, lambda p: p.imd_quintile == 1, 0.15),
    ("language", lambda p: p.locale == "en", lambda p: p.locale not in ("en", "cy"), 0.1),
    ("ethnicity", lambda p: p.ethnic_category == "A", lambda p: p.ethnic_category in "MNP", 0.1),
]


@pytest.mark.parametrize(
    ("name", "more", "less", "gap"), GROUP_CONTRASTS, ids=[c[0] for c in GROUP_CONTRASTS]
)
def test_response_propensity_differs_by_group(
    population: list[Persona], name: str, more: Predicate, less: Predicate, gap: float
) -> None:
    high = _mean([p for p in population if more(p)], lambda p: p.response_propensity)
    low = _mean([p for p in population if less(p)], lambda p: p.response_propensity)
    assert high - low >= gap


def test_response_propensity_spread_is_wide(population: list[Persona]) -> None:
    values = np.array([p.response_propensity for p in population])
    assert np.quantile(values, 0.1) < 0.35
    assert np.quantile(values, 0.9) > 0.7


@pytest.mark.parametrize(
    ("more", "less"),
    [
        (lambda p: _age(p) < 30, lambda p: _age(p) >= 65),
        (lambda p: p.imd_quintile == 1, lambda p: p.imd_quintile == 5),
    ],
    ids=["younger", "more-deprived"],
)
def test_dna_is_higher_for_young_and_deprived(
    population: list[Persona], more: Predicate, less: Predicate
) -> None:
    high = _mean([p for p in population if more(p)], lambda p: p.base_dna_probability)
    low = _mean([p for p in population if less(p)], lambda p: p.base_dna_probability)
    assert high > 1.3 * low


def _dna_rate(
    behaviour: Behaviour, personas: list[Persona], reminded: bool, confirmed: bool
) -> float:
    attended = [
        behaviour.attends(p.phone, reminded, confirmed, f"appt-{p.external_id}") for p in personas
    ]
    return 1.0 - sum(attended) / len(attended)


def test_dna_rate_and_the_effect_of_reminders(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    unreminded = _dna_rate(behaviour, population, reminded=False, confirmed=False)
    reminded = _dna_rate(behaviour, population, reminded=True, confirmed=False)
    confirmed = _dna_rate(behaviour, population, reminded=True, confirmed=True)
    assert 0.08 <= unreminded <= 0.14
    assert reminded <= 0.85 * unreminded
    assert confirmed <= 0.6 * reminded


def test_attendance_is_repeatable_and_a_reminder_never_causes_a_miss(
    population: list[Persona],
) -> None:
    behaviour, again = Behaviour(population, SEED), Behaviour(population, SEED)
    for persona in population[:2_000]:
        without = behaviour.attends(persona.phone, False, False, "visit-1")
        assert without == again.attends(persona.phone, False, False, "visit-1")
        assert not without or behaviour.attends(persona.phone, True, False, "visit-1")


def test_attends_refuses_an_unknown_number(population: list[Persona]) -> None:
    with pytest.raises(KeyError):
        Behaviour(population, SEED).attends("+447400000001", True, False, "x")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (MENU, True),
        ("Odpowiedz 1 aby potwierdzić, 2 aby odwołać, 3 aby zmienić termin.", True),
        ("Reply 1, 2 or 3", True),
        ("(1) confirm (2) cancel (3) rebook", True),
        ("Reply \u09e7 to confirm, \u09e8 to cancel, \u09e9 to rebook", True),
        ("Your appointment on 3 March at 1:30pm is confirmed. Reply HELP for help.", False),
        ("You will not get more messages from us. Reply START to opt back in.", False),
        ("Clinic 12, room 3, on 2/1 at 10:30", False),
        ("Reply 1 to confirm or 2 to cancel", False),
        ("", False),
    ],
)
def test_offers_menu(body: str, expected: bool) -> None:
    assert offers_menu(body) is expected


@pytest.mark.parametrize(
    "body",
    [
        "Thank you, your appointment on 3 March at 1:30pm is confirmed.",
        "You will not get more messages from this clinic. Reply START to opt back in.",
        "WeSaid: reply STOP to opt out. Msg&data rates may apply.",
        "",
    ],
)
def test_no_reply_without_a_menu(population: list[Persona], body: str) -> None:
    behaviour = Behaviour(population, SEED)
    assert all(behaviour.reply_to(p.phone, body) is None for p in population[:3_000])


def test_unknown_number_never_replies(population: list[Persona]) -> None:
    assert Behaviour(population, SEED).reply_to("+447400000001", MENU) is None


def _replies(population: list[Persona], seed: int = SEED) -> dict[str, str | None]:
    behaviour = Behaviour(population, seed)
    return {p.phone: behaviour.reply_to(p.phone, MENU) for p in population}


def _kind(reply: str, persona: Persona) -> str:
    if reply == OPT_OUT_REPLY:
        return "stop"
    if reply in PHRASEBOOK[persona.locale]:
        return "text"
    digit = reply.strip().rstrip(".")
    assert len(digit) == 1
    assert reply in (digit, f"{digit}.", f" {digit} ", f"{digit} ")
    return str(unicodedata.decimal(digit))


def test_menu_replies_have_the_intended_mix(population: list[Persona]) -> None:
    replies = _replies(population)
    answered = {phone: r for phone, r in replies.items() if r is not None}
    by_phone = {p.phone: p for p in population}
    kinds = Counter(_kind(reply, by_phone[phone]) for phone, reply in answered.items())
    total = len(answered)
    expected_rate = _mean(population, lambda p: p.response_propensity)
    assert abs(total / len(population) - expected_rate) < 0.02
    for kind, share, tolerance in [
        ("1", 0.8, 0.02),
        ("2", 0.07, 0.015),
        ("3", 0.06, 0.015),
        ("stop", 0.015, 0.006),
        ("text", 0.055, 0.012),
    ]:
        assert abs(kinds[kind] / total - share) < tolerance, kind


def test_replies_are_repeatable_and_independent_of_order(population: list[Persona]) -> None:
    sample = population[:2_000]
    forward = _replies(sample)
    backward = _replies(list(reversed(sample)))
    assert forward == backward
    assert forward != _replies(sample, seed=SEED + 1)


def test_bengali_speakers_sometimes_use_bengali_digits(population: list[Persona]) -> None:
    bengali = [p for p in population if p.locale == "bn"]
    behaviour = Behaviour(bengali, SEED)
    replies = [behaviour.reply_to(p.phone, MENU) for p in bengali for _ in range(3)]
    native = [r for r in replies if r and any(ch in DIGITS["bn"] for ch in r)]
    ascii_digits = [r for r in replies if r and r.strip(" .") in ("1", "2", "3")]
    assert native
    assert ascii_digits


def test_english_speakers_use_ascii_digits(population: list[Persona]) -> None:
    replies = [
        r
        for p, r in zip(population, _replies(population).values(), strict=True)
        if r and p.locale == "en"
    ]
    assert all(r.isascii() for r in replies)


def test_free_text_is_in_the_personas_language(population: list[Persona]) -> None:
    by_phone = {p.phone: p for p in population}
    behaviour = Behaviour(population, SEED)
    texts = [
        (by_phone[p.phone].locale, reply)
        for p in population
        for reply in [behaviour.reply_to(p.phone, MENU)]
        if reply and not reply.strip(" .").isdecimal() and reply != OPT_OUT_REPLY
    ]
    assert {locale for locale, _ in texts} >= {"en", "cy", "pl"}
    assert all(text in PHRASEBOOK[locale] for locale, text in texts)


def test_stop_ends_all_further_replies(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    stopped = [p.phone for p in population if behaviour.reply_to(p.phone, MENU) == OPT_OUT_REPLY]
    assert stopped
    for phone in stopped:
        assert behaviour.has_opted_out(phone)
        assert all(behaviour.reply_to(phone, MENU) is None for _ in range(10))


def test_duplicate_phones_are_refused(population: list[Persona]) -> None:
    with pytest.raises(ValueError, match="share"):
        Behaviour([population[0], population[0]], SEED)


def test_find(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    assert behaviour.find(population[5].phone) == population[5]
    assert behaviour.find("+447400000001") is None


def test_fft_answers_follow_satisfaction(population: list[Persona]) -> None:
    behaviour = Behaviour(population, SEED)
    answers = {p.phone: behaviour.true_fft_answer(p.phone) for p in population}
    assert set(answers.values()) == {1, 2, 3, 4, 5, 6}
    rated = [(p.satisfaction, answers[p.phone]) for p in population if answers[p.phone] != 6]
    positive = sum(answer <= 2 for _, answer in rated) / len(rated)
    assert 0.85 <= positive <= 0.97
    by_answer = {a: np.mean([s for s, answer in rated if answer == a]) for a in range(1, 6)}
    assert [by_answer[a] for a in range(1, 6)] == sorted(by_answer.values(), reverse=True)


def test_fft_answers_are_repeatable(population: list[Persona]) -> None:
    first, second = Behaviour(population, SEED), Behaviour(population, SEED)
    assert [first.true_fft_answer(p.phone) for p in population[:500]] == [
        second.true_fft_answer(p.phone) for p in population[:500]
    ]


@pytest.mark.parametrize("locale", sorted(DIGITS))
def test_native_digits_run_zero_to_nine(locale: str) -> None:
    digits = DIGITS[locale]
    assert [unicodedata.decimal(ch) for ch in digits] == list(range(10))
    assert not digits.isascii()


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_phrasebook_replies_stay_free_text(locale: str) -> None:
    phrases = PHRASEBOOK[locale]
    assert phrases
    for phrase in phrases:
        assert not any(ch.isdecimal() for ch in phrase)
        assert not offers_menu(phrase)
        assert not set(phrase.lower().replace(",", " ").replace("?", " ").split()) & set(
            OPT_OUT_WORDS
        )


@pytest.mark.parametrize("locale", ["ar", "ur", "bn", "pa", "gu", "zh_Hans"])
def test_native_digit_rate_only_where_there_are_native_digits(
    population: list[Persona], locale: str
) -> None:
    rates = [p.native_digit_rate for p in population if p.locale == locale]
    others = [p.native_digit_rate for p in population if p.locale not in DIGITS]
    assert np.mean(rates) > 0.05
    assert max(others) == 0.0
