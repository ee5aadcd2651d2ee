"""Reads about experiments: which are running, which a staff member may see, and what
became of each arm."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select

from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.errors import NotFound
from app.experiments.analysis import ArmCounts, ExperimentAnalysis, analyse
from app.experiments.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    ExperimentDecision,
    ExperimentStatus,
)
from app.experiments.monitoring import (
    BoundaryPoint,
    Look,
    boundary_path,
    current_look,
    looks_to_show,
    recorded_look,
)
from app.extensions import db


def find_experiment(slug: str) -> Experiment | None:
    return db.session.scalar(select(Experiment).where(Experiment.slug == slug))


def get_experiment(slug: str) -> Experiment:
    """The experiment `slug`; NotFound if there is none."""
    experiment = find_experiment(slug)
    if experiment is None:
        raise NotFound(f"no experiment with slug {slug!r}")
    return experiment


def running_experiments() -> list[Experiment]:
    return list(
        db.session.scalars(
            select(Experiment)
            .where(Experiment.status == ExperimentStatus.RUNNING)
            .order_by(Experiment.id)
        )
    )


def running_experiment_for(clinic_id: int) -> Experiment | None:
    """The running experiment that has the clinic in scope, if any (at most one)."""
    return next((e for e in running_experiments() if clinic_id in e.clinic_ids), None)


#: Reads `arm_counts` of each of some experiments: `arm_counts_of` joins the assignments
#: to their appointments; pages pass one that reads stored counts instead.
ArmCountsOf = Callable[[Sequence[Experiment]], dict[int, list[ArmCounts]]]


def arm_counts(experiment: Experiment) -> list[ArmCounts]:
    """What became of each arm's appointments, in the order the arms were defined."""
    return arm_counts_of([experiment])[experiment.id]


def arm_counts_of(experiments: Sequence[Experiment]) -> dict[int, list[ArmCounts]]:
    """`arm_counts` of each experiment, read in one grouped statement over every
    assignment and its appointment (the reference the stored counts must equal)."""
    status = Appointment.status

    def count(*values: AppointmentStatus) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((status.in_(values), 1), else_=0)), 0)

    ids = sorted({experiment.id for experiment in experiments})
    found: dict[int, dict[str, ArmCounts]] = defaultdict(dict)
    if ids:
        rows = db.session.execute(
            select(
                ExperimentAssignment.experiment_id,
                ExperimentAssignment.arm,
                func.count(),
                count(AppointmentStatus.ATTENDED),
                count(AppointmentStatus.DNA),
                count(AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC),
                count(AppointmentStatus.BOOKED),
            )
            .join(Appointment, Appointment.id == ExperimentAssignment.appointment_id)
            .where(ExperimentAssignment.experiment_id.in_(ids))
            .group_by(ExperimentAssignment.experiment_id, ExperimentAssignment.arm)
        )
        for experiment_id, arm, *values in rows:
            found[experiment_id][arm] = ArmCounts(arm, *(int(v) for v in values))
    return {
        experiment.id: [
            found[experiment.id].get(name, ArmCounts(name, 0, 0, 0, 0, 0))
            for name in (str(arm["name"]) for arm in experiment.arms)
        ]
        for experiment in experiments
    }


