"""Which appointments a reminder-wording experiment takes, and the arm of each.

An appointment is eligible for an experiment when it is booked at one of the
experiment's clinics, starts at or after the experiment's start, and has a reminder
still to send (pending or claimed), so that the wording can still reach the patient.
Its arm comes from `app.experiments.rules.assign_arms` with the experiment's seed and
the clinic id as the stratum: the same appointment always gets the same arm, and
assigning again only adds appointments not assigned yet. Assigners of one experiment
take turns (the experiment row is locked), so no appointment is assigned twice. On
PostgreSQL the ids arrive as one array per clinic and the assignments are written with
COPY: a trust's month may hold a million.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.appointments.models import Appointment, AppointmentStatus
from app.core.clock import Clock
from app.core.errors import Invalid
from app.experiments.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    ExperimentStatus,
)
from app.experiments.queries import get_experiment, running_experiments
from app.experiments.rules import assign_arms
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import OPEN_STATES


@dataclass
class Assigned:
    """Appointments newly assigned, by arm."""

    by_arm: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return sum(self.by_arm.values())


def assign_experiment(slug: str, clock: Clock) -> Assigned:
    """Assign every eligible appointment not assigned yet; commits.

    Raises NotFound for an unknown experiment and Invalid for one that has ended.
    """
    assigned = assign_eligible(running_experiment(slug), clock.now())
    db.session.commit()
    return assigned


def assign_new_appointments(appointment_ids: Iterable[int], clock: Clock) -> Assigned:
    """Assign these appointments to the running experiment of their clinic, if eligible.

    For importers, after new appointments and their reminders are flushed. Does not
    commit.
    """
    wanted = sorted(set(appointment_ids))
    assigned = Assigned()
    for found in running_experiments() if wanted else []:
        experiment = lock_experiment(found)
        if experiment.status is not ExperimentStatus.RUNNING:
            continue  # ended since it was read
        assign_eligible(experiment, clock.now(), among=wanted, assigned=assigned)
    return assigned


def assign_eligible(
    experiment: Experiment,
    now: datetime,
    *,
    among: Sequence[int] | None = None,
    assigned: Assigned | None = None,
) -> Assigned:
    """Assign the experiment's eligible appointments not assigned yet (only those of
    `among`, when given), adding to `assigned`; the caller holds the experiment's row
    lock. Does not commit."""
    assigned = Assigned() if assigned is None else assigned
    for clinic_id, ids in _eligible_by_clinic(experiment, among):
        _write(experiment, clinic_id, ids, now, assigned)
    return assigned


def running_experiment(slug: str) -> Experiment:
    """The experiment, locked; NotFound if unknown, Invalid if not running."""
    experiment = lock_experiment(get_experiment(slug))
    if experiment.status is ExperimentStatus.DRAFT:
        raise Invalid(f"experiment {slug} has not started")
    if experiment.status is not ExperimentStatus.RUNNING:
        raise Invalid(f"experiment {slug} has {experiment.status.value} and is over")
    return experiment


def lock_experiment(experiment: Experiment) -> Experiment:
    """The experiment's row, locked until the transaction ends, as it is now."""
    if db.session.get_bind().dialect.name == "postgresql":
        # A plan for each clinic's values: after a few runs PostgreSQL would otherwise
        # switch to a generic plan that reads every clinic's appointments.
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    locked = db.session.scalar(
        select(Experiment).where(Experiment.id == experiment.id).with_for_update()
    )
    assert locked is not None
    return locked


