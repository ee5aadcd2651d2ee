"""Simulated patients on the goals pathway: who they are, the scores they reply with (which
the app reads in every script), their progress over the weeks, and when they go silent."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from statistics import fmean

import pytest

from app.core.clock import FixedClock
from app.core.parsing import Intent, parse_number
from app.goals import texts
from app.messaging.compose import localise
from app.simulator import goals
from app.simulator.behaviour import Behaviour
from app.simulator.population import Persona, generate_population

SEED = 20261206
SINCE = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def population() -> list[Persona]:
    return generate_population(4_000, SEED)


def _asked(locale: str, goal: str) -> str:
    """A goal question as the app sends it to a patient of `locale`."""
    return localise(texts.QUESTION, (locale, "en"))[0] % {"goal": goal}


def test_some_of_the_patients_who_text_are_on_the_pathway_alike_on_every_run(
    population: list[Persona],
) -> None:
    found = goals.goal_patients(population, SEED)
    texting = sum(1 for p in population if p.channel == "sms")
    assert 0.04 < len(found) / texting < 0.08
    assert found == goals.goal_patients(population, SEED)
    assert {p.channel for p in population if p.phone in found} == {"sms"}
    for patient in found.values():
        assert 1 <= len(patient.goals) <= 3
        assert len({g.text for g in patient.goals}) == len(patient.goals)


def test_scores_drift_upward_with_noise_and_slower_where_deprived(
    population: list[Persona],
) -> None:
    found = goals.goal_patients(population, SEED)
    quintile = {p.phone: p.imd_quintile for p in population}
    changes: dict[bool, list[int]] = {True: [], False: []}
    noisy = 0
    for patient in found.values():
        for index in range(len(patient.goals)):
            scores = [goals.score_on(SEED, patient, index, day) for day in range(0, 28)]
            assert all(0 <= s <= 10 for s in scores)
            noisy += any(b < a for a, b in itertools.pairwise(scores))
            changes[quintile[patient.phone] <= 2].append(scores[-1] - scores[0])
    assert fmean(changes[True] + changes[False]) > 2
    assert fmean(changes[True]) < fmean(changes[False])
    assert noisy > 0  # a score can fall from one day to the next


def test_replies_are_scores_the_app_reads_and_silent_patients_stay_silent(
    population: list[Persona],
) -> None:
    found = goals.goal_patients(population, SEED)
    by_phone = {p.phone: p for p in population}
    clock = FixedClock(SINCE)
    behaviour = Behaviour(population, SEED, goals_since=SINCE, clock=clock.now)
    read = silent = 0
    for week in range(4):
        clock.set(SINCE + timedelta(days=2 + 7 * week, hours=4))
        for phone, patient in found.items():
            persona = by_phone[phone]
            for index, goal in enumerate(patient.goals):
                reply = behaviour.reply_to(phone, _asked(persona.locale, goal.text))
                if reply is None:
                    silent += 1
                    assert patient.answers_rounds is not None
                    assert week >= patient.answers_rounds
                    continue
                parsed = parse_number(reply, persona.locale, 0, 10, words=True)
                if parsed.intent is not Intent.NUMBER:  # a sentence: asked once more
                    again = localise(texts.REASK, (persona.locale, "en"))[0]
                    reply = behaviour.reply_to(phone, again)
                    assert reply is not None
                    parsed = parse_number(reply, persona.locale, 0, 10, words=True)
                assert parsed.intent is Intent.NUMBER
                day = 2 + 7 * week
                assert parsed.number == goals.score_on(SEED, patient, index, day)
                read += 1
    assert read > 0
    assert silent > 0


def test_a_patient_who_is_not_on_the_pathway_does_not_answer_a_goal_question(
    population: list[Persona],
) -> None:
    found = goals.goal_patients(population, SEED)
    other = next(p for p in population if p.channel == "sms" and p.phone not in found)
    clock = FixedClock(SINCE)
    behaviour = Behaviour(population, SEED, goals_since=SINCE, clock=clock.now)
    assert behaviour.reply_to(other.phone, _asked(other.locale, goals.GOAL_TEXTS[0])) is None
