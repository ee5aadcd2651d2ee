"""Commands on reminder-wording experiments: create (running, or as a draft to start
later), start, assign arms, analyse, decide, stop, and record downloads.

An appointment is eligible for an experiment when it is booked at one of the
experiment's clinics, starts at or after the experiment's start, and has a reminder
still to send (pending or claimed), so that the wording can still reach the patient.
Its arm comes from `experiments_core.assign_arms` with the experiment's seed and the
clinic id as the stratum: the same appointment always gets the same arm, and assigning
again only adds appointments not assigned yet. Assigners of one experiment take turns
(the experiment row is locked), so no appointment is assigned twice.
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
from sqlalchemy.exc import IntegrityError

from app.appointments.models import Appointment, AppointmentStatus
from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.experiments.analysis import ExperimentAnalysis, analyse
from app.experiments.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    ExperimentDecision,
    ExperimentStatus,
)
from app.experiments.queries import (
    arm_counts,
    find_experiment,
    get_experiment,
    recorded_looks,
    running_experiments,
)
from app.experiments.rules import Decision, assign_arms
from app.experiments.spec import ExperimentSpec
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import OPEN_STATES

_ENDED = {Decision.STOP: ExperimentStatus.STOPPED, Decision.SHIP: ExperimentStatus.SHIPPED}
#: What a stop by staff records as its first reason, and the longest reason they may give.
STOPPED_BY_STAFF = "stopped by staff before the analysis called for it"
MAX_REASON = 500


def create_experiment(
    spec: ExperimentSpec, clock: Clock, *, start: bool = True, actor: Actor | None = None
) -> Experiment:
    """Store a checked definition as a running experiment, or (`start` False) as a draft
    that `start_experiment` starts later; commits. With an `actor`, the creation is
    recorded in the audit log (MANAGE_EXPERIMENT).

    Refuses (Invalid) a taken slug, unknown clinics, clinics of different organisations,
    and (when starting) a clinic already in another running experiment (its reminders
    could only carry one wording).
    """
    if find_experiment(spec.slug) is not None:
        raise Invalid(f"slug: an experiment {spec.slug!r} already exists")
    clinics = _clinics(spec.clinic_slugs)
    if len({clinic.organisation_id for clinic in clinics}) > 1:
        raise Invalid("clinics: all must belong to one organisation")
    if start:
        _check_free([clinic.id for clinic in clinics])
    now = clock.now()
    experiment = Experiment(
        organisation_id=clinics[0].organisation_id,
        slug=spec.slug,
        title=spec.title,
        clinic_ids=[clinic.id for clinic in clinics],
        seed=spec.seed,
        arms=[{"name": a.name, "weight": a.weight, "reminder": a.reminder} for a in spec.arms],
        primary_outcome="dna",
        planned_n_per_arm=spec.planned_n_per_arm,
        alpha=spec.alpha,
        power=spec.power,
        baseline=spec.baseline,
        min_difference=spec.min_difference,
        looks=spec.looks,
        status=ExperimentStatus.RUNNING if start else ExperimentStatus.DRAFT,
        starts_at=spec.starts_at,
        created_at=now,
        updated_at=now,
    )
    db.session.add(experiment)
    try:
        db.session.flush()
    except IntegrityError:  # the same slug, created at the same moment
        db.session.rollback()
        raise Invalid(f"slug: an experiment {spec.slug!r} already exists") from None
    if actor is not None:
        _audit(experiment, "created", clock, actor)
    db.session.commit()
    return experiment


def _check_free(clinic_ids: Sequence[int]) -> None:
    """Invalid if one of the clinics is in a running experiment."""
    busy = {clinic_id: e.slug for e in running_experiments() for clinic_id in e.clinic_ids}
    for index, clinic_id in enumerate(clinic_ids):
        if clinic_id in busy:
            raise Invalid(
                f"clinics[{index}]: {_slug_of(clinic_id)} is in the running experiment "
                f"{busy[clinic_id]}"
            )


def _slug_of(clinic_id: int) -> str:
    return str(db.session.scalar(select(Clinic.slug).where(Clinic.id == clinic_id)))


def _audit(experiment: Experiment, what: str, clock: Clock, actor: Actor, **counts: int) -> None:
    record(
        AuditAction.MANAGE_EXPERIMENT,
        actor,
        clock.now(),
        record_type="experiment",
        record_ids=[experiment.id],
        clinic_id=experiment.clinic_ids[0] if len(experiment.clinic_ids) == 1 else None,
        organisation_id=experiment.organisation_id,
        detail={"what": what, **counts},
    )


def record_export(
    experiment_ids: Sequence[int],
    what: str,
    file_format: str,
    rows: int,
    clock: Clock,
    actor: Actor,
) -> None:
    """Record in the audit log (EXPORT) that a table or chart of these experiments was
    downloaded: which one, in which format, how many rows. Commits."""
    experiments = list(
        db.session.scalars(select(Experiment).where(Experiment.id.in_(sorted(experiment_ids))))
    )
    organisations = {experiment.organisation_id for experiment in experiments}
    clinics = {clinic_id for experiment in experiments for clinic_id in experiment.clinic_ids}
    record(
        AuditAction.EXPORT,
        actor,
        clock.now(),
        record_type="experiment",
        record_ids=sorted(experiment.id for experiment in experiments),
        clinic_id=clinics.pop() if len(clinics) == 1 else None,
        organisation_id=organisations.pop() if len(organisations) == 1 else None,
        detail={"what": f"experiment_{what}", "format": file_format, "rows": rows},
    )
    db.session.commit()


def _clinics(slugs: Sequence[str]) -> list[Clinic]:
    found = {c.slug: c for c in db.session.scalars(select(Clinic).where(Clinic.slug.in_(slugs)))}
    for index, slug in enumerate(slugs):
        if slug not in found:
            raise Invalid(f"clinics[{index}]: no clinic with slug {slug!r}")
    return [found[slug] for slug in slugs]


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
    experiment = _running(slug)
    assigned = Assigned()
    for clinic_id, ids in _eligible_by_clinic(experiment):
        _write(experiment, clinic_id, ids, clock.now(), assigned)
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
        experiment = _lock(found)
        if experiment.status is not ExperimentStatus.RUNNING:
            continue  # ended since it was read
        for clinic_id, ids in _eligible_by_clinic(experiment, among=wanted):
            _write(experiment, clinic_id, ids, clock.now(), assigned)
    return assigned


def _running(slug: str) -> Experiment:
    """The experiment, locked; NotFound if unknown, Invalid if not running."""
    experiment = _lock(get_experiment(slug))
    if experiment.status is ExperimentStatus.DRAFT:
        raise Invalid(f"experiment {slug} has not started")
    if experiment.status is not ExperimentStatus.RUNNING:
        raise Invalid(f"experiment {slug} has {experiment.status.value} and is over")
    return experiment


def _lock(experiment: Experiment) -> Experiment:
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


def analyze_experiment(slug: str) -> ExperimentAnalysis:
    """The analysis of the experiment as things stand; NotFound for an unknown slug."""
    experiment = get_experiment(slug)
    return analyse(
        experiment.slug,
        arm_counts(experiment),
        experiment.planned_n_per_arm,
        recorded_looks(experiment.id),
        alpha=experiment.alpha,
    )


def record_decision(
    slug: str, clock: Clock, actor: Actor | None = None
) -> tuple[ExperimentAnalysis, ExperimentDecision]:
    """Analyse and store the decision with its reasons and numbers; commits. With an
    `actor`, the look is recorded in the audit log (MANAGE_EXPERIMENT).

    "stop" and "ship" end the experiment: no more assignments, and reminders go back to
    the usual wording (a shipped wording is then made the clinic's own). Refuses
    (Invalid) an experiment that has ended or has no outcome in some arm yet.
    """
    experiment = _running(slug)
    analysis = analyze_experiment(slug)
    if analysis.decision is None:
        raise Invalid(f"nothing to decide yet: {'; '.join(analysis.reasons)}")
    now = clock.now()
    decision = ExperimentDecision(
        experiment_id=experiment.id,
        decision=analysis.decision,
        reasons=analysis.reasons,
        analysis=analysis.to_json(),
        n_per_arm=analysis.n_per_arm,
        information_fraction=analysis.information_fraction,
        decided_at=now,
    )
    db.session.add(decision)
    if analysis.decision in _ENDED:
        experiment.status = _ENDED[analysis.decision]
        experiment.updated_at = now
    if actor is not None:
        db.session.flush()
        _audit(experiment, "decided", clock, actor, decision=decision.id)
    db.session.commit()
    return analysis, decision


def _by_id(experiment_id: int) -> Experiment:
    """The experiment's row, locked; NotFound if there is none."""
    found = db.session.get(Experiment, experiment_id)
    if found is None:
        raise NotFound(f"no experiment with id {experiment_id}")
    return _lock(found)


def start_experiment(experiment_id: int, clock: Clock, actor: Actor) -> Assigned:
    """Start a draft: appointments starting from now on are eligible, and those already
    booked with a reminder still to send are assigned at once (later ones as they are
    booked). Recorded in the audit log (MANAGE_EXPERIMENT, with the number assigned);
    commits. NotFound for an unknown experiment; Invalid for one that is not a draft,
    or whose clinic is in another running experiment."""
    experiment = _by_id(experiment_id)
    if experiment.status is not ExperimentStatus.DRAFT:
        raise Invalid(f"experiment {experiment.slug} has already started")
    _check_free(experiment.clinic_ids)
    now = clock.now()
    experiment.status = ExperimentStatus.RUNNING
    experiment.starts_at = now
    experiment.updated_at = now
    db.session.flush()
    assigned = Assigned()
    for clinic_id, ids in _eligible_by_clinic(experiment):
        _write(experiment, clinic_id, ids, now, assigned)
    _audit(experiment, "started", clock, actor, assigned=assigned.total)
    db.session.commit()
    return assigned


def stop_experiment(
    experiment_id: int, reason: str, clock: Clock, actor: Actor
) -> ExperimentDecision:
    """Stop a running experiment now, whatever the analysis says: reminders go back to
    the usual wording. The analysis as it stands is recorded as a "stop" decision with
    the staff member's reason; recorded in the audit log (MANAGE_EXPERIMENT); commits.
    NotFound for an unknown experiment; Invalid for one that is not running or a reason
    that is empty or longer than 500 characters."""
    text = " ".join(reason.split())
    if not text or len(text) > MAX_REASON:
        raise Invalid(f"reason: must be text of 1 to {MAX_REASON} characters")
    experiment = _by_id(experiment_id)
    if experiment.status is not ExperimentStatus.RUNNING:
        raise Invalid(f"experiment {experiment.slug} is not running")
    analysis = analyze_experiment(experiment.slug)
    now = clock.now()
    decision = ExperimentDecision(
        experiment_id=experiment.id,
        decision=Decision.STOP,
        reasons=[STOPPED_BY_STAFF, text, *analysis.reasons],
        analysis=analysis.to_json(),
        n_per_arm=analysis.n_per_arm,
        information_fraction=analysis.information_fraction,
        decided_at=now,
    )
    db.session.add(decision)
    experiment.status = ExperimentStatus.STOPPED
    experiment.updated_at = now
    db.session.flush()
    _audit(experiment, "stopped", clock, actor, decision=decision.id)
    db.session.commit()
    return decision
