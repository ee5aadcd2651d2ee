"""The reminder wording an experiment assigned to an appointment.

The reminder composer asks here (`reminder_wording`, passed in by `app.wiring`) when it
composes a reminder at send time. Only a running
experiment's wording is used: once an experiment has stopped or shipped, reminders go
back to the usual text. The text has %(clinic)s, %(date)s and %(time)s placeholders,
like the catalogue's reminder.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def find_reminder_variant(
    appointment_id: int, locale_chain: tuple[str, ...]
) -> ReminderVariant | None:
    """The assigned arm's text for the first locale of `locale_chain` it has, or None.

    None when the appointment is in no running experiment, or its arm (a control arm
    without texts, say) has no text in any locale of the chain.
    """
    rows = db.session.execute(
        select(Experiment.slug, Experiment.arms, ExperimentAssignment.arm)
        .join(Experiment, Experiment.id == ExperimentAssignment.experiment_id)
        .where(
            ExperimentAssignment.appointment_id == appointment_id,
            Experiment.status == ExperimentStatus.RUNNING,
        )
        .order_by(ExperimentAssignment.experiment_id)
    )
    for slug, arms, arm_name in rows:
        texts = next((a.get("reminder") or {} for a in arms if a.get("name") == arm_name), {})
        for locale in locale_chain:
            if locale in texts:
                return ReminderVariant(str(texts[locale]), locale, slug, arm_name)
    return None


def reminder_wording(appointment_id: int, locale_chain: tuple[str, ...]) -> tuple[str, str] | None:
    """The assigned arm's reminder text and its locale, for the first locale of the chain
    the arm has a text for; None otherwise (the reminder's own wording then)."""
    variant = find_reminder_variant(appointment_id, locale_chain)
    return None if variant is None else (variant.text, variant.locale)