def assigned_by_arm(experiment_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """The appointments assigned so far to each arm of the experiments, as the assigner
    keeps them (`ExperimentArm`); an arm given none is absent."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if experiment_ids:
        rows = db.session.execute(
            select(ExperimentArm.experiment_id, ExperimentArm.arm, ExperimentArm.assigned).where(
                ExperimentArm.experiment_id.in_(sorted(experiment_ids))
            )
        )
        for experiment_id, arm, assigned in rows:
            found[experiment_id][arm] = int(assigned)
    return dict(found)


def experiments_within(clinic_ids: Collection[int]) -> list[Experiment]:
    """The experiments all of whose clinics are among `clinic_ids`, newest first: an
    experiment pools its clinics, so it is shown only to those who may see them all."""
    wanted = set(clinic_ids)
    if not wanted:
        return []
    organisations = select(Clinic.organisation_id).where(Clinic.id.in_(sorted(wanted)))
    found = db.session.scalars(
        select(Experiment)
        .where(Experiment.organisation_id.in_(organisations))
        .order_by(Experiment.created_at.desc(), Experiment.id.desc())
    )
    return [experiment for experiment in found if set(experiment.clinic_ids) <= wanted]


def get_experiment_within(experiment_id: int, clinic_ids: Collection[int]) -> Experiment:
    """The experiment if all its clinics are among `clinic_ids`; NotFound otherwise,
    whether or not it exists."""
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None or not set(experiment.clinic_ids) <= set(clinic_ids):
        raise NotFound("not found")
    return experiment


def clinics_of(experiment: Experiment) -> list[Clinic]:
    """The experiment's clinics, by name."""
    return list(
        db.session.scalars(
            select(Clinic).where(Clinic.id.in_(experiment.clinic_ids)).order_by(Clinic.name)
        )
    )


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def free_slug(title: str) -> str:
    """A slug made from `title` that no experiment has yet ("cost-wording", then
    "cost-wording-2", ...); accents are dropped ("Ŵyn" gives "wyn")."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = _NOT_SLUG.sub("-", plain).strip("-")[:56].strip("-") or "experiment"
    taken = set(db.session.scalars(select(Experiment.slug).where(Experiment.slug.like(f"{base}%"))))
    suffix = 1
    slug = base
    while slug in taken:
        suffix += 1
        slug = f"{base}-{suffix}"
    return slug


def recorded_looks(experiment_id: int) -> list[float]:
    """The information fractions of the decisions recorded so far, oldest first."""
    return list(
        db.session.scalars(
            select(ExperimentDecision.information_fraction)
            .where(ExperimentDecision.experiment_id == experiment_id)
            .order_by(ExperimentDecision.id)
        )
    )


def decisions(experiment_id: int) -> list[ExperimentDecision]:
    return list(
        db.session.scalars(
            select(ExperimentDecision)
            .where(ExperimentDecision.experiment_id == experiment_id)
            .order_by(ExperimentDecision.id)
        )
    )


@dataclass(frozen=True)
class ExperimentProgress:
    """How far an experiment has got: the smaller arm's attended and DNA appointments
    against the planned size per arm, and every appointment assigned."""

    experiment: Experiment
    n_per_arm: int
    assigned: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.n_per_arm / self.experiment.planned_n_per_arm)


def progress_within(
    clinic_ids: Collection[int], counts_of: ArmCountsOf = arm_counts_of
) -> list[ExperimentProgress]:
    """`experiments_within` each with its progress (one read of `counts_of` for all)."""
    experiments = experiments_within(clinic_ids)
    counts = counts_of(experiments)
    return [
        ExperimentProgress(
            experiment,
            min((arm.attended + arm.dna for arm in counts[experiment.id]), default=0),
            sum(arm.assigned for arm in counts[experiment.id]),
        )
        for experiment in experiments
    ]


@dataclass(frozen=True)
class ExperimentView:
    """An experiment as its page shows it: the analysis as it stands, the decisions
    recorded, each look's effects and the boundary path."""

    experiment: Experiment
    clinics: list[Clinic]
    analysis: ExperimentAnalysis
    decisions: list[ExperimentDecision]
    looks: list[Look]
    boundary: list[BoundaryPoint]


def experiment_view(
    experiment_id: int, clinic_ids: Collection[int], counts_of: ArmCountsOf = arm_counts_of
) -> ExperimentView:
    """The experiment's view, if all its clinics are among `clinic_ids` (NotFound
    otherwise), with its arms' counts read by `counts_of`."""
    experiment = get_experiment_within(experiment_id, clinic_ids)
    recorded = decisions(experiment.id)
    analysis = analyse(
        experiment.slug,
        counts_of([experiment])[experiment.id],
        experiment.planned_n_per_arm,
        [decision.information_fraction for decision in recorded],
        alpha=experiment.alpha,
    )
    past = [
        recorded_look(d.information_fraction, d.n_per_arm, d.analysis, d.decided_at)
        for d in recorded
    ]
    now = current_look(analysis) if experiment.status is ExperimentStatus.RUNNING else None
    looks = looks_to_show(past, now)
    return ExperimentView(
        experiment=experiment,
        clinics=clinics_of(experiment),
        analysis=analysis,
        decisions=recorded,
        looks=looks,
        boundary=boundary_path(looks, experiment.alpha),
    )
