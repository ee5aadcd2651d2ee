"""The reminder wording an experiment assigned to an appointment.

The reminder composer asks here (`reminder_wording`, passed in by `app.wiring`) when it
composes a reminder at send time. Only a running
experiment's wording is used: once an experiment has stopped or shipped, reminders go
back to the usual text. The text has %(clinic)s, %(date)s and %(time)s placeholders,
like the catalogue's reminder.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.experiments.models import Experiment, ExperimentAssignment, ExperimentStatus
from app.extensions import db


@dataclass(frozen=True)
class ReminderVariant:
    text: str
    #: The locale of the chain that the arm has a text for.
    locale: str
    experiment: str
    arm: str


#: An appointment's assignments in running experiments: (slug, arms, arm name), in the
#: order of the experiments.
Assignments = list[tuple[str, list[dict[str, Any]], str]]


def _assignments(appointment_ids: Collection[int]) -> dict[int, Assignments]:
    rows = db.session.execute(
        select(
            ExperimentAssignment.appointment_id,
            Experiment.slug,
            Experiment.arms,
            ExperimentAssignment.arm,
        )
        .join(Experiment, Experiment.id == ExperimentAssignment.experiment_id)
        .where(
            ExperimentAssignment.appointment_id.in_(list(appointment_ids)),
            Experiment.status == ExperimentStatus.RUNNING,
        )
        .order_by(ExperimentAssignment.appointment_id, ExperimentAssignment.experiment_id)
    )
    found: dict[int, Assignments] = {}
    for appointment_id, slug, arms, arm_name in rows:
        found.setdefault(appointment_id, []).append((slug, arms, arm_name))
    return found


def find_reminder_variant(
    appointment_id: int, locale_chain: tuple[str, ...]
) -> ReminderVariant | None:
    """The assigned arm's text for the first locale of `locale_chain` it has, or None.

    None when the appointment is in no running experiment, or its arm (a control arm
    without texts, say) has no text in any locale of the chain.
    """
    return _variant(_assignments([appointment_id]).get(appointment_id, []), locale_chain)


def _variant(assigned: Assignments, locale_chain: tuple[str, ...]) -> ReminderVariant | None:
    for slug, arms, arm_name in assigned:
        texts = next((a.get("reminder") or {} for a in arms if a.get("name") == arm_name), {})
        for locale in locale_chain:
            if locale in texts:
                return ReminderVariant(str(texts[locale]), locale, slug, arm_name)
    return None


def reminder_wordings(
    appointment_ids: Collection[int],
) -> Callable[[int, tuple[str, ...]], tuple[str, str] | None]:
    """`reminder_wording` for a batch of appointments, read in one query: a function
    that answers for those appointments without reading again."""
    found = _assignments(appointment_ids)

    def wording(appointment_id: int, locale_chain: tuple[str, ...]) -> tuple[str, str] | None:
        variant = _variant(found.get(appointment_id, []), locale_chain)
        return None if variant is None else (variant.text, variant.locale)

    return wording


def reminder_wording(appointment_id: int, locale_chain: tuple[str, ...]) -> tuple[str, str] | None:
    """The assigned arm's reminder text and its locale, for the first locale of the chain
    the arm has a text for; None otherwise (the reminder's own wording then)."""
    variant = find_reminder_variant(appointment_id, locale_chain)
    return None if variant is None else (variant.text, variant.locale)
