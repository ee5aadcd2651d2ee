"""Simulated patients on a pathway that uses goals: their goals, their true progress,
the scores they reply with, and when they stop replying.

Some of the population (patients who text) are on the goals pathway. Each has one to
three goals in their own words. How close they are to a goal grows over the weeks from
a low start, at a pace that differs between patients and is slower, on average, for
patients from more deprived areas; the score a patient gives on a day is that true
closeness plus noise, rounded and kept within 0 to 10. Some patients stop replying
(more often in more deprived areas, and younger patients more often): some never answer
a goal question, some answer one round and then fall silent.

Every draw is keyed by the seed, the patient and the goal (the noise also by the day),
so the demo and the simulator, in different processes, agree on every score without
talking to each other, and a rerun with the same seed gives the same scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from app.simulator.draws import keyed_rng
from app.simulator.phrasebook import DIGITS

if TYPE_CHECKING:  # population imports behaviour, which imports this module
    from app.simulator.population import Persona

#: The pathway whose appointments ask for goal scores, and how long before each.
PATHWAY = "rehab"
ASK_HOURS_BEFORE = 48
#: Of the patients who text, the share on the goals pathway.
SHARE = 0.06
#: Goals in the patients' own words (the clinician writes them down in English).
GOAL_TEXTS = (
    "Go back to work three days a week",
    "Cook a meal for my family on my own",
    "Take the bus into town on my own",
    "Walk to the shops without my stick",
    "Read a book for half an hour",
    "Manage my money with the banking app",
    "Drive my car again",
    "Go swimming once a week",
    "Remember my appointments without help",
    "Play football with my children",
)
#: How far from each goal a patient starts (latent 0-10 scale), the mean weekly gain in
#: the least deprived quintile and how much slower each quintile below it is, how much
#: patients differ in pace, and the day-to-day noise of a score.
START_RANGE = (1.0, 4.0)
WEEKLY_GAIN = 1.1
GAIN_DEPRIVATION_STEP = 0.15
GAIN_SPREAD = 0.45
NOISE_SD = 0.8
#: P(a patient stops replying): a base, more in the two most deprived quintiles and
#: under 40; of those who stop, the share who never answer a question at all.
STOP_BASE = 0.12
STOP_DEPRIVED = 0.10
STOP_YOUNG = 0.08
NEVER_ANSWER_SHARE = 0.6
#: P(a sentence instead of a number): the app asks again, and then gets the number.
NOT_A_NUMBER_RATE = 0.04
#: A change at least this large is a reliable improvement (see app.goals.change).
RELIABLE_CHANGE = 2.45


@dataclass(frozen=True)
class SimulatedGoal:
    text: str
    #: True closeness on the first day, and how much it grows each week.
    start: float
    weekly_gain: float


@dataclass(frozen=True)
class GoalPatient:
    """A patient on the goals pathway: their goals and when they stop replying."""

    phone: str
    goals: tuple[SimulatedGoal, ...]
    #: Rounds of questions the patient answers before falling silent; None: all of them.
    answers_rounds: int | None


def goal_patients(personas: list[Persona], seed: int) -> dict[str, GoalPatient]:
    """The patients on the goals pathway, by phone: some of those who text."""
    found: dict[str, GoalPatient] = {}
    for persona in personas:
        if persona.channel != "sms":
            continue
        rng = keyed_rng(seed, "goal-patient", persona.external_id)
        if rng.random() >= SHARE:
            continue
        count = rng.choices((1, 2, 3), weights=(0.3, 0.4, 0.3))[0]
        texts = rng.sample(GOAL_TEXTS, count)
        gain = WEEKLY_GAIN - GAIN_DEPRIVATION_STEP * (5 - persona.imd_quintile)
        goals = tuple(
            SimulatedGoal(text, rng.uniform(*START_RANGE), max(0.0, rng.gauss(gain, GAIN_SPREAD)))
            for text in texts
        )
        stop = STOP_BASE + (STOP_DEPRIVED if persona.imd_quintile <= 2 else 0.0)
        stop += STOP_YOUNG if persona.birth_year > 1986 else 0.0
        answers: int | None = None
        if rng.random() < stop:
            answers = 0 if rng.random() < NEVER_ANSWER_SHARE else 1
        found[persona.phone] = GoalPatient(persona.phone, goals, answers)
    return found


def score_on(seed: int, patient: GoalPatient, index: int, day: int) -> int:
    """The score the patient gives goal `index` on `day` (days since the goals were
    set): the true closeness then, plus the day's noise, rounded into 0-10."""
    goal = patient.goals[index]
    noise = keyed_rng(seed, "goal-score", patient.phone, str(index), str(day)).gauss(0, NOISE_SD)
    return max(0, min(10, round(goal.start + goal.weekly_gain * day / 7 + noise)))


def asked_goal(patient: GoalPatient, body: str) -> int | None:
    """Which of the patient's goals `body` asks about, if any."""
    for index, goal in enumerate(patient.goals):
        if goal.text in body:
            return index
    return None


def day_of(now: datetime, since: datetime) -> int:
    """Whole days from the day the goals were set to `now`."""
    return (now - since).days


def write_score(persona: Persona, score: int, native: bool) -> str:
    """A score as the patient types it: in their own digits when `native`."""
    digits = DIGITS.get(persona.locale)
    if native and digits is not None:
        return "".join(digits[int(ch)] for ch in str(score))
    return str(score)


def reliably_improved(seed: int, patient: GoalPatient, index: int, first: int, last: int) -> bool:
    """Whether goal `index`'s scores on days `first` and `last` differ by a reliable
    improvement: what the patient truly reached, answered or not."""
    change = score_on(seed, patient, index, last) - score_on(seed, patient, index, first)
    return change >= RELIABLE_CHANGE