def _eligible_by_clinic(
    experiment: Experiment, among: Sequence[int] | None = None
) -> Iterator[tuple[int, NDArray[np.int64]]]:
    """The ids of the eligible appointments not yet assigned, clinic by clinic."""
    pending = select(OutboundMessage.id).where(
        OutboundMessage.appointment_id == Appointment.id,
        OutboundMessage.kind == MessageKind.REMINDER,
        OutboundMessage.state.in_(OPEN_STATES),
    )
    assigned = select(ExperimentAssignment.appointment_id).where(
        ExperimentAssignment.experiment_id == experiment.id,
        ExperimentAssignment.appointment_id == Appointment.id,
    )
    eligible = select(Appointment.clinic_id, Appointment.id).where(
        Appointment.clinic_id.in_(experiment.clinic_ids),
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.starts_at >= experiment.starts_at,
        exists(pending),
        ~exists(assigned),
    )
    if among is not None:
        eligible = eligible.where(Appointment.id.in_(among))
    if db.session.get_bind().dialect.name == "postgresql":
        # One row per clinic: a million ids arrive as a few arrays, not a million rows.
        rows = eligible.subquery()
        grouped = select(rows.c.clinic_id, func.array_agg(rows.c.id)).group_by(rows.c.clinic_id)
        for clinic_id, ids in db.session.execute(grouped):
            yield clinic_id, np.asarray(ids, dtype=np.int64)
        return
    ordered = db.session.execute(eligible.order_by(Appointment.clinic_id, Appointment.id))
    for clinic_id, group in groupby(ordered, key=lambda row: int(row[0])):
        yield clinic_id, np.fromiter((row[1] for row in group), dtype=np.int64)


def _write(
    experiment: Experiment,
    clinic_id: int,
    ids: NDArray[np.int64],
    now: datetime,
    assigned: Assigned,
) -> None:
    arms = [(str(arm["name"]), int(arm["weight"])) for arm in experiment.arms]
    chosen = assign_arms(experiment.seed, ids, str(clinic_id), arms)
    names, counts = np.unique(chosen, return_counts=True)
    by_arm = dict(zip(names.tolist(), counts.tolist(), strict=True))
    for name, count in by_arm.items():
        assigned.by_arm[name] += count
    _add_assigned(experiment.id, by_arm)
    rows = zip(ids.tolist(), chosen.tolist(), strict=True)
    if db.session.get_bind().dialect.name == "postgresql":
        _copy_rows(experiment.id, clinic_id, rows, now)
    else:
        db.session.execute(
            insert(ExperimentAssignment),
            [
                {
                    "experiment_id": experiment.id,
                    "appointment_id": appointment_id,
                    "clinic_id": clinic_id,
                    "arm": arm,
                    "assigned_at": now,
                }
                for appointment_id, arm in rows
            ],
        )


def _add_assigned(experiment_id: int, by_arm: dict[str, int]) -> None:
    """Add to the arms' assigned totals (the caller holds the experiment's row lock)."""
    if not by_arm:
        return
    dialect = db.session.get_bind().dialect.name
    upsert = (postgresql if dialect == "postgresql" else sqlite).insert(ExperimentArm)
    rows = [{"experiment_id": experiment_id, "arm": a, "assigned": n} for a, n in by_arm.items()]
    db.session.execute(
        upsert.values(rows).on_conflict_do_update(
            index_elements=[ExperimentArm.experiment_id, ExperimentArm.arm],
            set_={"assigned": ExperimentArm.assigned + upsert.excluded.assigned},
        )
    )


def _copy_rows(
    experiment_id: int, clinic_id: int, rows: Iterable[tuple[int, str]], now: datetime
) -> None:
    """Write assignments with COPY, in the session's transaction (PostgreSQL only).

    Arm names are letters, digits, '-' and '_', so the text format needs no escaping.
    """
    driver: Any = db.session.connection().connection.driver_connection
    stamp = now.isoformat()
    data = "".join(f"{experiment_id}\t{a}\t{clinic_id}\t{arm}\t{stamp}\n" for a, arm in rows)
    columns = "experiment_id, appointment_id, clinic_id, arm, assigned_at"
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY experiment_assignments ({columns}) FROM STDIN") as copy,
    ):
        copy.write(data)
